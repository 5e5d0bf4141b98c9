"""Small loopback HTTP helpers: a keep-alive client, free ports, waiting for a server."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit


class KeepAliveClient:
    """One persistent HTTP/1.1 connection; reconnects once if the server closed it."""

    def __init__(self, base_url: str, timeout: float = 10.0):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes | None = None
    ) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self._conn.request(method, path, body=body, headers=dict(headers))
                reply = self._conn.getresponse()
                return reply.status, reply.read()
            except (ConnectionError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_answering(
    base_url: str, path: str, headers: Mapping[str, str], timeout: float, alive: Callable[[], bool] = lambda: True
) -> float:
    """Poll until the server answers anything below 500; returns seconds waited."""
    started = time.perf_counter()
    while True:
        if not alive():
            raise RuntimeError("server process exited before answering")
        try:
            status, _ = KeepAliveClient(base_url, timeout=2).request("GET", path, headers)
            if status < 500:
                return time.perf_counter() - started
        except OSError:
            pass
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"{base_url}{path} did not answer within {timeout:.0f}s")
        time.sleep(0.05)
