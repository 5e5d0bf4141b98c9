"""Governance as the platform defines it (issue 22, points 1-4), with the vendor SDK's agent
runtime (1.3.1) as the agent process, on the default workspace and on a named one: approval
scopes, one blocked action per paused run, an end user the agent cannot forge, and the run's
events as a complete audit trail. Runs are started by a client app through the workspace's
ingress with an end user's JWT; operators decide through the June approvals API."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from runtime_support import AGENT, NAMESPACE, WorkspaceWorld, free_port, start_agent_process, stop_process

WORKSPACES = ["default", "team-b"]
CHARGE = {"tool": "billing", "method": "POST", "path": "/v1/charges", "amount": 42}
DONE = ("COMPLETED", "FAILED")


@pytest.fixture(scope="module")
def agents(live_mock) -> Iterator[dict[str, str]]:
    """One SDK runtime per workspace, started with the env that workspace gives the agent."""
    here = Path(__file__).parent / "sdk_agent"
    started, urls = [], {}
    for workspace in WORKSPACES:
        env = WorkspaceWorld(live_mock.url, workspace).build()
        port = free_port()
        started.append(
            start_agent_process(
                [sys.executable, "-m", "runagents.runtime"],
                {**env, "USER_ENTRY_POINT": "agent_main", "RUNAGENTS_USER_CODE_DIR": str(here)},
                port,
                here,
            )
        )
        urls[workspace] = f"http://127.0.0.1:{port}"
    yield urls
    for process in started:
        stop_process(process)


@pytest.fixture(params=WORKSPACES)
def ws(request, live_mock, agents) -> WorkspaceWorld:
    world = WorkspaceWorld(live_mock.url, request.param)
    world.env = world.build(endpoint=agents[request.param])
    return world


def paused(world: WorkspaceWorld, user: str, call: dict = CHARGE) -> tuple[dict, dict]:
    """Invoke for ``user``; the tool proxy blocks the call: (approval detail, the paused run)."""
    detail = world.invoke_as(user, call)["approval_required"]
    run = world.run(world.request(detail["request_id"])["run_id"])
    assert run["status"] == "PAUSED_APPROVAL" and run["blocked_action_id"] == detail["action_id"]
    return detail, run


def finished(world: WorkspaceWorld, run_id: str) -> dict:
    return world.wait_for_run(run_id, DONE)


def charges(world: WorkspaceWorld, run_id: str) -> list[int]:
    """The billing tool's answers in the run, as its events record them."""
    return [
        e["data"]["status"] for e in world.events(run_id) if e["type"] == "TOOL_RESPONSE" and e["actor"] == "billing"
    ]


# --- 1. approval scopes -----------------------------------------------------------------


def test_once_approves_the_exact_blocked_action_and_nothing_else(ws):
    detail, run = paused(ws, "alice")
    approved = ws.decide(detail["request_id"], "approve", {"scope": "once"})
    assert approved.status_code == 200 and approved.json()["scope"] == "once"
    assert finished(ws, run["id"])["status"] == "COMPLETED"
    action = ws.call("GET", f"{ws.api}/runs/{run['id']}/actions/{detail['action_id']}").json()
    assert action["status"] == "EXECUTED"
    # Another user's run, and another run of the same user, ask again.
    for user in ("bob", "alice"):
        again, other = paused(ws, user)
        assert again["request_id"] != detail["request_id"] and other["id"] != run["id"]


def test_once_is_spent_by_the_action_it_approved(ws):
    # The agent charges the same body twice in one run: the second asks again.
    detail, run = paused(ws, "alice", {**CHARGE, "amounts": [42, 42]})
    ws.decide(detail["request_id"], "approve", {"scope": "once"})
    run = ws.wait_for_run(run["id"], ("PAUSED_APPROVAL",) + DONE)
    assert run["status"] == "PAUSED_APPROVAL" and run["blocked_action_id"] != detail["action_id"]
    action = ws.call("GET", f"{ws.api}/runs/{run['id']}/actions/{detail['action_id']}").json()
    assert action["status"] == "EXECUTED"


