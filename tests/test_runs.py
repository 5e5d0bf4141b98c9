"""/runs: the run state machine, the event log and blocked actions."""

from __future__ import annotations

import re
import uuid

import pytest
from api_support import error_of

RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def new_run(api, **extra):
    body = {"agent_id": "payment-agent", "user_id": "user@example.com", **extra}
    response = api.post("/runs", body)
    assert response.status_code == 201
    return response.get_json()


def test_create_run(api):
    run = new_run(api, conversation_id="conv-abc123", namespace="agent-system")
    assert uuid.UUID(run["id"]).version == 4
    assert run["status"] == "RUNNING"
    assert run["conversation_id"] == "conv-abc123"
    assert RFC3339_UTC.match(run["created_at"]) and run["created_at"] == run["updated_at"]
    assert run["invoke_url"] == "http://payment-agent.agent-system.svc.cluster.local:8080/invoke"
    assert api.get(f"/runs/{run['id']}").get_json() == run


def test_invoke_url_is_kept_when_given(api):
    assert new_run(api, invoke_url="http://x/invoke")["invoke_url"] == "http://x/invoke"


@pytest.mark.parametrize(
    "body, message",
    [
        ({"user_id": "u"}, "agent_id is required"),
        ({"agent_id": "a"}, "user_id is required"),
        ({"agent_id": "", "user_id": "u"}, "agent_id is required"),
    ],
)
def test_create_run_requires_agent_and_user(api, body, message):
    response = api.post("/runs", body)
    assert response.status_code == 400 and error_of(response) == message


def test_missing_run_is_documented_404(api):
    for method, path in [
        ("GET", "/runs/nope"),
        ("PATCH", "/runs/nope"),
        ("GET", "/runs/nope/events"),
        ("POST", "/runs/nope/events"),
        ("POST", "/runs/nope/actions"),
    ]:
        body = {"status": "COMPLETED", "type": "USER_MESSAGE", "tool_id": "t"}
        response = api.request(method, path, json_body=body)
        assert response.status_code == 404 and error_of(response) == "run nope not found", path


def test_list_without_filter_shows_only_running(api):
    running = new_run(api)
    done = new_run(api)
    api.patch(f"/runs/{done['id']}", {"status": "COMPLETED"})
    assert [r["id"] for r in api.get("/runs").get_json()] == [running["id"]]
    assert [r["id"] for r in api.get("/runs?status=COMPLETED").get_json()] == [done["id"]]


def test_list_filters_by_agent_and_accepts_the_cli_alias(api):
    mine = new_run(api, agent_id="a1")
    new_run(api, agent_id="a2")
    api.patch(f"/runs/{mine['id']}", {"status": "FAILED"})
    assert [r["id"] for r in api.get("/runs?agent_id=a1").get_json()] == [mine["id"]]
    assert [r["id"] for r in api.get("/runs?agent=a1").get_json()] == [mine["id"]]
    assert api.get("/runs?agent_id=a1&status=RUNNING").get_json() == []


ALLOWED = [
    ("RUNNING", "PAUSED_APPROVAL"),
    ("RUNNING", "COMPLETED"),
    ("RUNNING", "FAILED"),
    ("PAUSED_APPROVAL", "RUNNING"),
    ("PAUSED_APPROVAL", "FAILED"),
]
STATUSES = ["RUNNING", "PAUSED_APPROVAL", "COMPLETED", "FAILED"]


def run_in(api, status):
    run = new_run(api)
    if status != "RUNNING":  # every other status is one step from RUNNING
        assert api.patch(f"/runs/{run['id']}", {"status": status}).status_code == 200
    return run["id"]


@pytest.mark.parametrize("current", STATUSES)
@pytest.mark.parametrize("new", STATUSES)
def test_transitions(api, current, new):
    run_id = run_in(api, current)
    response = api.patch(f"/runs/{run_id}", {"status": new})
    if (current, new) in ALLOWED:
        assert response.status_code == 200
        assert response.get_json()["status"] == new
        assert api.get(f"/runs/{run_id}").get_json()["status"] == new
    else:
        assert response.status_code == 409
        assert error_of(response) == f"invalid transition from {current} to {new}"
        assert api.get(f"/runs/{run_id}").get_json()["status"] == current


