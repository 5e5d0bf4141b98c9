"""The billing plan's states stop deploys and execution (the June billing page's *Plan Status
Reference*), on both surfaces of a workspace, on the mock's clock."""

from __future__ import annotations

from api_support import error_of
from test_v1_http import v1

DAY = 86400
DEPLOY = {"agent_name": "a", "image": "img:1"}
READONLY = "the workspace plan is readonly: new deployments and configuration changes are blocked"


def _set_plan(api, plan_status):
    state = api.get("/_mock/state").get_json()
    state["billing"] = {**state["billing"], "plan_status": plan_status, "since": api.mock.platform.clock.now()}
    assert api.put("/_mock/state", state).status_code == 200


def test_an_expired_trial_refuses_deploys_and_config_changes_but_runs_go_on(api):
    ws = "/workspaces/lapsed"
    assert v1(api, "POST", ws + "/deploy", DEPLOY).status_code == 201
    api.post("/_mock/workspaces/lapsed/clock/advance", {"seconds": 31 * DAY})  # no payment method
    for response in (
        v1(api, "POST", ws + "/deploy", {**DEPLOY, "agent_name": "b"}),
        v1(api, "POST", ws + "/tools", {"name": "t", "base_url": "https://x.example"}),
        v1(api, "PUT", ws + "/agents/a/config", {"system_prompt": "hi"}),
    ):
        assert response.status_code == 402 and error_of(response) == READONLY
    assert [a["name"] for a in v1(api, "GET", ws + "/agents").get_json()] == ["a"]
    assert v1(api, "GET", ws + "/tools").get_json() == []
    assert v1(api, "GET", ws + "/agents/a/config").get_json().get("system_prompt") != "hi"
    # Existing agents keep running: runs and invocations are execution, not deployment.
    assert v1(api, "POST", ws + "/runs", {"agent_id": "a", "user_id": "u"}).status_code == 201
    assert v1(api, "POST", ws + "/agents/a/invoke", {"message": "hi"}).status_code == 200


def test_the_default_workspace_is_on_a_paid_plan_so_february_clients_never_lapse(api):
    assert v1(api, "GET", "/billing").get_json()["plan_status"] == "active"
    api.advance(400 * DAY)
    assert api.post("/api/deploy", DEPLOY).status_code == 201
    # Put in readonly (by a loaded state), it refuses deploys on both surfaces.
    _set_plan(api, "readonly")
    for response in (
        api.post("/api/deploy", {**DEPLOY, "agent_name": "b"}),
        v1(api, "POST", "/deploy", {**DEPLOY, "agent_name": "b"}),
        api.post("/api/tools", {"name": "t", "base_url": "https://x.example"}),
    ):
        assert response.status_code == 402 and error_of(response) == READONLY
    assert api.post("/runs", {"agent_id": "a", "user_id": "u"}).status_code == 201


def test_a_suspended_plan_stops_execution_until_payment_is_resolved(api):
    api.post("/api/deploy", DEPLOY)
    _set_plan(api, "suspended")
    paused = "the workspace plan is suspended: agent execution is paused"
    for response in (
        api.post("/runs", {"agent_id": "a", "user_id": "u"}),
        v1(api, "POST", "/runs", {"agent_id": "a", "user_id": "u"}),
        api.post("/api/agents/agent-system/a/invoke", {"message": "hi"}),
        v1(api, "POST", "/agents/a/invoke", {"message": "hi"}),
    ):
        assert response.status_code == 402 and error_of(response) == paused
    response = v1(api, "POST", "/deploy", {**DEPLOY, "agent_name": "b"})
    assert response.status_code == 402
    assert (
        error_of(response) == "the workspace plan is suspended: new deployments and configuration changes are blocked"
    )
    assert api.state()["runs"]["runs"] == []
    # A payment method resolves it: active again, everything allowed.
    assert v1(api, "POST", "/billing/payment-method", {"payment_method_id": "pm_1"}).get_json() == {"status": "active"}
    assert api.post("/runs", {"agent_id": "a", "user_id": "u"}).status_code == 201
    assert api.post("/api/deploy", {**DEPLOY, "agent_name": "b"}).status_code == 201


def test_bad_input_is_still_a_400_before_the_plan_is_read(api):
    _set_plan(api, "readonly")
    response = api.post("/api/deploy", {"image": "img:1"})
    assert response.status_code == 400 and error_of(response) == "agent_name is required"