def test_no_scope_is_once_and_a_duration_alone_is_the_window(ws):
    detail, run = paused(ws, "alice")
    approved = ws.decide(detail["request_id"], "approve").json()  # no body at all
    assert approved["scope"] == "once" and "expires_at" not in approved
    assert finished(ws, run["id"])["status"] == "COMPLETED"
    detail, run = paused(ws, "alice")
    windowed = ws.decide(detail["request_id"], "approve", {"duration": "30m"}).json()
    assert windowed["scope"] == "agent_user_ttl" and windowed["duration"] == "30m"
    refused = ws.decide(paused(ws, "carol")[0]["request_id"], "approve", {"scope": "once", "duration": "1h"})
    assert refused.status_code == 400
    assert refused.json() == {"error": "duration applies to scope agent_user_ttl only, not once"}


def test_run_lets_the_same_operation_through_in_that_run_only(ws):
    two = {**CHARGE, "amounts": [42, 43]}
    detail, run = paused(ws, "alice", two)
    assert ws.decide(detail["request_id"], "approve", {"scope": "run"}).status_code == 200
    assert finished(ws, run["id"])["status"] == "COMPLETED"
    assert charges(ws, run["id"]) == [200, 200]  # the second charge needed no new approval
    # A new run of the same user is not covered.
    paused(ws, "alice", two)


def test_once_does_not_cover_a_second_call_with_another_body(ws):
    detail, run = paused(ws, "alice", {**CHARGE, "amounts": [42, 43]})
    ws.decide(detail["request_id"], "approve", {"scope": "once"})
    run = ws.wait_for_run(run["id"], ("PAUSED_APPROVAL",) + DONE)
    assert run["status"] == "PAUSED_APPROVAL" and run["blocked_action_id"] != detail["action_id"]
    pending = ws.call("GET", f"{ws.api}/approvals/requests?status=PENDING").json()  # a bare list is every request
    second = [r for r in pending if r["run_id"] == run["id"]]
    assert len(second) == 1 and second[0]["id"] != detail["request_id"]


def test_window_resumes_exactly_the_runs_of_that_user_and_ends_on_the_clock(ws):
    first, run_a = paused(ws, "alice")
    second, run_b = paused(ws, "alice")
    third, run_c = paused(ws, "bob")
    approved = ws.decide(first["request_id"], "approve", {"scope": "agent_user_ttl", "duration": "1h"}).json()
    assert approved["scope"] == "agent_user_ttl"
    assert finished(ws, run_a["id"])["status"] == "COMPLETED"
    assert finished(ws, run_b["id"])["status"] == "COMPLETED"  # alice's other waiting run, covered
    assert ws.request(second["request_id"])["status"] == "APPROVED"
    assert ws.run(run_c["id"])["status"] == "PAUSED_APPROVAL"  # bob's is not
    assert ws.request(third["request_id"])["status"] == "PENDING"
    # A new run of alice passes within the window, bob still asks.
    reply = ws.invoke_as("alice", CHARGE)
    assert reply["tool_status"] == 200
    paused(ws, "bob")
    ws.call("POST", f"{ws.control}/clock/advance", json={"seconds": 3601})
    paused(ws, "alice")


# --- 2. one blocked action per paused run -------------------------------------------------


