"""Hybrid mode and bad upstreams: the proxy answers (from the built-in mock, or with a JSON
502/504 naming the upstream), reports what went wrong, and keeps serving."""

from __future__ import annotations

import json
import socket
import threading
from contextlib import contextmanager

import requests
from contract_kit_support import serve_mock
from proxy_support import proxy_in_process

from mockserver.proxy.config import ANSWERED_BY_HEADER, MockRoute
from mockserver.testkit.live_server import LiveServer

AUTH = {"Authorization": "Bearer hybrid-key"}
TOOL = {"name": "t1", "base_url": "https://t1.example.com"}


def _answered_by(response: requests.Response) -> str:
    return response.headers[ANSWERED_BY_HEADER]


def _upstream_errors(app) -> list[str]:
    return [seen.problem.deviation.got for seen in app.findings.seen["upstream"].values()]


def test_fallback_keeps_answering_when_the_upstream_stops():
    served = contextmanager(serve_mock)("--server", "waitress")
    with served as upstream, proxy_in_process(upstream.url, fallback="mock") as (live, app):
        before = requests.post(live.url + "/api/tools", json=TOOL, headers=AUTH, timeout=10)
        assert before.status_code == 201 and _answered_by(before) == "upstream"
        upstream.process.terminate()
        upstream.process.wait(timeout=10)
        after = requests.post(live.url + "/api/tools", json=TOOL, headers=AUTH, timeout=10)
        listed = requests.get(live.url + "/api/tools", headers=AUTH, timeout=10)
    assert after.status_code == 201 and _answered_by(after) == "mock"
    assert listed.status_code == 200 and [t["name"] for t in listed.json()] == ["t1"]  # the mock's own state
    assert any("is unreachable" in line and upstream.url in line for line in _upstream_errors(app)), _upstream_errors(
        app
    )
    assert app.findings.response_problems == 0


def test_mock_routes_and_404_fallback():
    with (
        LiveServer({"api_keys": ("hybrid-key",)}) as upstream,
        proxy_in_process(upstream.url, fallback="mock", mock_routes=(MockRoute.parse("* /api/agents*"),)) as (
            live,
            app,
        ),
    ):
        agents = requests.get(live.url + "/api/agents", headers=AUTH, timeout=10)
        tools = requests.get(live.url + "/api/tools", headers=AUTH, timeout=10)
        missing = requests.get(live.url + "/api/tools/nope", headers=AUTH, timeout=10)
        undocumented = requests.get(live.url + "/api/not-a-thing", headers=AUTH, timeout=10)
    assert _answered_by(agents) == "mock" and agents.status_code == 200
    assert _answered_by(tools) == "upstream"
    assert _answered_by(missing) == "mock" and missing.status_code == 404  # documented op: the mock is asked
    assert _answered_by(undocumented) == "upstream" and undocumented.status_code == 404
    assert any("answered 404 for a documented operation" in line for line in _upstream_errors(app))
    assert [e["path"] for e in upstream.mock.journal.list()] == ["/api/tools", "/api/tools/nope", "/api/not-a-thing"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_upstream_is_a_502_naming_it_and_the_proxy_keeps_serving():
    dead = f"http://127.0.0.1:{_free_port()}"
    with proxy_in_process(dead) as (live, app):
        first = requests.get(live.url + "/api/tools", headers=AUTH, timeout=10)
        second = requests.post(live.url + "/runs", json={"agent_id": "a", "user_id": "u"}, headers=AUTH, timeout=10)
    for response in (first, second):
        assert response.status_code == 502 and _answered_by(response) == "proxy"
        assert response.json()["error"].startswith(f"upstream {dead} is unreachable")
    assert app.findings.response_problems == 0  # the proxy's own answer is not the server's drift
    assert len(app.lines) == 2 and all(line.startswith("[upstream]") for line in app.lines)


@contextmanager
def raw_server(greeting: bytes = b""):
    """Accepts connections, sends ``greeting`` (if any), and says nothing more."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                sock = listener.accept()[0]
            except OSError:
                continue
            accepted.append(sock)
            if greeting:
                sock.sendall(greeting)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for sock in accepted:
            sock.close()
        listener.close()


def test_a_silent_upstream_times_out_with_a_504():
    with raw_server() as url, proxy_in_process(url, timeout=0.3) as (live, app):
        response = requests.get(live.url + "/api/tools", headers=AUTH, timeout=10)
    assert response.status_code == 504
    assert response.json() == {"error": f"upstream {url} did not answer within 0.3 s"}


def test_tls_errors_are_reported():
    with raw_server(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n") as plain:
        https = plain.replace("http://", "https://")
        with proxy_in_process(https, timeout=5) as (live, app):
            response = requests.get(live.url + "/api/tools", headers=AUTH, timeout=10)
    assert response.status_code == 502 and response.json()["error"].startswith(f"TLS error talking to {https}")


def _odd_upstream(release: threading.Event):
    """A small server: a huge list, a body that claims JSON but is not, and a stream that
    sends its second event only once the test has seen the first."""

    def app(environ, start_response):
        path = environ["PATH_INFO"]
        if path == "/api/tools":
            body = json.dumps([{"name": f"tool-{i}", "namespace": "x" * 200} for i in range(2000)]).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if path == "/api/agents":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b"<html>oops</html>"]
        start_response("200 OK", [("Content-Type", "text/event-stream")])

        def events():
            yield b'data: {"first": true}\n\n'
            release.wait(timeout=10)
            yield b"data: [DONE]\n\n"

        return events()

    return app


def test_large_non_json_and_streamed_answers():
    release = threading.Event()
    with (
        LiveServer(app=_odd_upstream(release)) as upstream,
        proxy_in_process(upstream.url, keep_body_bytes=64 * 1024) as (live, app),
    ):
        large = requests.get(live.url + "/api/tools", headers=AUTH, timeout=10)
        broken = requests.get(live.url + "/api/agents", headers=AUTH, timeout=10)
        stream = requests.post(
            live.url + "/v1/chat/completions",
            headers=AUTH,
            timeout=10,
            stream=True,
            json={"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]},
        )
        chunks = stream.iter_content(chunk_size=None)
        first = next(chunks)  # arrives while the upstream still holds the rest back
        release.set()
        rest = b"".join(chunks)
    assert len(large.content) > 64 * 1024 and len(large.json()) == 2000  # passed on whole
    assert broken.status_code == 200 and broken.text == "<html>oops</html>"
    assert first == b'data: {"first": true}\n\n' and rest == b"data: [DONE]\n\n"
    got = {
        seen.problem.deviation.check: seen.problem.deviation.got
        for side in ("response", "unchecked")
        for seen in app.findings.seen[side].values()
    }
    assert "larger than the proxy keeps" in got["body_not_checked"]
    assert got["content_type_conformance"] == "body is not JSON"


def test_api_key_is_added_only_where_the_client_sent_none():
    with (
        LiveServer({"api_keys": ("proxy-own-key",)}) as upstream,
        proxy_in_process(upstream.url, api_key="proxy-own-key") as (live, app),
    ):
        without = requests.get(live.url + "/api/tools", timeout=10)
        own = requests.get(live.url + "/api/tools", headers={"Authorization": "Bearer wrong"}, timeout=10)
    assert without.status_code == 200
    assert own.status_code == 401 and own.json() == {"error": "invalid API key"}  # passed through unchanged
    assert app.findings.response_problems == 0 and app.findings.counts["request"] == 0
