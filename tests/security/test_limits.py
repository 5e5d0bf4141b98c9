"""Resource limits (create_app settings ``max_body_bytes``, ``max_objects_per_kind``,
``journal_size``): configurable, answered with a clear 4xx when reached, and a refused
request leaves no trace in the state."""

from __future__ import annotations

import json

import pytest
from reliability_support import Client, fresh_client, json_error, live_mock

from mockserver.spec.conformance import response_problems

LIMIT = 3


def assert_limit_refusal(c: Client, response, before: bytes, kind: str) -> None:
    assert response.status_code == 409, response.text[:300]
    assert json_error(response) == f"limit of {LIMIT} {kind} reached"
    assert c.state_bytes() == before, "a refused create changed the state"


@pytest.fixture(scope="module")
def limited():
    with live_mock({"max_objects_per_kind": LIMIT, "max_body_bytes": 2048}) as live:
        yield live


@pytest.fixture
def c(limited) -> Client:
    return fresh_client(limited)


def _tool(name: str) -> dict:
    return {"name": name, "base_url": "https://x.example.com"}


def _run(c: Client) -> str:
    return c.ok("POST", "/runs", {"agent_id": "a", "user_id": "u"}, 201)["id"]


# --- max_body_bytes ------------------------------------------------------------------------


