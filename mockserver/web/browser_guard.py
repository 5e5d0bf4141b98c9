"""What keeps web pages from driving a mock on the developer's machine (issue 23, item 5).

The outermost WSGI layer, in front of every surface (the API, ``/_mock/``, the runtime path,
the console): a page on another origin can neither change state (CSRF) nor read it through a
name that resolves to the mock (DNS rebinding). Clients that are not browsers (the SDKs, the
CLIs, curl, the OpenAI client) send no ``Origin`` and the mock's own address as ``Host``, so
they pass untouched.

- ``Host`` must name the mock: an IP address (a rebinding page cannot make the browser send
  one: it sends its own name), ``localhost`` or a ``*.localhost`` name, or a name allowed with
  ``--allow-host`` (a bound ``--host`` name is allowed too). Otherwise 403.
- A state-changing request (any method but GET, HEAD, OPTIONS) that carries an ``Origin`` must
  come from the mock's own origin (scheme, host and port of the request), so the console keeps
  working; another origin, or ``Origin: null`` (sandboxed frames, files), is a 403. The ingress
  path (``/_ingress/``) keeps the platform's own origin rule (the agent's allowed domains).
- A body whose type is one a web form can send without asking (``text/plain``,
  ``application/x-www-form-urlencoded``, ``multipart/form-data``) is refused with 415 unless the
  operation documents that type (``spec/security.py`` ``body_type_refusal``, called where the
  operation is known: the dispatcher, the control API, the runtime path).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..basics.jsonhttp import error_body
from ..spec.paths import INGRESS_PREFIX, WORKSPACE_RUNTIME_PREFIX

log = logging.getLogger("runagents_mock")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def host_name(host_header: str) -> str:
    """The name part of a Host header: no port, no IPv6 brackets, lower case."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class BrowserGuard:
    """WSGI middleware: refuses foreign Host headers and cross-origin state changes."""

    def __init__(self, app: WSGIApp, allowed_hosts: Iterable[str] = ()):
        self.app = app
        self.allowed_hosts = frozenset(name.strip().lower().rstrip(".") for name in allowed_hosts if name.strip())
        # Host header values already found allowed: a client sends the same one on every request,
        # and parsing it as an IP address costs more than the rest of this check. Bounded.
        self._known_hosts: set[str] = set()

    def host_allowed(self, name: str) -> bool:
        name = name.rstrip(".")
        return (
            not name or _is_ip(name) or name == "localhost" or name.endswith(".localhost") or name in self.allowed_hosts
        )

    def refusal(self, environ: Mapping[str, Any]) -> str | None:
        host = environ.get("HTTP_HOST", "")
        if host not in self._known_hosts:
            name = host_name(host)
            if not self.host_allowed(name):
                return (
                    f"Host {name} is not this mock's address: use 127.0.0.1 or localhost, "
                    f"or start it with --allow-host {name}"
                )
            if len(self._known_hosts) < 64:
                self._known_hosts.add(host)
        origin = environ.get("HTTP_ORIGIN")
        if origin is None or environ.get("REQUEST_METHOD", "GET") in _SAFE_METHODS:
            return None
        path = environ.get("PATH_INFO", "")
        if path.startswith(WORKSPACE_RUNTIME_PREFIX):  # a named workspace's runtime path
            path = "/" + path[len(WORKSPACE_RUNTIME_PREFIX) :].partition("/")[2]
        if path.startswith(INGRESS_PREFIX):
            return None  # the ingress path has the platform's origin rule (runtime/ingress.py)
        own = f"{environ.get('wsgi.url_scheme', 'http')}://{host.strip().lower()}"
        if origin.strip().lower().rstrip("/") != own:
            return f"cross-origin request refused: Origin {origin.strip()[:200]} is not this mock's origin"
        return None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        refusal = self.refusal(environ)
        if refusal is None:
            return self.app(environ, start_response)
        log.warning("refused %s %s: %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), refusal)
        data = error_body(refusal)
        start_response("403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]
