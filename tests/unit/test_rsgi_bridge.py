"""RSGIBridge: the WSGI environ it builds from granian's RSGI scope, bodies, delays, streaming.

Driven with stand-ins for granian's scope and protocol objects, so these run without a server
(tests/reliability and tests/security run the real thing through `runagents-mock serve`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from typing import Any

import pytest

from mockserver.surface.control import reads_own_body
from mockserver.web.rsgi_bridge import DELAY_KEY, RSGIBridge


def run_async(coro):
    """asyncio.run on a thread of its own: a session-wide Playwright (the browser tests, on the
    same xdist worker) keeps an event loop running in the main thread."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class Headers:
    """Granian's RSGIHeaders: lower-case names, repeats kept, membership and get()."""

    def __init__(self, items: list[tuple[str, str]]):
        self._items = items

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def get(self, name: str, default: Any = None) -> Any:
        return next((v for k, v in self._items if k == name), default)

    def __contains__(self, name: str) -> bool:
        return any(k == name for k, _ in self._items)


class Scope:
    def __init__(
        self, method: str = "GET", path: str = "/", query: str = "", headers: list[tuple[str, str]] | None = None
    ):
        self.method, self.path, self.query_string = method, path, query
        self.headers = Headers(headers or [])
        self.server, self.client = "127.0.0.1:8092", "127.0.0.1:50000"
        self.scheme, self.http_version = "http", "1.1"


class Protocol:
    """Hands out the body (whole, or in chunks) and records the answer. Like granian's, its
    iterator ends a body with one empty chunk; a body the client ``cut`` short gets an empty
    chunk in place of the error, then the end's."""

    def __init__(self, chunks: list[bytes] = (), cut: bool = False):
        self.chunks = list(chunks)
        self.cut = cut
        self.read = 0  # bytes handed out
        self.answer: tuple[int, list[tuple[str, str]], bytes] | None = None
        self.streamed: list[bytes] = []

    async def __call__(self) -> bytes:
        body = b"".join(self.chunks)
        self.read += len(body)
        return body

    async def _iterate(self):
        for chunk in self.chunks:
            self.read += len(chunk)
            yield chunk
        if self.cut:
            yield b""
        yield b""

    def __aiter__(self):
        return self._iterate()

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.answer = (status, headers, body)

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> Protocol:
        self.answer = (status, headers, b"")
        return self

    async def send_bytes(self, data: bytes) -> None:
        self.streamed.append(data)


def echo_app(environ: dict[str, Any], start_response) -> list[bytes]:
    """Answers with what a WSGI app sees of the request."""
    seen = {k: v for k, v in environ.items() if isinstance(v, (str, float)) and k != "wsgi.url_scheme"}
    seen["body"] = environ["wsgi.input"].read().decode("latin-1")
    data = json.dumps(seen).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def serve(scope: Scope, protocol: Protocol, app=echo_app, body_limit: int = 1024) -> dict[str, Any]:
    run_async(RSGIBridge(app, body_limit).__rsgi__(scope, protocol))
    return json.loads(protocol.answer[2]) if protocol.answer[2] else {}


def test_request_line_and_headers_become_the_wsgi_environ():
    seen = serve(
        Scope(
            "POST",
            "/api/tools/caf\u00e9",
            "a=1&b=2",
            [
                ("host", "mock"),
                ("authorization", "Bearer k"),
                ("x-tag", "one"),
                ("x-tag", "two"),
                ("content-type", "application/json"),
                ("content-length", "2"),
            ],
        ),
        Protocol([b"{}"]),
    )
    assert seen["REQUEST_METHOD"] == "POST"
    # WSGI carries the path's UTF-8 bytes as latin-1 text (PEP 3333); werkzeug turns it back.
    assert seen["PATH_INFO"] == "/api/tools/caf\u00c3\u00a9"
    assert seen["QUERY_STRING"] == "a=1&b=2"
    assert seen["HTTP_AUTHORIZATION"] == "Bearer k"
    assert seen["HTTP_X_TAG"] == "one, two"
    assert seen["CONTENT_TYPE"] == "application/json" and "HTTP_CONTENT_TYPE" not in seen
    assert seen["CONTENT_LENGTH"] == "2" and seen["body"] == "{}"
    assert (seen["SERVER_NAME"], seen["SERVER_PORT"], seen["REMOTE_ADDR"]) == ("127.0.0.1", "8092", "127.0.0.1")


def test_a_request_without_a_body_is_not_waited_for():
    protocol = Protocol([b"never read"])
    seen = serve(Scope("GET", "/api/tools"), protocol)
    assert protocol.read == 0 and seen["body"] == "" and "CONTENT_LENGTH" not in seen