def test_body_exactly_at_the_limit_is_read_and_one_byte_more_is_a_413(limited, c):
    def body_of(size: int) -> bytes:
        text = json.dumps(_tool("t") | {"description": ""})
        return json.dumps(_tool("t") | {"description": "x" * (size - len(text))}).encode()

    assert c.post("/api/tools", data=body_of(2048), headers={"Content-Type": "application/json"}).status_code == 201
    before = c.state_bytes()
    response = c.post("/api/tools", data=body_of(2049), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert json_error(response) == "request body is larger than 2048 bytes"
    assert not response_problems(
        limited.mock.spec, "POST", "/api/tools", 413, response.headers["Content-Type"], response.content
    )
    assert c.state_bytes() == before


# --- max_objects_per_kind ------------------------------------------------------------------

CREATES = {
    "tools": lambda c, i: c.post("/api/tools", _tool(f"t{i}")),
    "model providers": lambda c, i: c.post(
        "/api/model-providers",
        {
            "name": f"p{i}",
            "spec": {
                "provider": "openai",
                "endpoint": "https://api.openai.com",
                "models": [f"m{i}"],
                "auth": {"type": "None"},
            },
        },
    ),
    "identity providers": lambda c, i: c.post(
        "/api/identity-providers",
        {
            "name": f"i{i}",
            "spec": {
                "host": "a.example.com",
                "userIDClaim": "email",
                "identityProvider": {"issuer": "https://id.example.com/", "jwksUri": "https://id.example.com/jwks"},
            },
        },
    ),
    "agents": lambda c, i: c.post("/api/deploy", {"agent_name": f"a{i}", "image": "registry.example.com/a:1"}),
    "runs": lambda c, i: c.post("/runs", {"agent_id": "a", "user_id": f"u{i}"}),
    "access requests": lambda c, i: c.post("/governance/requests", {"subject": f"s{i}", "tool_id": "t"}),
    "builds": lambda c, i: c.post("/api/builds", {"name": f"b{i}", "files": {"main.py": f"x = {i}\n"}}),
    "analyses": lambda c, i: c.post("/analyze", {"files": {"main.py": f"x = {i}\n"}}),
}


@pytest.mark.parametrize("kind", sorted(CREATES))
def test_one_object_over_the_limit_is_a_clear_409_and_changes_nothing(limited, c, kind):
    create = CREATES[kind]
    for i in range(LIMIT):
        assert create(c, i).status_code in (200, 201, 202)
    before = c.state_bytes()
    response = create(c, LIMIT)
    assert_limit_refusal(c, response, before, kind)
    path = response.request.path_url
    assert not response_problems(
        limited.mock.spec, "POST", path, 409, response.headers["Content-Type"], response.content
    ), "the limit answer is not in openapi.yaml"


def test_events_of_a_run_are_limited_per_run(c):
    run_id, other = _run(c), _run(c)
    for _ in range(LIMIT):
        c.ok("POST", f"/runs/{run_id}/events", {"type": "USER_MESSAGE"}, 201)
    before = c.state_bytes()
    assert_limit_refusal(c, c.post(f"/runs/{run_id}/events", {"type": "USER_MESSAGE"}), before, "events in this run")
    # Another run has its own allowance.
    c.ok("POST", f"/runs/{other}/events", {"type": "USER_MESSAGE"}, 201)


def test_updates_and_deletes_still_work_at_the_limit(c):
    for i in range(LIMIT):
        c.ok("POST", "/api/tools", _tool(f"t{i}"), 201)
    # Create-or-update of an existing name is not a new object.
    c.ok("POST", "/api/tools", {**_tool("t0"), "description": "updated"}, 201)
    c.ok("DELETE", "/api/tools/t1")
    c.ok("POST", "/api/tools", _tool("t-new"), 201)
    assert sorted(t["name"] for t in c.ok("GET", "/api/tools")) == ["t-new", "t0", "t2"]


def test_deploy_over_the_tool_limit_creates_none_of_its_tools(c):
    c.ok("POST", "/api/tools", _tool("existing"), 201)
    before = c.state_bytes()
    response = c.post(
        "/api/deploy",
        {
            "agent_name": "a",
            "image": "registry.example.com/a:1",
            "tools_to_create": [_tool(f"new-{i}") for i in range(LIMIT)],
        },
    )
    assert_limit_refusal(c, response, before, "tools")


def test_deploy_over_the_build_limit_creates_none_of_its_tools(c):
    for i in range(LIMIT):
        c.ok("POST", "/api/builds", {"name": f"b{i}", "files": {"main.py": "x = 1\n"}}, 202)
    before = c.state_bytes()
    response = c.post(
        "/api/deploy",
        {"agent_name": "a", "source_files": {"main.py": "x = 2\n"}, "tools_to_create": [_tool("new-tool")]},
    )
    assert_limit_refusal(c, response, before, "builds")


def test_blocking_an_action_on_a_full_event_log_changes_nothing(c):
    run_id = _run(c)
    for _ in range(LIMIT):
        c.ok("POST", f"/runs/{run_id}/events", {"type": "USER_MESSAGE"}, 201)
    before = c.state_bytes()
    response = c.post(f"/runs/{run_id}/actions", {"tool_id": "stripe-api"})
    assert_limit_refusal(c, response, before, "events in this run")
    assert c.ok("GET", f"/runs/{run_id}")["status"] == "RUNNING"


def test_approving_an_action_on_a_full_event_log_changes_nothing(c):
    run_id = _run(c)
    for _ in range(LIMIT - 1):
        c.ok("POST", f"/runs/{run_id}/events", {"type": "USER_MESSAGE"}, 201)
    action = c.ok("POST", f"/runs/{run_id}/actions", {"tool_id": "stripe-api"}, 201)  # the LIMIT-th event
    before = c.state_bytes()
    response = c.post(f"/runs/{run_id}/actions/{action['action_id']}/approve")
    assert_limit_refusal(c, response, before, "events in this run")
    # Still blocked, so a retry (after the limit is raised) can approve it.
    assert c.ok("GET", f"/runs/{run_id}/actions/{action['action_id']}")["status"] == "BLOCKED"


def test_approving_an_access_request_on_a_full_event_log_changes_nothing(c):
    run_id = _run(c)
    for _ in range(LIMIT - 1):
        c.ok("POST", f"/runs/{run_id}/events", {"type": "USER_MESSAGE"}, 201)
    request = c.ok("POST", "/governance/requests", {"subject": "s", "tool_id": "t", "run_id": run_id}, 201)
    before = c.state_bytes()
    response = c.post(f"/governance/requests/{request['id']}/approve")
    assert_limit_refusal(c, response, before, "events in this run")


# --- journal_size --------------------------------------------------------------------------


def test_journal_keeps_only_the_newest_entries():
    with live_mock({"journal_size": 5}) as live:
        c = Client(live.url)
        for i in range(12):
            c.get(f"/api/tools/t{i}")
        journal = c.journal()
        assert [e["path"] for e in journal] == [f"/api/tools/t{i}" for i in range(7, 12)]


def test_journal_size_zero_keeps_nothing_and_also_bounds_agent_invocations():
    # journal_size bounds every request log the mock keeps; the agent-invocation log uses it too.
    with live_mock({"journal_size": 0}) as live:
        c = Client(live.url)
        c.ok("POST", "/api/deploy", {"agent_name": "a", "image": "registry.example.com/a:1"}, 201)
        for i in range(5):
            c.ok("POST", "/api/agents/agent-system/a/invoke", {"message": f"m{i}"})
        assert c.journal() == []
        assert c.state()["agents"]["invocations"] == []


def test_agent_invocations_are_bounded_by_journal_size():
    with live_mock({"journal_size": 2}) as live:
        c = Client(live.url)
        c.ok("POST", "/api/deploy", {"agent_name": "a", "image": "registry.example.com/a:1"}, 201)
        for i in range(5):
            c.ok("POST", "/api/agents/agent-system/a/invoke", {"message": f"m{i}"})
        assert [i["body"]["message"] for i in c.state()["agents"]["invocations"]] == ["m3", "m4"]