def test_events_get_gapless_sequence_numbers(api):
    run = new_run(api)
    types = ["USER_MESSAGE", "AGENT_MESSAGE", "TOOL_REQUEST", "TOOL_RESPONSE", "COMPLETED"]
    for t in types:
        event = api.post(f"/runs/{run['id']}/events", {"type": t, "actor": "payment-agent"})
        assert event.status_code == 201
    events = api.get(f"/runs/{run['id']}/events").get_json()
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert [e["type"] for e in events] == types
    assert all(e["run_id"] == run["id"] and RFC3339_UTC.match(e["timestamp"]) for e in events)
    assert len({e["event_id"] for e in events}) == 5
    assert [e["seq"] for e in api.get(f"/runs/{run['id']}/events?limit=2").get_json()] == [4, 5]


def test_event_sequences_are_per_run(api):
    a, b = new_run(api), new_run(api)
    api.post(f"/runs/{a['id']}/events", {"type": "USER_MESSAGE"})
    assert api.post(f"/runs/{b['id']}/events", {"type": "USER_MESSAGE"}).get_json()["seq"] == 1


def test_unknown_event_type_is_400(api):
    run = new_run(api)
    response = api.post(f"/runs/{run['id']}/events", {"type": "TOOL_CALL"})
    assert response.status_code == 400
    assert error_of(response).startswith("type must be one of: USER_MESSAGE, AGENT_MESSAGE")
    assert api.get(f"/runs/{run['id']}/events").get_json() == []


def test_event_payload_hash_from_header_and_data_echoed(api):
    run = new_run(api)
    event = api.post(
        f"/runs/{run['id']}/events",
        {"type": "TOOL_REQUEST", "data": {"tool": "stripe-api"}},
        headers={"X-Payload-Hash": "sha256:h1"},
    ).get_json()
    assert event["payload_hash"] == "sha256:h1" and event["data"] == {"tool": "stripe-api"}
    event = api.post(
        f"/runs/{run['id']}/events",
        {"type": "TOOL_REQUEST", "payload_hash": "sha256:body"},
        headers={"X-Payload-Hash": "sha256:h1"},
    ).get_json()
    assert event["payload_hash"] == "sha256:body"


def test_blocked_action_pauses_the_run(api):
    run = new_run(api)
    response = api.post(
        f"/runs/{run['id']}/actions",
        {"tool_id": "stripe-api", "capability": "create-charge", "payload_hash": "sha256:a1"},
    )
    assert response.status_code == 201
    action = response.get_json()
    assert action["status"] == "BLOCKED" and action["run_id"] == run["id"]
    assert action["tool_id"] == "stripe-api" and action["capability"] == "create-charge"
    paused = api.get(f"/runs/{run['id']}").get_json()
    assert paused["status"] == "PAUSED_APPROVAL" and paused["blocked_action_id"] == action["action_id"]
    assert [e["type"] for e in api.get(f"/runs/{run['id']}/events").get_json()] == ["APPROVAL_REQUIRED"]
    assert api.get(f"/runs/{run['id']}/actions/{action['action_id']}").get_json() == action


def test_actions_need_a_running_run(api):
    run = new_run(api)
    api.post(f"/runs/{run['id']}/actions", {"tool_id": "t"})
    response = api.post(f"/runs/{run['id']}/actions", {"tool_id": "t"})
    assert response.status_code == 409
    assert error_of(response) == "run is PAUSED_APPROVAL, must be RUNNING to create actions"
    done = new_run(api)
    api.patch(f"/runs/{done['id']}", {"status": "COMPLETED"})
    response = api.post(f"/runs/{done['id']}/actions", {"tool_id": "t"})
    assert error_of(response) == "run is COMPLETED, must be RUNNING to create actions"


def test_action_requires_tool_id(api):
    run = new_run(api)
    response = api.post(f"/runs/{run['id']}/actions", {})
    assert response.status_code == 400 and error_of(response) == "tool_id is required"


def blocked(api, payload_hash=None, header_hash=None):
    run = new_run(api)
    body = {"tool_id": "stripe-api", **({"payload_hash": payload_hash} if payload_hash else {})}
    headers = {"X-Payload-Hash": header_hash} if header_hash else None
    action = api.post(f"/runs/{run['id']}/actions", body, headers=headers).get_json()
    return run["id"], action["action_id"]


