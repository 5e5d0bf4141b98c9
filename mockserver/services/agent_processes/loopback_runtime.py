"""Runs the vendor runtime (``python -m runagents.runtime``) as an agent of the mock, run as a
script (no mockserver import): ``python -I loopback_runtime.py [SDK_DIR]``.

Two things differ from a plain ``python -m runagents.runtime``: ``SDK_DIR`` (a directory that
holds the ``runagents`` package, from ``--agent-sdk``) goes first on ``sys.path``, and the
runtime's server binds 127.0.0.1 instead of 0.0.0.0 (on the platform it listens inside a pod;
here only the mock should reach it).
"""

import socketserver
import sys

if len(sys.argv) > 1 and sys.argv[1]:
    sys.path.insert(0, sys.argv[1])

_bind = socketserver.TCPServer.server_bind


def _loopback_bind(self):  # type: ignore[no-untyped-def]
    self.server_address = ("127.0.0.1", self.server_address[1])
    _bind(self)


socketserver.TCPServer.server_bind = _loopback_bind  # type: ignore[method-assign]
sys.argv = ["runagents.runtime"]
# What `python -m runagents.runtime` runs. (The package's __init__ imports the runtime module
# already, so running it again as __main__ would load it twice.)
from runagents.runtime import main  # noqa: E402

main()
