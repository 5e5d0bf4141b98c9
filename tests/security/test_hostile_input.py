"""Malformed and hostile requests: each gets a clear 4xx JSON error (or is accepted as the
data it is), never a 5xx, never a change of state when refused, and the server stays healthy."""

from __future__ import annotations

import json

import pytest
import requests
from reliability_support import (
    Client,
    ServedMock,
    http_request_bytes,
    json_error,
    live_mock,
    parse_raw_response,
    raw_request,
)

TOOL = {"name": "stripe-api", "base_url": "https://api.stripe.com"}


def assert_refused(
    client: Client, response: requests.Response, before: bytes, statuses: tuple[int, ...] = (400, 404, 405, 413)
) -> str:
    """A clean refusal: a documented 4xx, the JSON error shape, nothing stored, server fine."""
    assert response.status_code in statuses, f"{response.status_code}: {response.text[:300]}"
    message = json_error(response)
    assert client.state_bytes() == before, "a refused request changed the state"
    assert client.is_healthy()
    return message


# Granian's HTTP layer (hyper) refuses request targets longer than this with a bare 414.
GRANIAN_MAX_TARGET = 65_534


def granian_in_front(live) -> bool:
    """Whether ``live`` is `runagents-mock serve` on granian (its default), whose HTTP layer
    refuses some malformed requests itself, before the mock sees them (docs/behaviour.md)."""
    return isinstance(live, ServedMock) and live.server == "granian"


def assert_refused_by_http_layer(client: Client, status: int, before: bytes, expected: int, body: bytes = b"") -> None:
    """A refusal by the HTTP server in front of the mock: the status, no body, nothing stored."""
    assert status == expected
    assert body == b""
    assert client.state_bytes() == before, "a refused request changed the state"
    assert client.is_healthy()


@pytest.fixture
def run_id(client) -> str:
    return client.ok("POST", "/runs", {"agent_id": "a", "user_id": "u"}, 201)["id"]


# --- body size -------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["in-process", "served-granian", "served-waitress"])
def small_body_mock(request):
    """A mock taking bodies of at most 4096 bytes, on each server users can run it on."""
    if request.param == "in-process":
        with live_mock({"max_body_bytes": 4096}) as live:
            yield live
    else:
        with ServedMock("--max-body-bytes", "4096", "--server", request.param.split("-")[1]) as served:
            yield served


@pytest.mark.parametrize("size", [4097, 3 * 4096, 50 * 4096, 5_000_000])
def test_body_over_the_limit_is_a_json_413(small_body_mock, size):
    c = Client(small_body_mock.url)
    before = c.state_bytes()
    body = json.dumps({**TOOL, "description": "x" * size}).encode()
    response = c.post("/api/tools", data=body, headers={"Content-Type": "application/json"})
    assert assert_refused(c, response, before, (413,)) == "request body is larger than 4096 bytes"


def test_chunked_body_over_the_limit_is_a_json_413(small_body_mock):
    # No Content-Length up front: the limit must hold for a streamed body too.
    c = Client(small_body_mock.url)
    before = c.state_bytes()
    chunks = (b"x" * 1024 for _ in range(64))
    response = c.post("/api/tools", data=chunks, headers={"Content-Type": "application/json"})
    assert_refused(c, response, before, (413,))


def test_a_body_at_the_limit_is_taken(small_body_mock):
    c = Client(small_body_mock.url)
    c.reset()
    body = json.dumps({**TOOL, "description": ""}).encode()
    body = body.replace(b'""', b'"' + b"x" * (4096 - len(body)) + b'"')
    assert len(body) == 4096
    assert c.post("/api/tools", data=body, headers={"Content-Type": "application/json"}).status_code == 201
    chunked = c.post(
        "/api/tools",
        data=iter([body.replace(b"stripe-api", b"stripe-two")]),
        headers={"Content-Type": "application/json"},
    )
    assert chunked.status_code == 201, chunked.text


# --- JSON that is not what it claims ---------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b'{"a":' * 100_000,
        b'{"name": "t", "spec": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    ],
    ids=["100k-brackets", "100k-objects", "deep-but-closed"],
)
@pytest.mark.parametrize("path", ["/api/tools", "/runs", "/api/deploy", "/v1/chat/completions", "/analyze"])
def test_deeply_nested_json_is_a_400(client, body, path):
    before = client.state_bytes()
    response = client.post(path, data=body, headers={"Content-Type": "application/json"})
    assert_refused(client, response, before, (400,))