def test_approve_resumes_the_run(api):
    run_id, action_id = blocked(api, "sha256:abc123")
    response = api.post(f"/runs/{run_id}/actions/{action_id}/approve", {"payload_hash": "sha256:abc123"})
    assert response.status_code == 200
    approved = response.get_json()
    assert approved["status"] == "APPROVED" and approved["action_id"] == action_id
    run = api.get(f"/runs/{run_id}").get_json()
    assert run["status"] == "RUNNING" and "blocked_action_id" not in run
    assert [e["type"] for e in api.get(f"/runs/{run_id}/events").get_json()] == [
        "APPROVAL_REQUIRED",
        "APPROVED",
        "RESUMED",
    ]


def test_approve_hash_mismatch_is_409_and_changes_nothing(api):
    run_id, action_id = blocked(api, "sha256:abc123")
    for body in ({"payload_hash": "sha256:other"}, {}, None):
        response = api.post(f"/runs/{run_id}/actions/{action_id}/approve", body)
        assert response.status_code == 409 and error_of(response) == "payload_hash mismatch"
    assert api.get(f"/runs/{run_id}/actions/{action_id}").get_json()["status"] == "BLOCKED"
    assert api.get(f"/runs/{run_id}").get_json()["status"] == "PAUSED_APPROVAL"


def test_approve_hash_from_header(api):
    run_id, action_id = blocked(api, header_hash="sha256:hdr")
    assert api.get(f"/runs/{run_id}/actions/{action_id}").get_json()["payload_hash"] == "sha256:hdr"
    response = api.post(f"/runs/{run_id}/actions/{action_id}/approve", headers={"X-Payload-Hash": "sha256:hdr"})
    assert response.status_code == 200


def test_approve_without_hash_needs_none(api):
    run_id, action_id = blocked(api)
    assert api.post(f"/runs/{run_id}/actions/{action_id}/approve").status_code == 200


def test_approve_twice_is_409(api):
    run_id, action_id = blocked(api)
    api.post(f"/runs/{run_id}/actions/{action_id}/approve")
    response = api.post(f"/runs/{run_id}/actions/{action_id}/approve")
    assert response.status_code == 409
    assert error_of(response) == "action is APPROVED, must be BLOCKED to approve"


def test_unknown_action_is_404(api):
    run_id, _ = blocked(api)
    for method, suffix in [("POST", "/approve"), ("GET", "")]:
        response = api.request(method, f"/runs/{run_id}/actions/ghost{suffix}")
        assert response.status_code == 404 and error_of(response) == "action ghost not found"
    other_run, _ = blocked(api)
    _, action_id = blocked(api)
    response = api.post(f"/runs/{other_run}/actions/{action_id}/approve")
    assert response.status_code == 404 and error_of(response) == f"action {action_id} not found"


def test_complete_example_from_the_docs(api):
    """The runs page's complete lifecycle example, step by step."""
    run = api.post(
        "/runs", {"agent_id": "payment-agent", "user_id": "admin@example.com", "namespace": "agent-system"}
    ).get_json()
    run_id = run["id"]
    api.post(f"/runs/{run_id}/events", {"type": "USER_MESSAGE", "actor": "admin@example.com"})
    api.post(f"/runs/{run_id}/events", {"type": "TOOL_REQUEST", "actor": "payment-agent"})
    action = api.post(
        f"/runs/{run_id}/actions",
        {"tool_id": "stripe-api", "capability": "create-charge", "payload_hash": "sha256:abc123"},
    ).get_json()
    assert api.get(f"/runs/{run_id}").get_json()["status"] == "PAUSED_APPROVAL"
    approved = api.post(f"/runs/{run_id}/actions/{action['action_id']}/approve", {"payload_hash": "sha256:abc123"})
    assert approved.status_code == 200
    completed = api.patch(f"/runs/{run_id}", {"status": "COMPLETED"})
    assert completed.status_code == 200 and completed.get_json()["status"] == "COMPLETED"
    events = api.get(f"/runs/{run_id}/events").get_json()
    assert [e["type"] for e in events] == ["USER_MESSAGE", "TOOL_REQUEST", "APPROVAL_REQUIRED", "APPROVED", "RESUMED"]
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]


def test_the_derived_invoke_url_stays_a_url_whatever_the_agent_id(api):
    # An unquoted "]" made URL parsers (schemathesis among them) fail on the whole body (issue 12).
    run = api.post("/runs", {"agent_id": "a]b/c", "user_id": "u"}).get_json()
    assert run["invoke_url"] == "http://a%5Db%2Fc.agent-system.svc.cluster.local:8080/invoke"
