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
import json
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import IO, TYPE_CHECKING, Any

from ..spec.paths import may_block

# Set (to 0.0) by a server that can delay an answer without blocking; the app then puts the
# seconds to wait there instead of sleeping.
from .dispatch import DELAY_KEY

if TYPE_CHECKING:
    from granian._granian import RSGIHeaders as Headers
    from granian._granian import RSGIHTTPProtocol as HTTPProtocol
    from granian.rsgi import Scope

# How much of a too-long body is read and dropped before the 413 goes out.
_DRAIN_BYTES = 1024 * 1024
# A body of any size (a state import) is kept in memory up to this, then in a temporary file.
_SPOOL_BYTES = 1024 * 1024

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class RSGIBridge:
    """An RSGI application (``__rsgi__``) serving a WSGI app."""

    def __init__(
        self,
        app: WSGIApp,
        body_limit: int,
        unlimited: Callable[[str, str], bool] | None = None,
        body_timeout: float = 30.0,
        blocking_threads: int | None = None,
    ):
        self.app = app
        # Requests that may wait on another server run on threads of their own: asyncio's
        # default pool (min(32, cores + 4), 6 on 2 cores) is smaller than the forwarding and
        # agent-call pools together, so a full pool of slow tools would hold up calls the
        # mock answers itself. None: asyncio's default pool.
        self._blocking = (
            ThreadPoolExecutor(blocking_threads, thread_name_prefix="runagents-mock-blocking")
            if blocking_threads
            else None
        )
        self.body_limit = body_limit  # read at most this much (+ one chunk); the app answers the 413
        self.unlimited = unlimited  # (method, path) -> bodies of any size go there (a state import)
        self.body_timeout = body_timeout
        self._base = {
            "SCRIPT_NAME": "",
            "wsgi.version": (1, 0),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.input_terminated": True,
        }

    async def __rsgi__(self, scope: Scope, protocol: HTTPProtocol) -> None:
        headers = scope.headers
        limit = None if self.unlimited is not None and self.unlimited(scope.method, scope.path) else self.body_limit
        try:
            # No body expected: nothing to wait for (wait_for costs a task per request).
            body = (
                await asyncio.wait_for(self._read_body(headers, protocol, limit), self.body_timeout)
                if "content-length" in headers or "transfer-encoding" in headers
                else b""
            )
        except TimeoutError:
            _refuse(protocol, 408, f"request body not received within {self.body_timeout:g} seconds")
            return
        except (RuntimeError, OSError, _CutBody):  # granian's RSGIProtocolClosed/Error: short body, client gone
            _refuse(
                protocol,
                400,
                "request body ended before its Content-Length"
                if "content-length" in headers
                else "request body ended before its last chunk",
            )
            return
        environ = self._environ(scope, body)
        if may_block(environ["REQUEST_METHOD"], environ["PATH_INFO"]):
            # Its answer waits on another server (a tool, an agent) that may call back into
            # the mock: run it on a thread so the loop keeps serving.
            loop = asyncio.get_running_loop()
            status, answer_headers, result = await loop.run_in_executor(self._blocking, self._call, environ)
        else:
            status, answer_headers, result = self._call(environ)
        try:
            if environ[DELAY_KEY]:
                await asyncio.sleep(environ[DELAY_KEY])
            if any(name.lower() == "content-length" for name, _ in answer_headers):
                protocol.response_bytes(status, answer_headers, b"".join(result))
                return
            # Streamed (SSE, a state export): each chunk is made and sent in turn, never the
            # whole stream in memory.
            transport = protocol.response_stream(status, answer_headers)
            for index, chunk in enumerate(result):
                if chunk:
                    await transport.send_bytes(chunk)
                if index % 64 == 63:
                    await asyncio.sleep(0)  # a long stream lets other requests in between
        finally:
            close = getattr(result, "close", None)
            if close:
                close()
            if not isinstance(body, bytes):
                body.close()  # a spooled body's temporary file

    async def _read_body(self, headers: Headers, protocol: HTTPProtocol, limit: int | None) -> bytes | IO[bytes]:
        """The whole body (spooled, when there is no limit), or its first ``body_limit`` bytes and
        a little more: the app refuses anything that long anyway, and the rest is never read. A declared length over the limit
        is read and dropped when it is at most _DRAIN_BYTES over (so the client, still sending,
        gets the 413 rather than a reset), and not read at all beyond that."""
        if limit is None:
            return await _spooled(headers, protocol)
        length = headers.get("content-length")
        if length is not None and length.isdigit():
            if int(length) <= limit:
                # Whole: granian raises when the client stops short of the declared length.
                return await protocol()
            if int(length) > limit + _DRAIN_BYTES:
                return b""
        parts, size = [], 0
        async for chunk in _chunks(protocol):
            size += len(chunk)
            if size <= limit + len(chunk):
                parts.append(chunk)
            elif size > limit + _DRAIN_BYTES:
                break
            # Past the limit: read on but drop (up to _DRAIN_BYTES), so that a client still
            # sending gets the 413 instead of a reset connection.
        return b"".join(parts)

    def _environ(self, scope: Scope, body: bytes | IO[bytes]) -> dict[str, Any]:
        server_host, _, server_port = scope.server.rpartition(":")
        client_host, _, client_port = scope.client.rpartition(":")
        environ = {
            **self._base,
            "REQUEST_METHOD": scope.method,
            # RSGI gives the path percent-decoded as text; WSGI wants its bytes as latin-1.
            "PATH_INFO": scope.path.encode("utf-8").decode("latin-1"),
            "QUERY_STRING": scope.query_string,
            "SERVER_NAME": server_host,
            "SERVER_PORT": server_port,
            "REMOTE_ADDR": client_host,
            "REMOTE_PORT": client_port,
            "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
            "wsgi.url_scheme": scope.scheme,
            "wsgi.input": io.BytesIO(body) if isinstance(body, bytes) else body,
            DELAY_KEY: 0.0,
        }
        for name, value in scope.headers.items():
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
            environ[key] = f"{environ[key]}, {value}" if key in environ else value
        # The body is read and de-chunked: the app sees its length, as waitress shows it.
        size = len(body) if isinstance(body, bytes) else body.seek(0, io.SEEK_END)
        if not isinstance(body, bytes):
            body.seek(0)
        if environ.pop("HTTP_TRANSFER_ENCODING", None) is not None or size:
            environ["CONTENT_LENGTH"] = str(size)
        return environ

    def _call(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], Iterable[bytes]]:
        """Status, headers and the (not yet consumed) body; the caller closes the body."""
        started: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            started[:] = [int(status[:3]), headers]
            return _no_write

        result = self.app(environ, start_response)
        if not started:  # a lazy app starts the response with its first chunk
            result = _prefetched(result)
        return started[0], started[1], result


