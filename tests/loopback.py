"""A loopback HTTP server standing in for a tool or an agent endpoint (shared by the runtime
and reliability tests)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackTool:
    """A tool (or an agent endpoint) on 127.0.0.1: records each request target it receives
    (``received``) and answers ``answer(path, headers)``, by default ``{"path", "headers"}`` as
    it got them. With ``hold``, each request is counted on ``arrived`` and waits until
    ``release`` is set (at most 90 s, so a broken test never hangs the run)."""

    def __init__(self, hold: bool = False, answer: Callable[[str, Any], dict[str, Any]] | None = None):
        answer = answer or (lambda path, headers: {"path": path, "headers": dict(headers)})
        self.received: list[str] = []
        self.arrived = threading.Semaphore(0)
        self.release = threading.Event()
        tool = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                tool.received.append(self.path)
                if hold:
                    tool.arrived.release()
                    tool.release.wait(90)
                body = json.dumps(answer(self.path, self.headers)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:  # the mock gave up on us (its timeout): nothing to answer
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
