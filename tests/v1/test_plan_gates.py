"""The billing plan's states stop deploys and execution (the June billing page's *Plan Status
Reference*), on both surfaces of a workspace, on the mock's clock."""

from __future__ import annotations

from api_support import error_of
from test_v1_http import v1

DAY = 86400
DEPLOY = {"agent_name": "a", "image": "img:1"}
READONLY = "the workspace plan is readonly: new deployments and configuration changes are blocked"


def test_an_expired_trial_refuses_deploys_and_config_changes_but_runs_go_on(api):
    assert api.post("/api/deploy", DEPLOY).status_code == 201
    api.advance(31 * DAY)  # the default workspace's trial ends without a payment method
    for response in (api.post("/api/deploy", {**DEPLOY, "agent_name": "b"}),
                     v1(api, "POST", "/deploy", {**DEPLOY, "agent_name": "b"}),
                     api.post("/api/tools", {"name": "t", "base_url": "https://x.example"}),
                     v1(api, "PUT", "/agents/a/config", {"system_prompt": "hi"})):
        assert response.status_code == 402 and error_of(response) == READONLY
    assert [a["name"] for a in api.get("/api/agents").get_json()] == ["a"]
    assert api.get("/api/tools").get_json() == []
    assert v1(api, "GET", "/agents/a/config").get_json().get("system_prompt") != "hi"
    # Existing agents keep running: runs and invocations are execution, not deployment.
    assert api.post("/runs", {"agent_id": "a", "user_id": "u"}).status_code == 201
    assert v1(api, "POST", "/agents/a/invoke", {"message": "hi"}).status_code == 200
    # Other workspaces have their own plan.
    assert v1(api, "POST", "/workspaces/fresh/deploy", DEPLOY).status_code == 201


def test_a_suspended_plan_stops_execution_until_payment_is_resolved(api):
    api.post("/api/deploy", DEPLOY)
    state = api.get("/_mock/state").get_json()
    state["billing"] = {**state["billing"], "plan_status": "suspended"}
    assert api.put("/_mock/state", state).status_code == 200
    paused = "the workspace plan is suspended: agent execution is paused"
    for response in (api.post("/runs", {"agent_id": "a", "user_id": "u"}),
                     v1(api, "POST", "/runs", {"agent_id": "a", "user_id": "u"}),
                     api.post("/api/agents/agent-system/a/invoke", {"message": "hi"}),
                     v1(api, "POST", "/agents/a/invoke", {"message": "hi"})):
        assert response.status_code == 402 and error_of(response) == paused
    response = v1(api, "POST", "/deploy", {**DEPLOY, "agent_name": "b"})
    assert response.status_code == 402
    assert error_of(response) == "the workspace plan is suspended: new deployments and configuration changes are blocked"
    assert api.state()["runs"]["runs"] == []
    # A payment method resolves it: active again, everything allowed.
    assert v1(api, "POST", "/billing/payment-method", {"payment_method_id": "pm_1"}).get_json() == {"status": "active"}
    assert api.post("/runs", {"agent_id": "a", "user_id": "u"}).status_code == 201
    assert api.post("/api/deploy", {**DEPLOY, "agent_name": "b"}).status_code == 201


def test_bad_input_is_still_a_400_before_the_plan_is_read(api):
    api.advance(31 * DAY)
    response = api.post("/api/deploy", {"image": "img:1"})
    assert response.status_code == 400 and error_of(response) == "agent_name is required"