def test_a_second_run_blocked_on_the_same_tool_pauses_with_its_own_action(ws):
    detail_a, run_a = paused(ws, "alice")
    detail_b, run_b = paused(ws, "bob")
    assert detail_a["action_id"] != detail_b["action_id"] and detail_a["request_id"] != detail_b["request_id"]
    assert [e["type"] for e in ws.events(run_b["id"]) if e["type"] == "APPROVAL_REQUIRED"] == ["APPROVAL_REQUIRED"]
    checkpoint = ws.call("GET", f"{ws.runtime}/runs/{run_b['id']}/checkpoint/{detail_b['action_id']}", headers={})
    assert checkpoint.status_code == 200  # the SDK checkpointed under its own run's action
    ws.decide(detail_a["request_id"], "approve")
    assert finished(ws, run_a["id"])["status"] == "COMPLETED"
    assert ws.run(run_b["id"])["status"] == "PAUSED_APPROVAL"
    ws.decide(detail_b["request_id"], "approve")
    assert finished(ws, run_b["id"])["status"] == "COMPLETED"
    assert charges(ws, run_b["id"]) == [200]  # bob's charge happened too


# --- 3. the end user the tool sees ------------------------------------------------------


def test_the_agent_cannot_forge_the_end_user(ws):
    reply = ws.invoke_as("alice", {"tool": "echo-tool", "path": "/me", "forge_user": "mallory@evil.test"})
    assert json.loads(reply["response"])["headers"]["X-End-User-ID"] == "alice"
    # Straight through the proxy: no run, no identity, so no end user at all.
    direct = requests.get(ws.env["TOOL_URL_ECHO_TOOL"] + "/me", headers={"X-End-User-ID": "mallory"}, timeout=10)
    assert direct.status_code == 200 and "X-End-User-ID" not in direct.json()["headers"]


def test_an_invoke_without_an_end_user_names_none_to_the_tool(live_mock, agents):
    world = WorkspaceWorld(live_mock.url, "default")
    world.build(endpoint=agents["default"])
    answer = world.call(
        "POST",
        f"/api/agents/{NAMESPACE}/{AGENT}/invoke",  # an API key, no X-End-User-ID
        json={"message": json.dumps({"tool": "echo-tool", "path": "/me", "forge_user": "mallory"})},
    )
    assert answer.status_code == 200
    assert "X-End-User-ID" not in json.loads(answer.json()["response"])["headers"]
    [run] = world.call("GET", f"/runs?agent_id={AGENT}").json()
    assert run["user_id"] == "anonymous"  # the run record needs a user; the tool is told none


# --- 4. the audit trail -----------------------------------------------------------------


def test_every_step_of_an_approved_run_is_in_its_events(ws):
    detail, run = paused(ws, "alice")
    ws.decide(
        detail["request_id"],
        "approve",
        headers={"Authorization": "Bearer runtime-test", "X-End-User-ID": "lead@example.com"},
    )
    assert finished(ws, run["id"])["status"] == "COMPLETED"
    trail = [(e["type"], e.get("actor")) for e in ws.events(run["id"])]
    assert trail == [
        ("USER_MESSAGE", "alice"),
        ("TOOL_REQUEST", AGENT),
        ("APPROVAL_REQUIRED", "governance"),
        ("APPROVED", "lead@example.com"),
        ("RESUMED", "governance"),
        ("TOOL_REQUEST", AGENT),
        ("TOOL_RESPONSE", "billing"),
        ("AGENT_MESSAGE", None),
        ("COMPLETED", None),
    ]