@pytest.mark.parametrize(
    "method,path",
    [
        ("PUT", "/_mock/state"),
        ("POST", "/_mock/faults"),
        ("POST", "/_mock/seed"),
        ("PUT", "/_mock/replies"),
        ("POST", "/_mock/clock/advance"),
        ("PUT", "/_mock/rate-limit"),
    ],
)
def test_deeply_nested_bodies_to_the_control_api_are_a_400(client, method, path):
    # /_mock/seed reads YAML (a superset of JSON), so it gets its own parser's limits tested.
    before = client.state_bytes()
    response = client.control(method, path, data=b"[" * 100_000)
    assert_refused(client, response, before, (400,))


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "t", "base_url": "https://x.example.com"',  # cut off
        b'{"name": "t", "base_url": "https://x.example.com"} trailing',  # extra data
        b"{'name': 't'}",  # not JSON quotes
        b'{"name": "t", "base_url": "https://x.example.com", }',  # trailing comma
        b"\xff\xfe\x00{",  # not UTF-8
        b"null",
        b"[]",
        b'"a string"',
        b"42",  # JSON, wrong type
    ],
    ids=[
        "cut-off",
        "trailing-data",
        "single-quotes",
        "trailing-comma",
        "bad-utf8",
        "null",
        "array",
        "string",
        "number",
    ],
)
def test_invalid_or_wrongly_typed_json_is_a_400(client, body):
    before = client.state_bytes()
    response = client.post("/api/tools", data=body, headers={"Content-Type": "application/json"})
    assert_refused(client, response, before, (400,))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_json_number_literals_are_refused(client, run_id, literal):
    # Python's json module reads NaN/Infinity, but they are not JSON (RFC 8259): stored, they
    # would come back in answers and the state file that no other JSON parser can read.
    before = client.state_bytes()
    body = f'{{"type": "USER_MESSAGE", "data": {{"score": {literal}}}}}'.encode()
    response = client.post(f"/runs/{run_id}/events", data=body, headers={"Content-Type": "application/json"})
    assert_refused(client, response, before, (400,))


@pytest.mark.parametrize(
    "content_type,body",
    [
        ("application/x-www-form-urlencoded", b"name=t&base_url=https%3A%2F%2Fx.example.com"),
        (
            "multipart/form-data; boundary=zz",
            b'--zz\r\nContent-Disposition: form-data; name="name"\r\n\r\nt\r\n--zz--\r\n',
        ),
        ("application/xml", b"<tool><name>t</name></tool>"),
        ("text/plain", b"name: t"),
    ],
)
def test_bodies_that_are_not_json_are_a_400_whatever_the_content_type(client, content_type, body):
    before = client.state_bytes()
    response = client.post("/api/tools", data=body, headers={"Content-Type": content_type})
    assert_refused(client, response, before, (400,))


@pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream", None])
def test_json_sent_with_another_content_type_is_read_as_json_or_refused(client, content_type):
    # Real clients send JSON with sloppy content types; either way is fine, a 5xx or a
    # half-stored tool is not.
    before = client.state_bytes()
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/api/tools", data=json.dumps(TOOL).encode(), headers=headers)
    if response.status_code == 201:
        assert client.ok("GET", "/api/tools/stripe-api") == response.json()
    else:
        assert_refused(client, response, before, (400, 415))


def test_yaml_alias_bomb_in_a_fixture_is_refused(client):
    # Five levels of nine aliases: ~250 bytes of YAML that expand to 9**6 values. A fixture
    # must not let a few bytes cost the server that much (more levels cost minutes and GBs).
    levels = "abcdef"
    anchors = ["l0: &a [x, x, x, x, x, x, x, x, x]"] + [
        f"l{i + 1}: &{levels[i + 1]} [" + ", ".join(["*" + levels[i]] * 9) + "]" for i in range(5)
    ]
    bomb = "tools: [{name: t, base_url: 'https://x.example.com', " + ", ".join(anchors) + "}]\n"
    assert len(bomb) < 400
    before = client.state_bytes()
    response = client.control("POST", "/_mock/seed", data=bomb, timeout=30)
    assert_refused(client, response, before, (400, 413))


@pytest.mark.parametrize(
    "body",
    [
        {"agent_name": "a"},
        {"agent_name": "a", "image": ""},
        {"agent_name": "a", "image": "", "tools_to_create": [{"name": "t", "base_url": "https://x.example.com"}]},
    ],
    ids=["neither", "empty-image", "empty-image-with-tools"],
)
def test_deploy_without_image_or_source_files_is_a_400(client, body):
    # Found by the fuzz test: nothing to run and nothing to build is the caller's mistake.
    before = client.state_bytes()
    response = client.post("/api/deploy", body)
    assert_refused(client, response, before, (400,))


# --- paths -------------------------------------------------------------------------------

