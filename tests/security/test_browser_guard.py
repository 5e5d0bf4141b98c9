"""The browser guard on every surface (issue 23, item 5): foreign Host names (DNS rebinding),
cross-origin state changes (CSRF) and JSON bodies sent as forms are refused; clients that
send no Origin (SDKs, CLIs, curl) are untouched. Chromium drives the same attacks from a page
on another origin in tests/browser/test_cross_origin.py."""

from __future__ import annotations

import json

import pytest
from api_support import AUTH

from mockserver.web.cli import build_parser


def raw(api, method, path, headers=None, **kwargs):
    # Refusals of the guard come before any document applies: sent unchecked.
    return api.app.test_client().open(path, method=method, headers={**AUTH, **(headers or {})}, **kwargs)


def error(response) -> str:
    return response.get_json()["error"]


@pytest.mark.parametrize("path", ["/api/tools", "/api/v1/tools", "/_mock/state", "/_ingress/jwks.json", "/_mock/ui"])
def test_a_foreign_host_name_is_refused_on_every_surface(api, path):
    refused = raw(api, "GET", path, {"Host": "rebind.evil.test:8092"})
    assert refused.status_code == 403 and refused.content_type == "application/json"
    assert error(refused) == (
        "Host rebind.evil.test is not this mock's address: use 127.0.0.1 or localhost, "
        "or start it with --allow-host rebind.evil.test"
    )


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8092", "localhost:8092", "[::1]:8092", "10.0.0.5", "app.localhost", "LOCALHOST"]
)
def test_addresses_and_loopback_names_are_served(api, host):
    assert raw(api, "GET", "/api/tools", {"Host": host}).status_code == 200


def test_allowed_host_names_are_served(make_api):
    api = make_api(allowed_hosts=("mock",))
    assert raw(api, "GET", "/api/tools", {"Host": "mock:8092"}).status_code == 200
    assert raw(api, "GET", "/api/tools", {"Host": "other:8092"}).status_code == 403


def test_the_cli_allows_the_bound_name_and_allow_host_names():
    args = build_parser().parse_args(["serve", "--allow-host", "mock", "--allow-host", "mock.internal"])
    assert args.allow_host == ["mock", "mock.internal"]


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", "/api/tools", {"name": "t", "base_url": "https://x.example"}),
        ("POST", "/_mock/reset", None),
        ("PUT", "/_mock/rate-limit", {"per_minute": 1}),
        ("POST", "/_egress/agent-system/bot/echo-tool/x", {}),
        ("POST", "/_llm/agent-system/bot/v1/chat/completions", {}),
    ],
)
def test_a_state_change_from_another_origin_is_refused_on_every_surface(api, method, path, body):
    data = None if body is None else json.dumps(body)
    for origin in ("http://127.0.0.1:9999", "null", "https://evil.example"):
        refused = raw(api, method, path, {"Origin": origin, "Content-Type": "application/json"}, data=data)
        assert refused.status_code == 403, (origin, refused.get_data())
        assert error(refused).startswith("cross-origin request refused: Origin ")
    assert api.get("/api/tools").get_json() == []
    assert api.get("/_mock/faults").get_json() == []


def test_the_mocks_own_origin_and_no_origin_pass(api):
    own = raw(
        api,
        "POST",
        "/_mock/clock/advance",
        {"Origin": "http://localhost", "Content-Type": "application/json"},
        data=json.dumps({"seconds": 5}),
    )
    assert own.status_code == 200
    plain = raw(
        api, "POST", "/_mock/clock/advance", {"Content-Type": "application/json"}, data=json.dumps({"seconds": 5})
    )
    assert plain.status_code == 200 and plain.get_json()["offset_seconds"] == 10
    # Reads from another origin are not state changes (the browser keeps their answers from the page).
    assert raw(api, "GET", "/api/tools", {"Origin": "https://evil.example"}).status_code == 200


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "TEXT/PLAIN; charset=utf-8"],
)
@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", "/api/tools", {"name": "t", "base_url": "https://x.example"}),
        ("POST", "/_mock/faults", {"path": "/*", "status": 503}),
        ("POST", "/_mock/seed", {"tools": [{"name": "t", "base_url": "https://x.example"}]}),
        ("POST", "/_ingress/agent-system/bot/invoke", {"message": "hi"}),
    ],
)
def test_a_json_body_sent_as_a_form_type_is_a_400(api, content_type, method, path, body):
    refused = api.request(method, path, data=json.dumps(body), headers={"Content-Type": content_type})
    assert refused.status_code == 400
    assert error(refused).startswith(f"Content-Type {content_type.split(';')[0].lower()} is not accepted here: send ")
    assert api.get("/api/tools").get_json() == [] and api.get("/_mock/faults").get_json() == []


def test_the_tool_proxy_passes_form_bodies_on(api):
    # A tool may take forms (Stripe does): the egress operation documents no body type.
    api.post("/api/starter-kit")
    api.post("/api/deploy", {"agent_name": "bot", "image": "i", "required_tools": ["echo-tool"]})
    answer = api.request(
        "POST",
        "/_egress/agent-system/bot/echo-tool/x",
        data="amount=5",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=False,
    )
    assert answer.status_code == 200 and answer.get_json()["body"] == "amount=5"