def test_refused_calls_and_a_rejection_are_in_the_events(ws):
    # 403 operation not permitted (no capability for PUT)
    ws.invoke_as("alice", {**CHARGE, "method": "PUT"})
    # 409: the body changed between approval and retry
    detail, tampered = paused(ws, "alice", {**CHARGE, "tamper_on_resume": True})
    ws.decide(detail["request_id"], "approve")
    assert finished(ws, tampered["id"])["status"] == "COMPLETED"
    # 403 after a rejection
    detail, rejected = paused(ws, "alice")
    assert ws.decide(detail["request_id"], "reject", {"reason": "no"}).status_code == 200
    again = requests.post(
        ws.env["TOOL_URL_BILLING"] + "/v1/charges",
        json={"amount": 42},
        headers={"X-Run-ID": rejected["id"]},
        timeout=10,
    )
    assert again.status_code == 403

    def refusals(run_id: str) -> list[tuple]:
        return [
            (e["data"]["status"], e["data"]["error"])
            for e in ws.events(run_id)
            if e["type"] == "TOOL_RESPONSE" and "error" in e.get("data", {})
        ]

    runs = ws.call("GET", f"{ws.api}/runs?agent_id={AGENT}&status=COMPLETED").json()
    assert any(refusals(r["id"]) == [(403, "operation not permitted")] for r in runs)
    assert refusals(tampered["id"]) == [(409, "payload_hash mismatch")]
    trail = [(e["type"], e.get("actor")) for e in ws.events(rejected["id"])]
    assert trail[-4:] == [
        ("REJECTED", "admin"),
        ("FAILED", "governance"),
        ("TOOL_REQUEST", AGENT),
        ("TOOL_RESPONSE", "governance"),
    ]
    assert refusals(rejected["id"]) == [(403, "access to tool billing was rejected for this run")]


def test_consent_is_asked_and_given_on_the_workspace_of_the_run(ws):
    from urllib.parse import parse_qs, urlsplit

    drive = {"tool": "drive", "method": "GET", "path": "/files"}
    reply = ws.invoke_as("bob", drive)
    assert reply["code"] == "CONSENT_REQUIRED"
    callback = parse_qs(urlsplit(reply["authorization_url"]).query)
    assert callback["redirect_uri"] == [f"{ws.url}{ws.runtime}/_oauth/callback"]
    run = ws.call("GET", f"{ws.api}/runs?agent_id={AGENT}").json()[-1]
    assert [e["type"] for e in ws.events(run["id"])] == ["USER_MESSAGE", "TOOL_REQUEST", "CONSENT_REQUIRED"]
    given = requests.get(callback["redirect_uri"][0], params={"state": callback["state"][0]}, timeout=10)
    assert given.status_code == 200 and given.json()["user"] == "bob"
    assert "Authorization" in json.loads(ws.invoke_as("bob", drive)["response"])["headers"]


# --- issue 21, defect 5: workspaces never see each other ----------------------------------


def test_a_named_workspace_runs_its_agent_and_never_touches_the_default(live_mock, agents):
    default, named = WorkspaceWorld(live_mock.url, "default"), WorkspaceWorld(live_mock.url, "team-b")
    default.build(endpoint=agents["default"])
    env = named.build(endpoint=agents["team-b"])
    assert env["GOVERNANCE_URL"] == f"{live_mock.url}/_workspaces/team-b"
    assert env["TOOL_URL_BILLING"] == f"{live_mock.url}/_workspaces/team-b/_egress/agent-system/{AGENT}/billing"
    detail, run = paused(named, "alice")
    named.decide(detail["request_id"], "approve")
    assert finished(named, run["id"])["status"] == "COMPLETED"  # team-b's own resume worker
    # The default workspace saw none of it; its API does not know team-b's run or request.
    assert default.state()["runs"]["runs"] == [] and default.state()["access_requests"]["items"] == []
    assert default.call("GET", f"/runs/{run['id']}").status_code == 404
    assert default.call("POST", f"/governance/requests/{detail['request_id']}/approve").status_code == 404
    # A run of one workspace is unknown on the other's tool proxy.
    crossed = requests.post(
        f"{live_mock.url}/_egress/agent-system/{AGENT}/echo-tool/x",
        json={},
        headers={"X-Run-ID": run["id"]},
        timeout=10,
    )
    assert crossed.status_code == 404 and crossed.json() == {"error": f"run {run['id']} not found"}
    journal = default.call("GET", "/_mock/workspaces/team-b/journal").json()
    assert any(e["path"].startswith("/_workspaces/team-b/_egress/") for e in journal)
    assert not any(
        e["path"].startswith("/_workspaces/") for e in default.call("GET", "/_mock/workspaces/default/journal").json()
    )
