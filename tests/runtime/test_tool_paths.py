"""Issue 23 items 1 and 2: the tool proxy checks the path and the address it sends to, no other.

A loopback tool server records every request line it receives; policies and capabilities must
hold on what it receives, whatever dot segments, encodings or URL forms the caller tries.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import pytest
import requests
from api_support import error_of
from loopback import LoopbackTool

from mockserver.services.runtime.paths import tool_path
from mockserver.testkit.live_server import LiveServer

EGRESS = "/_egress/agent-system/bot"


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    """A loopback tool: its base URL and the request targets it received, in order."""
    tool = LoopbackTool()
    yield tool.url, tool.received
    tool.close()


def _deploy(api, base_url: str, capabilities: list | None = None) -> None:
    spec = {"connection": {"baseUrl": base_url}, "governance": {"accessControl": {"mode": "Open"}}}
    if capabilities is not None:
        spec["capabilities"] = capabilities
    assert api.post("/api/tools", {"name": "mine", "spec": spec}).status_code == 201
    assert api.post("/api/deploy", {"agent_name": "bot", "image": "i", "required_tools": ["mine"]}).status_code == 201


def _deny_admin(api, base_url: str) -> None:
    api.post(
        "/api/policies", {"name": "no-admin", "rules": [{"permission": "deny", "resource": f"{base_url}/api/admin*"}]}
    )
    api.post(
        "/api/policy-bindings",
        {"name": "bot-no-admin", "policy": "no-admin", "subjects": [{"kind": "ServiceAccount", "name": "bot"}]},
    )


@pytest.mark.parametrize(
    "path",
    [
        "/api/public/../admin/users",
        "/api/public/%2e%2e/admin/users",
        "/api/public/%2E%2E/admin/users",
        "/api/./admin/users",
        "/api//admin/users",
        "/api/public/x/../../admin/users",
    ],
)
def test_a_deny_rule_holds_whatever_dot_segments_the_path_carries(api, recorder, path):
    base, received = recorder
    _deploy(api, base)
    _deny_admin(api, base)
    denied = api.get(EGRESS + "/mine" + path, auth=False)
    assert denied.status_code == 403, denied.json
    assert denied.json["error"] == f"policy denies GET {base}/api/admin/users to agent bot"
    assert received == []


@pytest.mark.parametrize("path", ["/public/../admin", "/public/%2e%2e/admin", "/public/./../admin"])
def test_a_capability_limited_to_get_public_holds(api, recorder, path):
    base, received = recorder
    _deploy(api, base, [{"name": "read-public", "method": "GET", "path": "/public"}])
    refused = api.get(EGRESS + "/mine" + path, auth=False)
    assert (refused.status_code, refused.json["error"]) == (403, "operation not permitted")
    assert received == []


def test_the_tool_receives_exactly_the_path_that_was_checked(api, recorder):
    base, received = recorder
    _deploy(api, base, [{"name": "read-public", "method": "GET", "path": "/public"}])
    _deny_admin(api, base)
    run = api.post("/runs", {"agent_id": "bot", "user_id": "carol"}).json
    answer = api.get(EGRESS + "/mine/public/a/../b%20c/./d/?q=1", auth=False, headers={"X-Run-ID": run["id"]})
    assert answer.status_code == 200
    assert received == ["/public/b%20c/d/?q=1"]
    checked = [e["data"]["tool_url"] for e in api.get(f"/runs/{run['id']}/events").json if e["type"] == "TOOL_RESPONSE"]
    assert checked == [base + "/public/b%20c/d/"]


@pytest.mark.parametrize(
    "path, problem",
    [
        ("/../admin", "tool path must not climb above the tool's base URL ('..')"),
        ("/public/../../admin", "tool path must not climb above the tool's base URL ('..')"),
        (
            "/public/%252e%252e/admin",
            "tool path must not contain a percent-encoded '.', '/' or '\\' (encoded twice, it is ambiguous)",
        ),
        (
            "/public%255cadmin",
            "tool path must not contain a percent-encoded '.', '/' or '\\' (encoded twice, it is ambiguous)",
        ),
        ("/public%5c..%5cadmin", "tool path must not contain a backslash"),
    ],
)
def test_a_path_that_cannot_be_normalised_is_refused(api, recorder, path, problem):
    base, received = recorder
    _deploy(api, base)
    refused = api.get(EGRESS + "/mine" + path, auth=False)
    assert refused.status_code == 400 and error_of(refused) == problem
    assert received == []


def test_a_served_mock_holds_on_raw_request_lines(recorder):
    """Over a real socket (waitress), with the request line exactly as a hostile agent sends it."""
    base, received = recorder
    with LiveServer({"strict_responses": True}) as live:
        auth = {"Authorization": "Bearer k"}
        spec = {
            "connection": {"baseUrl": base},
            "governance": {"accessControl": {"mode": "Open"}},
            "capabilities": [{"name": "read-public", "method": "GET", "path": "/public"}],
        }
        assert requests.post(live.url + "/api/tools", json={"name": "mine", "spec": spec}, headers=auth, timeout=30).ok
        assert requests.post(
            live.url + "/api/deploy",
            json={"agent_name": "bot", "image": "i", "required_tools": ["mine"]},
            headers=auth,
            timeout=30,
        ).ok
        host, port = live.url.removeprefix("http://").split(":")
        statuses = []
        for target in ("/public/../admin", "/public/%2e%2e/admin", "/public/%2E%2e/admin", "/public/.%2e/admin"):
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            conn.request("GET", EGRESS + "/mine" + target)
            statuses.append(conn.getresponse().status)
            conn.close()
        assert statuses == [403, 403, 403, 403]
        assert received == []


@pytest.mark.parametrize(
    "decoded, sent",
    [
        ("/", "/"),
        ("/a/b/..", "/a/"),
        ("/a/./b/.", "/a/b/"),
        ("//a//b", "/a/b"),
        ("/a b/ü", "/a%20b/%C3%BC"),
        ("/x/%41", "/x/%2541"),
        ("/a/../b;c=d", "/b;c=d"),
    ],
)
def test_tool_path_removes_dot_segments_and_encodes_for_sending(decoded, sent):
    assert tool_path(decoded) == sent


# --- item 2: the tool's base URL -------------------------------------------------------------

AMBIGUOUS = [
    "http://127.0.0.1:{port}\\[::1]",  # urlsplit saw host ::1; requests connected to 127.0.0.1:{port}
    "http://127.0.0.1:{port}\\@[::1]",
    "http://user:pw@127.0.0.1:{port}",
    "http://[::1]@127.0.0.1:{port}",
    "http://127.0.0.1:{port}#@[::1]",
    "http://127.0.0.1:{port}?@[::1]",
    "http://127.0.0.1 :{port}",
    "http://127.0.0.1:{port}/a/../b",
    "http://127.0.0.1:99999",
    "http://[::1%25lo]:{port}",
    "ftp://127.0.0.1:{port}",
]


@pytest.mark.parametrize("form", AMBIGUOUS)
@pytest.mark.parametrize("surface", ["/api/tools", "/api/v1/tools"])
def test_an_ambiguous_base_url_is_refused_naming_the_field(api, recorder, form, surface):
    base, received = recorder
    url = form.format(port=base.rsplit(":", 1)[1])
    nested = api.post(surface, {"name": "mine", "spec": {"connection": {"baseUrl": url}}})
    assert nested.status_code == 400 and error_of(nested).startswith("spec.connection.baseUrl ")
    flat = api.post(surface, {"name": "mine", "base_url": url})
    assert flat.status_code == 400 and error_of(flat).startswith("base_url ")
    deploy = api.post(
        "/api/deploy", {"agent_name": "bot", "image": "i", "tools_to_create": [{"name": "mine", "base_url": url}]}
    )
    assert deploy.status_code == 400 and error_of(deploy).startswith("tools_to_create[0].base_url ")
    assert api.get("/api/tools/mine").status_code == 404
    assert api.get("/api/agents/agent-system/bot").status_code == 404


def test_the_forwarded_call_goes_to_the_address_that_was_checked(api, recorder):
    """A tool registered before the rule (a restored state) with the differential form is
    never connected to: the loopback check and the connection read the same pieces."""
    base, received = recorder
    for name, url in (("mine", base), ("upper", base.replace("127.0.0.1", "LOCALHOST") + "/api/")):
        assert (
            api.post(
                "/api/tools",
                {
                    "name": name,
                    "spec": {"connection": {"baseUrl": url}, "governance": {"accessControl": {"mode": "Open"}}},
                },
            ).status_code
            == 201
        )
    assert (
        api.post("/api/deploy", {"agent_name": "bot", "image": "i", "required_tools": ["mine", "upper"]}).status_code
        == 201
    )
    api.mock.platform.tools.items["mine"]["spec"]["connection"]["baseUrl"] = base + "\\[::1]"
    api.post("/api/policies", {"name": "all", "rules": [{"permission": "allow", "resource": "*"}]})
    api.post(
        "/api/policy-bindings",
        {"name": "bot-all", "policy": "all", "subjects": [{"kind": "ServiceAccount", "name": "bot"}]},
    )
    answer = api.get(EGRESS + "/mine/x", auth=False)
    assert answer.status_code == 200 and answer.json["tool"] == "mine"  # echoed, not forwarded
    assert received == []
    assert api.get(EGRESS + "/upper/x", auth=False).status_code == 200
    assert received == ["/api/x"]


def test_the_document_and_the_domain_state_one_base_url_rule(api):
    """The schema's pattern is the domain model's (one rule), and both releases' documents carry it."""
    from mockserver.services.tools.models import BASE_URL_PATTERN

    for surface in api.mock.surfaces:
        schemas = surface.spec.document["components"]["schemas"]
        assert schemas["ToolBaseUrl"]["pattern"] == BASE_URL_PATTERN, surface.name


@pytest.mark.parametrize(
    "url", ["https://api.example.com:08/v1/", "http://[1::]:65535/a/...b/.c", "http://127.0.0.1:8080/x%41y"]
)
def test_unusual_but_unambiguous_base_urls_are_kept(api, url):
    assert api.post("/api/tools", {"name": "mine", "base_url": url}).status_code == 201