class _CutBody(Exception):
    """The body stream ended with an error: the client left before the body was complete."""


async def _chunks(protocol: HTTPProtocol) -> AsyncIterator[bytes]:
    """The body's chunks; _CutBody when it was cut short. granian's iterator yields one empty
    chunk at the end of the body, and also one in place of an error (the client hung up before
    the last chunk), then the end's. So a chunk after an empty one means the body was cut
    short. (Request trailers arrive the same way and cannot be told apart: such a body is
    refused too.)"""
    ended = False
    async for chunk in protocol:
        if ended:
            raise _CutBody
        if not chunk:
            ended = True
            continue
        yield chunk


async def _spooled(headers: Headers, protocol: HTTPProtocol) -> IO[bytes]:
    """A body of any size (a state import), in a temporary file once past _SPOOL_BYTES rather
    than in memory: the app reads it as a stream (docs/reliability.md, *Memory*)."""
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 (closed after the answer)
    try:
        async for chunk in _chunks(protocol):
            spool.write(chunk)
        length = headers.get("content-length")
        if length is not None and length.isdigit() and spool.tell() != int(length):
            raise _CutBody
    except BaseException:
        spool.close()
        raise
    return spool


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

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.gen)

    def close(self) -> None:
        close = getattr(self.result, "close", None)
        if close:
            close()


def _refuse(protocol: HTTPProtocol, status: int, message: str) -> None:
    """Answer a request that never reached the app; the client may be gone already."""
    try:
        protocol.response_bytes(
            status,
            [("content-type", "application/json"), ("connection", "close")],
            json.dumps({"error": message}).encode(),
        )
    except (RuntimeError, OSError):
        pass


def _no_write(data: bytes) -> None:
    raise NotImplementedError("the write() callable is not supported")