TRAVERSALS = [
    "/api/tools/..%2F..%2Fetc",
    "/api/tools/..%2F..%2Fetc%2Fpasswd",
    "/api/tools/%2e%2e%2f%2e%2e%2f_mock%2fstate",
    "/api/tools/%252e%252e%252f_mock",
    "/api/tools/..%5C..%5Cwindows",
    "/api/agents/agent-system/..%2F..%2F_mock%2Fstate",
    "/api/agents/..%2F_mock/state",
    "/runs/..%2F_mock%2Fstate/events",
    "/api/model-providers/%2F%2F%2F",
    "/api/identity-providers/%00",
]


@pytest.mark.parametrize("path", TRAVERSALS)
@pytest.mark.parametrize("method", ["GET", "DELETE", "POST"])
def test_path_traversal_and_encoded_slashes_are_refused(client, method, path):
    client.ok("POST", "/api/tools", TOOL, 201)
    before = client.state_bytes()
    response = client.request(method, path, json={"name": "x"} if method == "POST" else None)
    assert_refused(client, response, before)
    assert b'"version"' not in response.content  # no control-API answer leaked through


def test_dot_segments_sent_raw_do_not_reach_the_control_api():
    # requests would normalise "..": send it as bytes. With an admin key, an API key must
    # not reach /_mock/ by walking out of /api/.
    with live_mock({"api_keys": ["user-key"], "admin_key": "admin-key"}) as live:
        for path in [
            "/api/../_mock/state",
            "/api/tools/../../_mock/state",
            "/api/%2e%2e/_mock/state",
            "//_mock/state",
            "/./_mock/state",
            "/api/tools/..;/..;/_mock/state",
        ]:
            raw = raw_request(live.url, http_request_bytes("GET", path, {"Authorization": "Bearer user-key"}))
            status, headers, body = parse_raw_response(raw)
            assert status in (400, 401, 404), (path, raw[:300])
            assert b'"version"' not in body, path


def test_names_with_traversal_in_a_body_are_refused(client):
    # Names are resource names (RFC 1123); anything path-like is a 400 that stores nothing.
    for name in ["../../etc/passwd", "..\\..\\boot.ini", "/_mock/state", "%2e%2e%2f"]:
        before = client.state_bytes()
        response = client.post("/api/tools", {**TOOL, "name": name})
        assert assert_refused(client, response, before, (400,)).startswith("name has an invalid format")
    assert client.ok("GET", "/api/tools") == []
    assert client.control("GET", "/_mock/clock").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/tools/" + "a" * 100_000,
        "/runs/" + "r" * 100_000 + "/events",
        "/" + "b" * 100_000,
        "/api/tools/" + "a" * 60_000,
    ],
    ids=["name", "run-id", "unknown", "name-under-64k"],
)
def test_very_long_paths_are_refused(live, client, path):
    before = client.state_bytes()
    response = client.get(path)  # bounded by the client's timeout
    if granian_in_front(live) and len(path) > GRANIAN_MAX_TARGET:
        assert_refused_by_http_layer(client, response.status_code, before, 414, response.content)
    else:
        assert_refused(client, response, before, (400, 404, 414))


@pytest.mark.parametrize("pairs", [25_000, 15_000], ids=["100k", "60k"])
def test_very_long_query_strings_are_ignored_or_refused(live, client, pairs):
    before = client.state_bytes()
    target = "/api/tools?" + "x=1&" * pairs
    response = client.get(target)
    if granian_in_front(live) and len(target) > GRANIAN_MAX_TARGET:
        assert_refused_by_http_layer(client, response.status_code, before, 414, response.content)
    elif response.status_code != 200:  # unknown query parameters may also just be ignored
        assert_refused(client, response, before, (400, 414))
    assert client.state_bytes() == before


def test_very_long_header_values_are_refused_or_ignored(client):
    before = client.state_bytes()
    response = client.get("/api/tools", headers={"X-End-User-ID": "u" * 100_000})
    assert response.status_code in (200, 400, 431)
    assert client.state_bytes() == before and client.is_healthy()


# --- headers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header_line",
    [
        b"X-End-User-ID: alice\rSet-Cookie: injected=1",
        b"X-End-User-ID: alice\nSet-Cookie: injected=1",
        b"X-End-User-ID: alice\x00Set-Cookie: injected=1",
        b"Authorization: Bearer k\rX-Injected: 1",
    ],
)
def test_cr_lf_and_nul_in_header_values_are_refused(live, client, header_line):
    before = client.state_bytes()
    raw = raw_request(
        live.url, http_request_bytes("POST", "/api/tools/stripe-api/test", extra_header_lines=[header_line])
    )
    status, headers, _ = parse_raw_response(raw)
    if granian_in_front(live) and b"\n" in header_line:
        # RFC 9112 2.2 lets a recipient take a bare LF as a line end, and granian does: the
        # text after it is a header of the request (never of the answer), which goes on to the
        # mock as usual: here a 404 for the unknown tool.
        assert status == 404, raw[:300]
    else:
        assert status == 400, raw[:300]
    assert "set-cookie" not in headers and "x-injected" not in headers
    assert raw.count(b"HTTP/1.") == 1, "a second response was smuggled in"
    assert client.state_bytes() == before and client.is_healthy()