def test_a_chunked_body_is_read_whole_and_given_its_length():
    seen = serve(Scope("POST", "/x", headers=[("transfer-encoding", "chunked")]), Protocol([b"ab", b"cd", b"e"]))
    assert seen["body"] == "abcde" and seen["CONTENT_LENGTH"] == "5"
    assert "HTTP_TRANSFER_ENCODING" not in seen  # the app sees a plain body, as waitress shows it


def test_reading_a_chunked_body_stops_soon_after_the_limit():
    protocol = Protocol([b"x" * 100] * 50)
    seen = serve(Scope("POST", "/x", headers=[("transfer-encoding", "chunked")]), protocol, body_limit=1000)
    # Just past the limit is enough for the app to refuse it; the rest is read (for the
    # client's sake: it gets the 413, not a reset) and dropped, up to 1 MiB.
    assert 1000 < int(seen["CONTENT_LENGTH"]) <= 1100
    assert protocol.read == 5000
    huge = Protocol([b"x" * 65536] * 100)
    serve(Scope("POST", "/x", headers=[("transfer-encoding", "chunked")]), huge, body_limit=1000)
    assert huge.read < 1000 + 1024 * 1024 + 65536


def test_a_declared_length_over_the_limit_is_drained_then_not_read_at_all():
    protocol = Protocol([b"x" * 100] * 50)
    seen = serve(Scope("POST", "/x", headers=[("content-length", "5000")]), protocol, body_limit=1000)
    # Read (the client gets the 413, not a reset) but kept only just past the limit, which
    # the app refuses.
    assert protocol.read == 5000
    assert 1000 < int(seen["CONTENT_LENGTH"]) == len(seen["body"]) <= 1100
    huge = Protocol([b"x" * 65536] * 100)
    seen = serve(Scope("POST", "/x", headers=[("content-length", str(65536 * 100))]), huge, body_limit=1000)
    # More than 1 MiB over: not read at all; the app refuses the declared length.
    assert huge.read == 0 and seen["body"] == "" and seen["CONTENT_LENGTH"] == str(65536 * 100)


class ShortProtocol(Protocol):
    """granian raises when the client half-closes before its Content-Length is complete."""

    async def __call__(self) -> bytes:
        raise RuntimeError("RSGI transport is closed")


class StalledProtocol(Protocol):
    async def __call__(self) -> bytes:
        await asyncio.sleep(30)
        return b""


@pytest.mark.parametrize(
    "protocol, status", [(ShortProtocol(), 400), (StalledProtocol(), 408)], ids=["short", "stalled"]
)
def test_a_short_or_stalled_body_never_reaches_the_app(protocol, status):
    called = []

    def app(environ, start_response):
        called.append(True)
        return echo_app(environ, start_response)

    bridge = RSGIBridge(app, 1024, body_timeout=0.05)
    run_async(bridge.__rsgi__(Scope("POST", "/runs", headers=[("content-length", "50")]), protocol))
    assert not called
    assert protocol.answer[0] == status and "error" in json.loads(protocol.answer[2])


@pytest.mark.parametrize(
    "header, message",
    [
        (("transfer-encoding", "chunked"), "request body ended before its last chunk"),
        (("content-length", "40"), "request body ended before its Content-Length"),  # over the limit: read in chunks
    ],
)
def test_a_body_whose_client_left_before_its_end_never_reaches_the_app(header, message):
    called = []

    def app(environ, start_response):
        called.append(True)
        return echo_app(environ, start_response)

    protocol = Protocol([b'{"agent_id": "a"', b', "user_id": "u"}'], cut=True)
    run_async(RSGIBridge(app, 20).__rsgi__(Scope("POST", "/runs", headers=[header]), protocol))
    assert not called
    assert protocol.answer[0] == 400 and json.loads(protocol.answer[2]) == {"error": message}


def test_a_delay_asked_for_by_the_app_is_waited_on_the_loop_before_answering():
    def slow_app(environ, start_response):
        assert environ[DELAY_KEY] == 0.0  # the bridge offers to wait
        environ[DELAY_KEY] = 0.2
        start_response("200 OK", [("Content-Length", "2")])
        return [b"{}"]

    async def scenario() -> list[str]:
        bridge, order = RSGIBridge(slow_app, 1024), []
        slow, quick = Protocol(), Protocol()

        async def run(name: str, protocol: Protocol, app_bridge: RSGIBridge) -> None:
            await app_bridge.__rsgi__(Scope("GET", "/"), protocol)
            order.append(name)

        await asyncio.gather(run("slow", slow, bridge), run("quick", quick, RSGIBridge(echo_app, 1024)))
        return order

    # While the slow answer waits, the loop serves the other request.
    assert run_async(scenario()) == ["quick", "slow"]


