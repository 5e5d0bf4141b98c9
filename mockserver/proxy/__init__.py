"""``runagents-mock proxy``: a validating, recording proxy in front of a RunAgents server.

Every exchange is forwarded unchanged and checked against the spec with the mock's own checks
(``Operation.parse`` for requests, ``conformance.response_issues`` for responses).

- ``config``: what one proxy was asked to do
- ``upstream``: forwarding to the real server (urllib3, streamed)
- ``exchange``: one request and its answer, with the bounded copies of the bodies
- ``validation``: an exchange's problems, as the conformance reports' ``Deviation`` records
- ``findings``: what the session saw, the live lines and the end-of-session report
- ``recorder``: the state the traffic revealed, as a seed fixture
- ``har``: the exchanges as HAR 1.2
- ``app``: the WSGI app that routes each request to the upstream or the built-in mock
- ``cli``: the ``proxy`` subcommand
"""

from .app import ProxyApp
from .config import ProxyConfig

__all__ = ["ProxyApp", "ProxyConfig"]