def test_a_second_request_hidden_after_the_headers_gets_no_answer_on_a_closing_connection(live, client):
    # The smuggled text after an early blank line is at most a second request; with
    # "Connection: close" it must not be answered, and nothing must be stored by it.
    client.ok("POST", "/api/tools", TOOL, 201)
    before = client.state_bytes()
    smuggled = b"X-Payload-Hash: sha256:1\r\n\r\nDELETE /api/tools/stripe-api HTTP/1.1\r\nHost: x"
    raw = raw_request(live.url, http_request_bytes("GET", "/api/tools/stripe-api", extra_header_lines=[smuggled]))
    assert raw.count(b"HTTP/1.") == 1, raw[:500]
    assert parse_raw_response(raw)[0] == 200
    assert client.state_bytes() == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/tools/x%0d%0aSet-Cookie:%20injected=1",
        "/api/tools/x%0aLocation:%20http://evil.example",
        "/runs/x%0d%0a%0d%0a<html>/events",
    ],
)
def test_encoded_cr_lf_in_paths_stay_in_the_json_body(live, client, path):
    before = client.state_bytes()
    raw = raw_request(live.url, http_request_bytes("GET", path))
    status, headers, body = parse_raw_response(raw)
    assert "set-cookie" not in headers and "location" not in headers
    if granian_in_front(live) and "<" in path:
        # Raw "<" and ">" are not allowed in a request target (RFC 3986): granian's HTTP layer
        # refuses the request before the mock sees it.
        assert_refused_by_http_layer(client, status, before, 400, body)
        return
    assert status == 404
    assert headers["content-type"] == "application/json"
    assert isinstance(json.loads(body)["error"], str)


def test_header_values_echoed_in_answers_are_data_not_headers(client, run_id):
    # Headers the mock stores (approver, payload hash) come back only inside JSON bodies.
    action = client.ok("POST", f"/runs/{run_id}/actions", {"tool_id": "t"}, 201)
    response = client.post(
        f"/runs/{run_id}/actions/{action['action_id']}/approve", headers={"X-End-User-ID": "bob\tSet-Cookie: x=1"}
    )
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    events = client.ok("GET", f"/runs/{run_id}/events")
    assert [e["actor"] for e in events if e["type"] == "APPROVED"] == ["bob\tSet-Cookie: x=1"]


# --- odd characters ------------------------------------------------------------------------

ODD_STRINGS = [
    "nul\u0000inside",
    "\ud800lone-surrogate",
    "rtl\u202eevil",
    "zero\u200bwidth",
    "emoji-\U0001f600",
    "combining-e\u0301",
    "\ufeffbom",
    "line\u2028sep",
    "ctl-\u0001\u001f",
    "x" * 10_000,
]


@pytest.mark.parametrize("value", ODD_STRINGS, ids=lambda v: repr(v[:16]))
def test_odd_unicode_and_nul_in_fields_round_trip_or_are_refused(client, run_id, value):
    before = client.state_bytes()
    body = json.dumps({"name": value, "base_url": "https://x.example.com", "description": value})
    response = client.post("/api/tools", data=body, headers={"Content-Type": "application/json"})
    if response.status_code == 201:
        stored = [t for t in client.ok("GET", "/api/tools") if t["name"] == value]
        assert len(stored) == 1 and stored[0]["spec"]["description"] == value
    else:
        assert_refused(client, response, before, (400,))
    event = client.post(
        f"/runs/{run_id}/events",
        data=json.dumps({"type": "USER_MESSAGE", "actor": value}),
        headers={"Content-Type": "application/json"},
    )
    assert event.status_code in (201, 400), event.text[:200]
    if event.status_code == 201:
        assert client.ok("GET", f"/runs/{run_id}/events")[-1]["actor"] == value
    # The journal and the state export stay valid JSON with the value in them.
    client.journal()
    client.state()


@pytest.mark.parametrize("segment", ["a%00b", "%ff%fe", "%c0%af", "%e2%80%ae", "%f0%9f%98%80"])
def test_odd_bytes_in_path_segments_are_a_json_404(client, segment):
    before = client.state_bytes()
    response = client.get(f"/api/tools/{segment}")
    assert_refused(client, response, before, (400, 404))


def test_server_is_still_healthy_after_the_hostile_requests(live, client):
    # Module-scoped server: everything above ran against it.
    assert client.is_healthy()
    assert client.ok("POST", "/api/tools", TOOL, 201)["name"] == "stripe-api"