def test_an_answer_without_a_length_is_streamed_chunk_by_chunk_as_it_is_produced():
    order: list[str] = []

    class Recording(Protocol):
        async def send_bytes(self, data: bytes) -> None:
            order.append("sent " + data.decode())
            self.streamed.append(data)

    def sse_app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/event-stream")])

        def events():
            for chunk in ("1", "", "[DONE]"):
                order.append("made " + chunk)
                yield chunk.encode()

        return events()

    protocol = Recording()
    run_async(RSGIBridge(sse_app, 1024).__rsgi__(Scope("POST", "/v1/chat/completions"), protocol))
    assert protocol.answer[0] == 200
    # Each chunk is sent before the next is made (empty ones are skipped): never all at once.
    assert order == ["made 1", "sent 1", "made ", "made [DONE]", "sent [DONE]"]


def test_the_app_iterable_is_closed():
    closed = []

    class Body(list):
        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("204 No Content", [("Content-Length", "0")])
        return Body([b""])

    protocol = Protocol()
    run_async(RSGIBridge(app, 1024).__rsgi__(Scope(), protocol))
    assert protocol.answer[0] == 204 and closed == [True]


@pytest.mark.parametrize("path", ["/_mock/state", "/_mock/workspaces/acme/state"])
def test_the_state_imports_read_bodies_of_any_size(path):
    # A state import (PUT /_mock/state, also a workspace's) may be larger than any API body.
    protocol = Protocol([b"x" * 100] * 50)
    scope = Scope("PUT", path, headers=[("transfer-encoding", "chunked")])
    run_async(RSGIBridge(echo_app, 1000, unlimited=reads_own_body).__rsgi__(scope, protocol))
    assert protocol.read == 5000 and json.loads(protocol.answer[2])["CONTENT_LENGTH"] == "5000"


def test_a_state_import_is_spooled_to_a_file_not_kept_in_memory():
    seen: list[Any] = []

    def app(environ: dict[str, Any], start_response) -> list[bytes]:
        seen.append(environ["wsgi.input"])
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Length", "0")])
        return [b""] if body == b"x" * 3_000_000 else [b"wrong"]

    protocol = Protocol([b"x" * 100_000] * 30)
    scope = Scope("PUT", "/_mock/state", headers=[("content-length", "3000000")])
    run_async(RSGIBridge(app, 1000, unlimited=reads_own_body).__rsgi__(scope, protocol))
    assert protocol.answer[0] == 200 and protocol.answer[2] == b""
    assert seen[0]._rolled and seen[0].closed  # on disk past 1 MiB, and closed after the answer


@pytest.mark.parametrize("cut", [True, False], ids=["client gone", "short of its length"])
def test_a_state_import_cut_short_is_a_400(cut):
    protocol = Protocol([b"{}"] * 3, cut=cut)
    scope = Scope("PUT", "/_mock/state", headers=[("content-length", "100")])
    run_async(RSGIBridge(echo_app, 1000, unlimited=reads_own_body).__rsgi__(scope, protocol))
    assert protocol.answer[0] == 400
    assert json.loads(protocol.answer[2]) == {"error": "request body ended before its Content-Length"}


def test_other_control_calls_keep_the_body_limit():
    protocol = Protocol([b"x" * 100] * 50)
    scope = Scope("GET", "/_mock/state", headers=[("transfer-encoding", "chunked")])
    run_async(RSGIBridge(echo_app, 1000, unlimited=reads_own_body).__rsgi__(scope, protocol))
    assert int(json.loads(protocol.answer[2])["CONTENT_LENGTH"]) <= 1100  # the limit and one chunk, for the 413


def test_calls_the_mock_answers_itself_are_not_held_up_by_a_full_set_of_slow_forwards():
    """Eight requests that wait on another server (four forwarded tool calls, four agent calls:
    both pools full) hold eight threads; asyncio's default pool has six on two cores, so a
    ninth blocking request, one the mock answers at once, waited for them (issue 23, item 3)."""
    release = __import__("threading").Event()

    def app(environ, start_response):
        if environ["PATH_INFO"].endswith("/slow"):
            release.wait(10)
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]

    bridge = RSGIBridge(app, body_limit=1024, blocking_threads=12)

    async def scenario():
        slow = [
            asyncio.ensure_future(bridge.__rsgi__(Scope("GET", f"/_egress/ns/a/t{i}/slow"), Protocol()))
            for i in range(8)
        ]
        await asyncio.sleep(0.2)  # the eight are on their threads, waiting
        quick = Protocol()
        await asyncio.wait_for(bridge.__rsgi__(Scope("GET", "/_egress/ns/a/t9/quick"), quick), 5)
        held = sum(not task.done() for task in slow)
        release.set()
        await asyncio.gather(*slow)
        return quick.answer, held

    answer, held = run_async(scenario())
    assert answer is not None and answer[0] == 200
    assert held == 8  # answered while every slow one still waited


def test_serve_sizes_the_blocking_threads_from_both_pools():
    from mockserver.config import MockConfig
    from mockserver.web.granian_serve import blocking_threads

    config = MockConfig(forward_slots=4, agent_slots=4)
    assert blocking_threads(config) > config.forward_slots + config.agent_slots
