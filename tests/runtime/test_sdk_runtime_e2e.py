"""End to end with the vendor SDK's own agent runtime (runagents 1.3.1) as the agent process:
invoke through the API, the tool proxy's answers, approval and resume, rejection, consent,
grant expiry and the payload hash."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from runtime_support import AGENT, NAMESPACE

INVOKE = f"/api/agents/{NAMESPACE}/{AGENT}/invoke"


def invoke(world, call: dict, user: str = "alice") -> dict:
    response = world.call(
        "POST",
        INVOKE,
        json={"message": json.dumps(call)},
        headers={"Authorization": "Bearer runtime-test", "X-End-User-ID": user},
    )
    assert response.status_code == 200, response.text
    return response.json()


def latest_run(world) -> dict:
    runs = [
        r
        for status in ("RUNNING", "PAUSED_APPROVAL", "COMPLETED", "FAILED")
        for r in world.call("GET", f"/runs?status={status}").json()
    ]
    return max(runs, key=lambda r: (r["created_at"], len(world.events(r["id"]))))


CHARGE = {"tool": "billing", "method": "POST", "path": "/v1/charges", "amount": 42}


def pause_on_approval(world, call=CHARGE) -> tuple[dict, dict]:
    reply = invoke(world, call)
    detail = reply["approval_required"]
    run = world.run(reply_run_id(world, detail))
    return reply, run


def reply_run_id(world, detail: dict) -> str:
    request = world.call("GET", f"/governance/requests/{detail['request_id']}").json()
    return request["run_id"]


def test_open_tool_call_is_allowed_and_the_run_completes(world, sdk_agent):
    world.build(endpoint=sdk_agent)
    reply = invoke(world, {"tool": "echo-tool", "path": "/hello"})
    echoed = json.loads(reply["response"])
    assert echoed["url"] == "http://echo-tool.agent-system.svc:8080/hello"
    assert echoed["body"] == {"amount": 42}
    assert echoed["headers"]["X-End-User-ID"] == "alice"
    run = latest_run(world)
    assert run["status"] == "COMPLETED" and run["user_id"] == "alice"
    types = [e["type"] for e in world.events(run["id"])]
    assert types == ["USER_MESSAGE", "TOOL_REQUEST", "TOOL_RESPONSE", "AGENT_MESSAGE", "COMPLETED"]
    # The runtime reported the call for the run's history (keyless POST /runs/{id}/tool-result).
    state = world.call("GET", "/_mock/state").json()
    assert state["runtime"]["tool_results"][run["id"]][0]["tool_id"] == "echo-tool"


def test_capability_mismatch_is_a_plain_403_that_creates_no_request(world, sdk_agent):
    world.build(endpoint=sdk_agent)
    reply = invoke(world, {**CHARGE, "method": "PUT"})
    assert "operation not permitted" in reply["response"]
    assert world.call("GET", "/governance/requests").json() == []


def test_critical_tool_approval_resume_and_completion(world, sdk_agent):
    world.build(endpoint=sdk_agent)
    reply, run = pause_on_approval(world)
    detail = reply["approval_required"]
    assert detail["code"] == "APPROVAL_REQUIRED" and detail["tool"] == "billing" and detail["action_id"]
    assert run["status"] == "PAUSED_APPROVAL" and run["blocked_action_id"] == detail["action_id"]
    required = [e for e in world.events(run["id"]) if e["type"] == "APPROVAL_REQUIRED"]
    assert required[0]["data"] == {
        "tool_id": "billing",
        "capability": "create-charge",
        "tool_method": "POST",
        "tool_url": "https://billing.example.test/v1/charges",
    }
    action = world.call("GET", f"/runs/{run['id']}/actions/{detail['action_id']}").json()
    assert action["payload_hash"] == __import__("hashlib").sha256(b'{"amount": 42}').hexdigest()
    # The runtime stored its checkpoint without a key.
    assert world.call("GET", f"/runs/{run['id']}/checkpoint/{detail['action_id']}", headers={}).status_code == 200

    approved = world.call("POST", f"/governance/requests/{detail['request_id']}/approve", json={})
    assert approved.status_code == 200
    # No scope sent: `once`, the exact blocked action; no window, so no time-limited binding.
    assert approved.json()["scope"] == "once" and "expires_at" not in approved.json()
    assert f"{AGENT}-billing-jit" not in {b["name"] for b in world.call("GET", "/api/policy-bindings").json()}

    done = world.wait_for_run(run["id"], ("COMPLETED", "FAILED"))
    assert done["status"] == "COMPLETED"
    events = world.events(run["id"])
    assert [e["type"] for e in events][-6:] == [
        "APPROVED",
        "RESUMED",
        "TOOL_REQUEST",
        "TOOL_RESPONSE",
        "AGENT_MESSAGE",
        "COMPLETED",
    ]
    answered = json.loads(events[-2]["data"]["response"])
    assert answered["headers"]["X-Api-Key"] == "***"  # injected, and redacted in the echo
    assert world.call("GET", f"/runs/{run['id']}/actions/{detail['action_id']}").json()["status"] == "EXECUTED"
    world.assert_no_secret_leaked()


def test_rejection_fails_the_run_and_keeps_the_agent_out(world, sdk_agent, live_mock):
    env = world.build(endpoint=sdk_agent)
    reply, run = pause_on_approval(world)
    rejected = world.call(
        "POST", f"/governance/requests/{reply['approval_required']['request_id']}/reject", json={"reason": "not today"}
    )
    assert rejected.status_code == 200
    assert world.run(run["id"])["status"] == "FAILED"
    again = requests.post(
        env["TOOL_URL_BILLING"] + "/v1/charges", json={"amount": 42}, headers={"X-Run-ID": run["id"]}, timeout=10
    )
    assert again.status_code == 403
    assert again.json() == {"error": "access to tool billing was rejected for this run", "tool": "billing"}


def test_grant_expires_on_the_mock_clock(world, sdk_agent):
    world.build(endpoint=sdk_agent)
    reply, run = pause_on_approval(world)
    approved = world.call(
        "POST",
        f"/governance/requests/{reply['approval_required']['request_id']}/approve",
        json={"scope": "agent_user_ttl"},
    ).json()
    bindings = {b["name"]: b for b in world.call("GET", "/api/policy-bindings").json()}
    assert bindings[f"{AGENT}-billing-jit"]["expires_at"] == approved["expires_at"]  # the tool's 1h default
    assert world.wait_for_run(run["id"], ("COMPLETED", "FAILED"))["status"] == "COMPLETED"
    assert world.call("POST", "/_mock/clock/advance", json={"seconds": 3601}).status_code == 200
    assert f"{AGENT}-billing-jit" not in {b["name"] for b in world.call("GET", "/api/policy-bindings").json()}
    again = invoke(world, CHARGE)
    assert again["approval_required"]["request_id"] != reply["approval_required"]["request_id"]


def test_changed_payload_after_approval_is_a_409(world, sdk_agent):
    world.build(endpoint=sdk_agent)
    reply, run = pause_on_approval(world, {**CHARGE, "tamper_on_resume": True})
    world.call("POST", f"/governance/requests/{reply['approval_required']['request_id']}/approve", json={})
    assert world.wait_for_run(run["id"], ("COMPLETED", "FAILED"))["status"] == "COMPLETED"  # the agent answered
    egress = [e for e in world.call("GET", "/_mock/journal").json() if e["path"].startswith("/_egress/")]
    assert [e["status"] for e in egress] == [403, 409]
    assert egress[1]["body"] == {"amount": 43}
    assert (
        world.call("GET", f"/runs/{run['id']}/actions/{reply['approval_required']['action_id']}").json()["status"]
        == "APPROVED"
    )  # never executed


def test_oauth_consent_then_callback_then_allowed(world, sdk_agent):
    world.build(endpoint=sdk_agent)
    reply = invoke(world, {"tool": "drive", "method": "GET", "path": "/files"}, user="bob")
    assert reply["code"] == "CONSENT_REQUIRED"
    url = urlsplit(reply["authorization_url"])
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://accounts.example.test/o/oauth2/auth"
    assert query["client_id"] == ["drive-client"] and query["scope"] == ["drive.readonly"]
    callback = requests.get(query["redirect_uri"][0], params={"state": query["state"][0], "code": "c0de"}, timeout=10)
    assert callback.status_code == 200
    assert callback.json()["status"] == "connected" and callback.json()["user"] == "bob"
    replay = requests.get(query["redirect_uri"][0], params={"state": query["state"][0]}, timeout=10)
    assert replay.status_code == 400 and replay.json() == {"error": "OAuth state already used"}

    allowed = json.loads(invoke(world, {"tool": "drive", "method": "GET", "path": "/files"}, user="bob")["response"])
    assert allowed["headers"]["Authorization"] == "***"
    # Consent is per user: alice has none.
    assert (
        invoke(world, {"tool": "drive", "method": "GET", "path": "/files"}, user="alice")["code"] == "CONSENT_REQUIRED"
    )
    world.assert_no_secret_leaked()


@pytest.mark.parametrize("state", ["", "forged.0000", "eyJ1IjoiYm9iIn0.deadbeef"])
def test_forged_oauth_state_is_refused(world, state):
    world.build()
    answer = requests.get(world.url + "/_oauth/callback", params={"state": state}, timeout=10)
    assert answer.status_code == 400
    # An empty state is refused by the document's schema (minLength), a forged one by its signature.
    assert answer.json() == (
        {"error": "query parameter state must not be empty"} if not state else {"error": "invalid OAuth state"}
    )
    assert world.call("GET", "/_mock/state").json()["runtime"]["consents"] == []


def test_ingress_jwt_names_the_user_and_a_bad_one_is_401(world, sdk_agent):
    world.build(endpoint=sdk_agent)
    token = world.call("POST", "/_mock/jwt", json={"claims": {"sub": "frank"}}).json()["token"]
    url = f"{world.url}/_ingress/{NAMESPACE}/{AGENT}/invoke"
    message = {"message": json.dumps({"tool": "echo-tool", "path": "/who"})}
    answer = requests.post(url, json=message, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert answer.status_code == 200
    echoed = json.loads(answer.json()["response"])
    assert echoed["headers"]["X-End-User-ID"] == "frank"
    assert "Authorization" not in echoed["headers"]
    assert latest_run(world)["user_id"] == "frank"
    bad = requests.post(url, json=message, headers={"Authorization": f"Bearer {token[:-4]}AAAA"}, timeout=30)
    assert (bad.status_code, bad.json()) == (401, {"error": "token signature or format is invalid"})
