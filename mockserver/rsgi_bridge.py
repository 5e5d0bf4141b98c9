"""Run the mock's WSGI app on granian's RSGI interface, one request at a time on its event loop.

Why not granian's own WSGI mode: it hands a request to a Python thread as soon as the headers
are in, and that thread then blocks reading the body. A client that stalls mid-body holds the
thread, and with few threads every other client waits (granian has no body timeout). Here the
body is awaited on the event loop first, so a stalled client costs nothing, and only complete
requests reach the app, which answers them without blocking (the mock never waits on I/O).

Injected latency (``/_mock/faults``) must not block the loop either: the app leaves the delay in
the WSGI environ under ``DELAY_KEY`` instead of sleeping, and the bridge waits that long on the
loop before sending the answer.
"""

from __future__ import annotations

import asyncio
import io
import sys
from typing import Any, Callable, Iterable

# Set (to 0.0) by a server that can delay an answer without blocking; the app then puts the
# seconds to wait there instead of sleeping.
DELAY_KEY = "runagents_mock.answer_delay"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class RSGIBridge:
    """An RSGI application (``__rsgi__``) serving a WSGI app."""

    def __init__(self, app: WSGIApp, body_limit: int, unlimited_path: str | None = None):
        self.app = app
        self.body_limit = body_limit  # read at most this much; the app answers 413 above its own limit
        self.unlimited_path = unlimited_path  # bodies of any size (a state import) go here
        self._base = {
            "SCRIPT_NAME": "", "wsgi.version": (1, 0), "wsgi.errors": sys.stderr,
            "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
            "wsgi.input_terminated": True,
        }

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        limit = None if scope.path == self.unlimited_path else self.body_limit
        body = await self._read_body(scope.headers, protocol, limit)
        environ = self._environ(scope, body)
        status, headers, result = self._call(environ)
        try:
            if environ[DELAY_KEY]:
                await asyncio.sleep(environ[DELAY_KEY])
            if any(name.lower() == "content-length" for name, _ in headers):
                protocol.response_bytes(status, headers, b"".join(result))
                return
            # Streamed (SSE, a state export): each chunk is made and sent in turn, and other
            # requests are answered between chunks.
            transport = protocol.response_stream(status, headers)
            for chunk in result:
                if chunk:
                    await transport.send_bytes(chunk)
        finally:
            close = getattr(result, "close", None)
            if close:
                close()

    async def _read_body(self, headers: Any, protocol: Any, limit: int | None) -> bytes:
        """The whole body, or its first ``body_limit`` bytes and a little more: the app refuses
        anything that long anyway, and the rest is never read."""
        length = headers.get("content-length")
        if length is None and "transfer-encoding" not in headers:
            return b""  # awaiting a body that cannot come would still cost a loop round trip
        if length is not None and length.isdigit() and (limit is None or int(length) <= limit):
            return await protocol()
        parts, size = [], 0
        async for chunk in protocol:
            parts.append(chunk)
            size += len(chunk)
            if limit is not None and size > limit:
                break
        return b"".join(parts)

    def _environ(self, scope: Any, body: bytes) -> dict[str, Any]:
        server_host, _, server_port = scope.server.rpartition(":")
        client_host, _, client_port = scope.client.rpartition(":")
        environ = {
            **self._base,
            "REQUEST_METHOD": scope.method,
            # RSGI gives the path percent-decoded as text; WSGI wants its bytes as latin-1.
            "PATH_INFO": scope.path.encode("utf-8").decode("latin-1"),
            "QUERY_STRING": scope.query_string,
            "SERVER_NAME": server_host, "SERVER_PORT": server_port,
            "REMOTE_ADDR": client_host, "REMOTE_PORT": client_port,
            "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
            "wsgi.url_scheme": scope.scheme,
            "wsgi.input": io.BytesIO(body),
            DELAY_KEY: 0.0,
        }
        for name, value in scope.headers.items():
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
            environ[key] = f"{environ[key]}, {value}" if key in environ else value
        # The body is read and de-chunked: the app sees its length, as waitress shows it.
        if environ.pop("HTTP_TRANSFER_ENCODING", None) is not None or body:
            environ["CONTENT_LENGTH"] = str(len(body))
        return environ

    def _call(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], Iterable[bytes]]:
        """Status, headers and the (not yet consumed) body; the caller closes the body."""
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            started[:] = [int(status[:3]), headers]
            return _no_write

        result = self.app(environ, start_response)
        if not started:  # a lazy app starts the response with its first chunk
            result = _prefetched(result)
        return started[0], started[1], result


def _prefetched(result: Iterable[bytes]) -> Iterable[bytes]:
    iterator = iter(result)
    first = next(iterator, b"")

    def chunks() -> Iterable[bytes]:
        yield first
        yield from iterator

    gen = chunks()
    return _Closing(gen, result)


class _Closing:
    """An iterator over ``gen`` whose close() also closes the app's result."""

    def __init__(self, gen: Iterable[bytes], result: Any):
        self.gen, self.result = gen, result

    def __iter__(self):
        return iter(self.gen)

    def close(self) -> None:
        close = getattr(self.result, "close", None)
        if close:
            close()


def _no_write(data: bytes) -> None:
    raise NotImplementedError("the write() callable is not supported")
