"""Slow, stalled and vanishing clients must not hold up anyone else.

Run against both servers (the ``live`` fixture): waitress with 8 worker threads and granian,
whose app runs on one Python thread. A server that gave each stalled connection a worker would
visibly starve: we stall more connections than there are workers.
"""

from __future__ import annotations

import socket
import time
from contextlib import ExitStack

from reliability_support import AUTH, Client, host_port, http_request_bytes, run_together

STALLED = 12  # more than waitress' 8 worker threads, and granian's one
# An ordinary request must be answered while the stalled connections are held open. A server
# blocked by them would not answer at all, so this is a timeout, not a speed requirement.
ANSWER_TIMEOUT = 10.0


def _open(base_url: str, stack: ExitStack, data: bytes) -> socket.socket:
    sock = stack.enter_context(socket.create_connection(host_port(base_url), timeout=5))
    sock.sendall(data)
    return sock


def _answered(client: Client) -> bool:
    return client.get("/api/tools", timeout=ANSWER_TIMEOUT).status_code == 200


def test_half_sent_requests_do_not_block_other_clients(live, client):
    full = http_request_bytes(
        "POST",
        "/api/tools",
        {"Content-Type": "application/json"},
        b'{"name": "stalled", "base_url": "https://x.example.com"}',
    )
    with ExitStack() as stack:
        # Half of the request line and headers, then nothing.
        for _ in range(STALLED):
            _open(live.url, stack, full[: len(full) // 3])
        # Complete headers, a body promised by Content-Length, a few bytes of it, then nothing.
        for _ in range(STALLED):
            _open(live.url, stack, full[: len(full) - 20])
        time.sleep(0.2)  # let the server accept them all
        assert all(run_together([lambda: _answered(Client(live.url)) for _ in range(8)]))
        assert client.ok("POST", "/api/tools", {"name": "ok", "base_url": "https://x.example.com"}, 201)
    # The stalled bodies never completed, so nothing of them was stored.
    assert [t["name"] for t in client.ok("GET", "/api/tools")] == ["ok"]


def test_clients_that_vanish_mid_body_change_nothing(live, client):
    before = client.state_bytes()
    request = http_request_bytes(
        "POST",
        "/api/tools",
        {"Content-Type": "application/json"},
        b'{"name": "cut", "base_url": "https://x.example.com"}',
    )
    for cut in (10, len(request) // 2, len(request) - 1):
        with socket.create_connection(host_port(live.url), timeout=5) as sock:
            sock.sendall(request[:cut])
        # Reset instead of a clean close, the other way a client disappears.
        with socket.create_connection(host_port(live.url), timeout=5) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.sendall(request[:cut])
    time.sleep(0.1)
    assert client.state_bytes() == before
    assert client.is_healthy()


def test_a_client_that_never_reads_its_answer_does_not_block_others(live, client):
    # Make the answer large enough not to fit in socket buffers, then never read it.
    for i in range(300):
        client.ok(
            "POST", "/api/tools", {"name": f"t{i}", "base_url": "https://x.example.com", "description": "d" * 1000}, 201
        )
    with ExitStack() as stack:
        for _ in range(STALLED):
            sock = _open(live.url, stack, http_request_bytes("GET", "/api/tools"))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        time.sleep(0.2)
        assert all(run_together([lambda: _answered(Client(live.url)) for _ in range(8)]))


def test_a_slow_trickle_of_a_request_is_served_and_others_are_not_held_up(live, client):
    body = b'{"name": "trickled", "base_url": "https://x.example.com"}'
    request = http_request_bytes("POST", "/api/tools", {"Content-Type": "application/json"}, body)
    with socket.create_connection(host_port(live.url), timeout=ANSWER_TIMEOUT) as sock:
        for start in range(0, len(request), 16):  # ~15 pieces, a few ms apart
            sock.sendall(request[start : start + 16])
            time.sleep(0.005)
            if start % 128 == 0:
                assert _answered(client)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
    assert client.ok("GET", "/api/tools/trickled")["name"] == "trickled"


def test_many_idle_keep_alive_connections_do_not_block_new_clients(live, client):
    idle = [Client(live.url) for _ in range(30)]
    for c in idle:
        assert c.get("/api/tools").status_code == 200  # leaves a kept-alive connection open
    assert _answered(Client(live.url, AUTH))


def test_an_injected_delay_holds_up_only_its_own_request(live, client):
    # A fault with latency answers its request late; the server must serve the rest meanwhile
    # (granian: the delay is awaited on the event loop, never slept on its one thread).
    assert (
        client.control(
            "POST", "/_mock/faults", json={"method": "GET", "path": "/api/tools", "latency_ms": 2500, "times": 1}
        ).status_code
        == 201
    )
    with socket.create_connection(host_port(live.url), timeout=ANSWER_TIMEOUT) as slow:
        slow.sendall(http_request_bytes("GET", "/api/tools", {"Authorization": "Bearer k"}))
        time.sleep(0.2)  # the delayed request is in
        assert client.ok("GET", "/api/agents") == []
        slow.setblocking(False)
        try:
            early = slow.recv(65536)
        except BlockingIOError:
            early = b""
        assert early == b"", "the delayed request was answered before the one sent after it"
        slow.settimeout(ANSWER_TIMEOUT)
        assert slow.recv(65536).startswith(b"HTTP/1.1 200")
