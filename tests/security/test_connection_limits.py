"""Connection limits of `runagents-mock serve` on both servers: silent, idle and stalled
connections are closed after `--idle-timeout` / `--body-timeout`, and a body cut short is never
processed.

Each server runs with 1 s timeouts; every wait below is bounded (a few seconds), and at most
16 sockets are opened, all on loopback.
"""

from __future__ import annotations

import json
import socket
import time
from contextlib import ExitStack

import pytest
from reliability_support import AUTH, Client, ServedMock, host_port, http_request_bytes, parse_raw_response

TIMEOUTS = ("--idle-timeout", "1", "--body-timeout", "1")
CLOSE_DEADLINE = 8.0  # seconds: well past the 1 s timeouts, so this is a bound, not a speed check


@pytest.fixture(scope="module", params=["granian", "waitress"])
def served(request):
    with ServedMock(
        "--server", request.param, "--api-key", AUTH["Authorization"].split()[1], "--max-connections", "8", *TIMEOUTS
    ) as mock:
        yield mock


def _closed_by_server(sock: socket.socket) -> bytes:
    """What the server sent before it closed the connection; fails when it stays open."""
    sock.settimeout(CLOSE_DEADLINE)
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except TimeoutError:
        raise AssertionError(f"connection still open after {CLOSE_DEADLINE}s (got {data[:80]!r})") from None
    except ConnectionResetError:
        pass
    return data


def test_a_connection_that_never_sends_a_byte_is_closed(served):
    with socket.create_connection(host_port(served.url)) as sock:
        assert _closed_by_server(sock) == b""


def test_a_connection_stalled_in_its_headers_is_closed(served):
    with socket.create_connection(host_port(served.url)) as sock:
        sock.sendall(b"GET /api/tools HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        _closed_by_server(sock)


def test_an_idle_keep_alive_connection_is_closed(served):
    with socket.create_connection(host_port(served.url)) as sock:
        sock.sendall(
            f"GET /api/tools HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {AUTH['Authorization']}\r\n\r\n".encode()
        )
        data = _closed_by_server(sock)
    assert data.startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize(
    "half_close, status, message",
    [
        (False, 408, b"request body not received within 1 seconds"),
        (True, 400, b"request body ended before its Content-Length"),
    ],
    ids=["stalled", "short-then-half-closed"],
)
def test_a_body_short_of_its_content_length_is_never_processed(served, half_close, status, message):
    client = Client(served.url)
    client.reset()
    request = http_request_bytes(
        "POST",
        "/api/tools",
        {"Content-Type": "application/json"},
        b'{"name": "cut", "base_url": "https://x.example.com"}',
    )
    with socket.create_connection(host_port(served.url)) as sock:
        sock.sendall(request[:-10])
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        data = _closed_by_server(sock)
    if served.server == "granian":  # the bridge says why; waitress closes without a word
        answered, _, body = parse_raw_response(data)
        assert answered == status and message in body
    else:
        assert data == b""
    assert client.ok("GET", "/api/tools") == []
    assert "Traceback" not in served.output


def test_a_chunked_body_whose_client_hangs_up_before_the_last_chunk_is_never_processed(served):
    client = Client(served.url)
    client.reset()
    body = b'{"agent_id": "a", "user_id": "u"}'
    head = http_request_bytes("POST", "/runs", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    with socket.create_connection(host_port(served.url)) as sock:
        sock.sendall(head + b"%x\r\n%s\r\n" % (len(body), body))  # no last (empty) chunk
    # The same request with its last chunk is processed (the client waits for the answer).
    with socket.create_connection(host_port(served.url)) as sock:
        sock.sendall(head + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        assert parse_raw_response(_closed_by_server(sock))[0] == 201
    assert len(client.state()["runs"]["runs"]) == 1
    assert "Traceback" not in served.output


def test_idle_connections_beyond_the_limit_are_freed_by_the_timeouts(served):
    # 12 idle connections against --max-connections 8, half silent, half stalled in their
    # headers: the 4 beyond the limit are refused, and once the timeouts close the other 8 a
    # new client is served (until then it may be refused too, never left waiting).
    client = Client(served.url)
    with ExitStack() as stack:
        for index in range(12):
            sock = stack.enter_context(socket.create_connection(host_port(served.url)))
            if index % 2:
                sock.sendall(b"GET /api/tools HTTP/1.1\r\n")
        deadline = time.monotonic() + CLOSE_DEADLINE
        statuses = [client.get("/api/tools", timeout=CLOSE_DEADLINE).status_code]
        while statuses[-1] == 503 and time.monotonic() < deadline:
            time.sleep(0.2)
            statuses.append(client.get("/api/tools", timeout=CLOSE_DEADLINE).status_code)
    assert statuses[-1] == 200 and set(statuses) <= {200, 503}, statuses


def _keep_alive_get(sock: socket.socket) -> int:
    """Send one keep-alive request on ``sock`` and read its answer; the status."""
    sock.settimeout(CLOSE_DEADLINE)
    sock.sendall(
        f"GET /api/tools HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {AUTH['Authorization']}\r\n\r\n".encode()
    )
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, f"closed after {data!r}"
        data += chunk
    status, headers, body = parse_raw_response(data)
    while len(body) < int(headers["content-length"]):
        body += sock.recv(4096)
    return status


@pytest.mark.parametrize("server", ["granian", "waitress"])
def test_a_connection_beyond_max_connections_gets_a_clear_503(server):
    # Long timeouts: the 8 served connections stay open until the test closes them.
    with (
        ServedMock(
            "--server",
            server,
            "--api-key",
            AUTH["Authorization"].split()[1],
            "--max-connections",
            "8",
            "--idle-timeout",
            "30",
        ) as mock,
        ExitStack() as stack,
    ):
        held = [stack.enter_context(socket.create_connection(host_port(mock.url))) for _ in range(8)]
        assert [_keep_alive_get(sock) for sock in held] == [200] * 8
        with socket.create_connection(host_port(mock.url)) as ninth:
            ninth.sendall(http_request_bytes("GET", "/api/tools"))
            status, headers, body = parse_raw_response(_closed_by_server(ninth))
        assert status == 503
        assert json.loads(body) == {
            "error": "too many connections: the mock serves at most 8 at once (--max-connections); try again later"
        }
        assert headers["connection"] == "close" and headers["retry-after"] == "1"
        assert headers["content-type"] == "application/json"
        # The served connections were not disturbed, and a freed slot serves a new client.
        assert _keep_alive_get(held[1]) == 200
        held[0].close()
        assert Client(mock.url).get("/api/tools").status_code == 200
