"""The /api/v1 surface over plain HTTP, written from the June pages: auth, workspaces, the
changed operations and their errors, and the same objects seen through both surfaces."""

from __future__ import annotations

import threading

import pytest
from api_support import error_of

WS_KEY = {"X-RunAgents-API-Key": "ra_ws_test"}
WORKSPACE_NAME_ERROR = (
    "invalid workspace name: use 1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit"
)


def v1(api, method, path, body=None, headers=WS_KEY, **kw):
    return api.request(method, "/api/v1" + path, json_body=body, headers=headers, auth=False, **kw)


# --- auth ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers, message",
    [
        ({}, "missing API key: send X-RunAgents-API-Key: <ra_ws_...> (or Authorization: Bearer <token>)"),
        (
            {"Authorization": "Bearer ra_ws_test"},
            "workspace API keys (ra_ws_...) go in the X-RunAgents-API-Key header, not Authorization: Bearer",
        ),
        (
            {"X-RunAgents-API-Key": "not-a-workspace-key"},
            "X-RunAgents-API-Key carries workspace API keys (ra_ws_...); send other tokens as Authorization: Bearer <token>",
        ),
    ],
)
def test_v1_refuses_a_key_in_the_wrong_header(api, headers, message):
    response = v1(api, "POST", "/tools", {"name": "t", "base_url": "https://x.example"}, headers=headers)
    assert response.status_code == 401 and error_of(response) == message
    assert api.state()["tools"]["items"] == []


def test_february_surface_keeps_bearer_auth(api):
    response = api.get("/api/tools", headers={"X-RunAgents-API-Key": "ra_ws_test"}, auth=False)
    assert response.status_code == 401
    assert error_of(response) == (
        "X-RunAgents-API-Key is not accepted on this API: send Authorization: Bearer "
        "<api-key> (workspace keys in X-RunAgents-API-Key work under /api/v1)"
    )
    # Any key kind works as a bearer key there, as before.
    assert api.get("/api/tools", headers={"Authorization": "Bearer ra_ws_test"}, auth=False).status_code == 200


def test_configured_keys_work_on_both_surfaces_and_bound_keys_on_their_workspace_only(make_api):
    api = make_api(api_keys=["admin-key"], workspace_keys={"revops": "ra_ws_revops"})
    bearer = {"Authorization": "Bearer admin-key"}
    assert api.get("/api/tools", headers=bearer, auth=False).status_code == 200
    assert v1(api, "GET", "/tools", headers=bearer).status_code == 200
    assert v1(api, "GET", "/workspaces/sales/tools", headers=bearer).status_code == 200
    revops = {"X-RunAgents-API-Key": "ra_ws_revops"}
    assert v1(api, "GET", "/workspaces/revops/tools", headers=revops).status_code == 200
    for path in ("/tools", "/workspaces/sales/tools"):
        response = v1(api, "GET", path, headers=revops)
        workspace = "sales" if "sales" in path else "default"
        assert response.status_code == 401
        assert (
            error_of(response) == f'API key is bound to workspace "revops"; it is not valid for workspace "{workspace}"'
        )
    response = v1(api, "GET", "/tools", headers={"X-RunAgents-API-Key": "ra_ws_other"})
    assert response.status_code == 401 and error_of(response) == "invalid API key"


def test_a_bad_workspace_key_binding_stops_the_start(make_api):
    with pytest.raises(ValueError, match="--workspace-key Bad=...: invalid workspace name"):
        make_api(workspace_keys={"Bad": "ra_ws_x"})


def test_open_mode_refuses_a_workspace_key_that_says_it_is_invalid(api):
    # As on the February surface (issue 12): schemathesis' ignored_auth probe must see a 401.
    response = v1(api, "GET", "/tools", headers={"X-RunAgents-API-Key": "ra_ws_INVALID"})
    assert response.status_code == 401 and error_of(response) == "invalid API key"


# --- workspaces ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Revops", "rev_ops", "-revops", "r" * 64, "rev%20ops"])
def test_bad_workspace_names_are_refused_and_create_nothing(api, name):
    response = v1(api, "POST", f"/workspaces/{name}/tools", {"name": "t", "base_url": "https://x.example"})
    assert response.status_code == 400 and error_of(response) == WORKSPACE_NAME_ERROR
    assert api.get("/_mock/workspaces").get_json() == {"workspaces": ["default"]}


def test_workspaces_are_isolated_and_default_is_the_february_surface(api):
    v1(api, "POST", "/workspaces/a/tools", {"name": "only-a", "base_url": "https://a.example"})
    v1(api, "POST", "/tools", {"name": "only-default", "base_url": "https://d.example"})
    assert [t["name"] for t in v1(api, "GET", "/workspaces/a/tools").get_json()] == ["only-a"]
    assert [t["name"] for t in v1(api, "GET", "/workspaces/b/tools").get_json()] == []
    assert [t["name"] for t in api.get("/api/tools").get_json()] == ["only-default"]
    assert [t["name"] for t in v1(api, "GET", "/workspaces/default/tools").get_json()] == ["only-default"]
    assert api.get("/_mock/workspaces").get_json() == {"workspaces": ["default", "a", "b"]}


def test_concurrent_clients_on_different_workspaces_lose_nothing(api):
    def work(name):
        for i in range(15):
            assert (
                v1(
                    api, "POST", f"/workspaces/{name}/tools", {"name": f"{name}-{i}", "base_url": "https://x.example"}
                ).status_code
                == 201
            )

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for n in range(4):
        names = sorted(t["name"] for t in v1(api, "GET", f"/workspaces/w{n}/tools").get_json())
        assert names == sorted(f"w{n}-{i}" for i in range(15))


def test_control_api_per_workspace(api):
    assert api.post(
        "/_mock/workspaces/a/seed", data="tools: [{name: t1, base_url: 'https://x.example'}]", auth=False
    ).get_json() == {"created": {"tools": 1}, "ids": {"tools": ["t1"]}}
    v1(api, "GET", "/workspaces/a/tools")
    api.get("/api/tools")
    state = api.get("/_mock/workspaces/a/state").get_json()
    assert [t["name"] for t in state["tools"]["items"]] == ["t1"]
    assert [e["path"] for e in api.get("/_mock/workspaces/a/journal").get_json()] == ["/api/v1/workspaces/a/tools"]
    assert api.put("/_mock/workspaces/b/state", state).status_code == 200
    assert [t["name"] for t in v1(api, "GET", "/workspaces/b/tools").get_json()] == ["t1"]
    assert api.post("/_mock/workspaces/a/reset").status_code == 200
    assert v1(api, "GET", "/workspaces/a/tools").get_json() == []
    assert [e["workspace"] for e in api.get("/_mock/journal").get_json()][:2] == ["default", "b"]
    response = api.get("/_mock/workspaces/A!/state")
    assert response.status_code == 400 and error_of(response) == WORKSPACE_NAME_ERROR


# --- June shapes and errors ---------------------------------------------------------------


def test_starter_kit_answers_201_with_the_created_names(api):
    for _ in range(2):  # idempotent
        response = v1(api, "POST", "/starter-kit")
        assert response.status_code == 201
        assert response.get_json() == {"tool_created": "echo-tool", "model_provider_created": "playground-llm"}
    assert [t["name"] for t in v1(api, "GET", "/tools").get_json()] == ["echo-tool"]


def test_agents_by_name_and_their_errors(api):
    deployed = v1(
        api, "POST", "/deploy", {"agent_name": "billing-agent", "source_files": {"agent.py": "x"}, "policies": ["p1"]}
    ).get_json()
    assert deployed["execution_mode"] == "SOURCE_BUILD" and deployed["build_required"] is True
    assert v1(api, "GET", "/agents/billing-agent").get_json()["status"]["phase"] == "Pending"
    for method in ("GET", "DELETE"):
        response = v1(api, method, "/agents/nope")
        assert response.status_code == 404 and error_of(response) == "agent nope not found"
    response = v1(api, "POST", "/agents/nope/invoke", {"message": "hi"})
    assert response.status_code == 404 and error_of(response) == "agent nope not found"
    response = v1(api, "GET", "/agents/billing-agent/x/y")
    assert response.status_code == 400 and error_of(response) == "path must be /agents/{name}"
    response = v1(api, "PUT", "/agents/billing-agent/config", {})
    assert response.status_code == 400 and error_of(response) == "at least one field must be provided"
    response = v1(api, "GET", "/agents/nope/config")
    assert response.status_code == 404 and error_of(response) == "agent nope not found"
    assert v1(api, "GET", "/agents/billing-agent/config").get_json()["policies"] == ["p1"]
    assert v1(api, "DELETE", "/agents/billing-agent").get_json() == {"status": "deleted"}
    assert api.get("/api/agents").get_json() == []


def test_runs_refuse_namespace_and_page_events_with_after_seq(api):
    response = v1(api, "POST", "/runs", {"agent_id": "a", "user_id": "u", "namespace": "agent-system"})
    assert response.status_code == 400
    assert error_of(response) == "namespace is not part of /api/v1: the base URL carries the workspace"
    assert api.state()["runs"]["runs"] == []
    run = v1(api, "POST", "/runs", {"agent_id": "a", "user_id": "u"}).get_json()
    for kind in ("RUN_CREATED", "INVOKE_REQUESTED", "USER_MESSAGE", "INVOKE_COMPLETED", "TOOL_CALLED"):
        assert v1(api, "POST", f"/runs/{run['id']}/events", {"type": kind}).status_code == 201
    page = v1(api, "GET", f"/runs/{run['id']}/events?after_seq=1&limit=2").get_json()
    assert [(e["seq"], e["type"]) for e in page] == [(2, "INVOKE_REQUESTED"), (3, "USER_MESSAGE")]
    assert [e["seq"] for e in v1(api, "GET", f"/runs/{run['id']}/events?after_seq=4").get_json()] == [5]
    response = v1(api, "POST", f"/runs/{run['id']}/events", {"type": "NOT_A_TYPE"})
    assert response.status_code == 400 and error_of(response) == "type is not a known run event type"
    assert v1(api, "GET", "/runs?status=PAUSED_CONSENT").get_json() == []
    response = v1(api, "GET", "/runs?status=SLEEPING")
    assert response.status_code == 400
    assert error_of(response) == (
        "query parameter status must be one of: RUNNING, PAUSED_APPROVAL, PAUSED_CONSENT, COMPLETED, FAILED, PAUSED"
    )
    # June-only event types are June-only: the February surface refuses them.
    response = api.post(f"/runs/{run['id']}/events", {"type": "RUN_CREATED"})
    assert response.status_code == 400


def test_catalog_and_its_errors(api):
    listed = v1(api, "GET", "/catalog?integration=ticketing&page_size=1").get_json()
    assert [i["id"] for i in listed["items"]] == ["support-triage-agent"] and listed["total"] == 1
    assert v1(api, "GET", "/catalog?page=2&page_size=1").get_json()["items"][0]["id"] == "support-triage-agent"
    for path in ("/catalog/nope", "/catalog/support-triage-agent?version=9.9.9", "/catalog/nope/versions"):
        response = v1(api, "GET", path)
        assert response.status_code == 404 and error_of(response) == "catalog entry not found"
    response = v1(api, "GET", "/catalog/a/b/c")
    assert response.status_code == 400 and error_of(response) == "invalid catalog path"
    response = v1(api, "GET", "/catalog?page_size=101")
    assert response.status_code == 400 and error_of(response) == "query parameter page_size must be <= 100"


def test_model_spend_prices_an_agents_gateway_tokens_against_its_budget(api):
    v1(api, "POST", "/starter-kit")
    v1(api, "POST", "/deploy", {"agent_name": "a", "image": "img:1"})
    v1(
        api,
        "PUT",
        "/agents/a/config",
        {"llm_configs": [{"provider": "openai", "model": "gpt-4o-mini", "monthly_budget_usd": 0.00001}]},
    )
    # The agent's runtime calls its gateway URL (LLM_GATEWAY_URL): that traffic is the agent's.
    api.post(
        "/_llm/agent-system/a/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi there"}]},
    )
    spend = v1(api, "GET", "/model-spend").get_json()
    assert spend["summary"]["budgeted_model_count"] == 1 and spend["summary"]["blocked_count"] == 1
    assert [(w["agent_name"], w["status"]) for w in spend["warnings"]] == [("a", "Budget reached")]
    assert spend["top_models"][0]["model"] == "gpt-4o-mini" and spend["top_models"][0]["estimated_spend_usd"] > 0


def test_v1_agent_policies_and_model_configs_count_against_the_byte_budget(make_api):
    api = make_api(max_stored_bytes=20_000)
    policies = [f"policy-{i:04d}-" + "p" * 40 for i in range(120)]  # ~6 KB a list, as the agent keeps it
    answers = [
        v1(api, "POST", "/deploy", {"agent_name": f"a{i}", "image": "img:1", "policies": policies}) for i in range(4)
    ]
    assert [a.status_code for a in answers[:2]] == [201, 201]
    refused = answers[3]
    assert refused.status_code == 409 and error_of(refused) == "limit of 20000 stored bytes reached"
    # A config change that would pass the budget changes nothing.
    before = api.get("/_mock/state").get_data()
    configs = [{"provider": "openai", "model": f"gpt-{i}-" + "m" * 40} for i in range(150)]
    refused = v1(api, "PUT", "/agents/a0/config", {"llm_configs": configs})
    assert refused.status_code == 409 and error_of(refused) == "limit of 20000 stored bytes reached"
    assert api.get("/_mock/state").get_data() == before
    # Deleting agents gives their policies' bytes back.
    for i in range(3):
        api.delete(f"/api/agents/agent-system/a{i}")
    assert v1(api, "POST", "/deploy", {"agent_name": "b", "image": "img:1", "policies": policies}).status_code == 201
    assert v1(api, "PUT", "/agents/b/config", {"llm_configs": configs[:10]}).status_code == 200


def test_context_export_names_the_workspace_and_holds_no_secret(api):
    v1(
        api,
        "POST",
        "/workspaces/ops/tools",
        {
            "name": "t",
            "base_url": "https://x.example",
            "auth_type": "APIKey",
            "credentials": {"api_key": "sk-very-secret"},
        },
    )
    exported = v1(api, "GET", "/workspaces/ops/context/export")
    assert exported.get_json()["namespace"] == "ops"
    assert [t["name"] for t in exported.get_json()["resources"]["tools"]] == ["t"]
    assert b"sk-very-secret" not in exported.get_data()


# --- one platform behind both surfaces ------------------------------------------------------


def test_deploy_via_february_read_via_june_and_back(api):
    api.post("/api/deploy", {"agent_name": "payment-agent", "image": "img:1"})
    assert v1(api, "GET", "/agents/payment-agent").get_json()["spec"]["image"] == "img:1"
    v1(api, "PUT", "/agents/payment-agent/config", {"system_prompt": "Be brief."})
    assert api.get("/api/agents/agent-system/payment-agent").get_json()["spec"]["systemPrompt"] == "Be brief."


def test_approve_via_june_resumes_the_run_seen_via_february(api):
    api.post("/api/tools", {"name": "stripe-api", "base_url": "https://api.stripe.com"})
    run = api.post("/runs", {"agent_id": "payment-agent", "user_id": "alice@example.com"}).get_json()
    request = api.post(
        "/governance/requests", {"subject": "alice@example.com", "tool_id": "stripe-api", "run_id": run["id"]}
    ).get_json()
    assert api.get(f"/runs/{run['id']}").get_json()["status"] == "PAUSED_APPROVAL"
    assert [r["id"] for r in v1(api, "GET", "/approvals/requests").get_json()] == [request["id"]]
    approved = v1(api, "POST", f"/approvals/requests/{request['id']}/approve", {"scope": "run", "reason": "ok"})
    assert approved.get_json()["status"] == "APPROVED" and approved.get_json()["scope"] == "run"
    assert api.get(f"/runs/{run['id']}").get_json()["status"] == "RUNNING"
    response = api.post(f"/governance/requests/{request['id']}/approve", {})
    assert response.status_code == 409 and error_of(response) == "request is not pending"


@pytest.mark.parametrize("mount", ["", "/workspaces/allow-ws"])
@pytest.mark.parametrize(
    "path, allow",
    [
        # A literal path item wins over a templated sibling (issue 12), per surface and mount.
        ("/tools/probe", "POST"),
        ("/approval-connectors/defaults", "GET, PUT"),
        ("/approval-connectors/ac_1", "DELETE, GET, PATCH"),
    ],
)
def test_v1_allow_lists_the_methods_of_the_path_item_in_the_v1_spec(api, mount, path, allow):
    response = v1(api, "OPTIONS", mount + path)
    assert response.status_code == 405 and response.headers["Allow"] == allow


# --- approval connectors (simulated) --------------------------------------------------------


def test_approval_connectors_keep_no_credentials_and_record_deliveries(api):
    created = v1(
        api,
        "POST",
        "/approval-connectors",
        {"name": "secops", "type": "slack", "endpoint": "C0123", "headers": {"X-Slack-Bot-Token": "xoxb-very-secret"}},
    )
    assert created.status_code == 201 and created.get_json()["headers"] == {"X-Slack-Bot-Token": "***"}
    connector_id = created.get_json()["id"]
    for body, message in [
        ({"name": "hook", "endpoint": "http://plain.example"}, "webhook connectors need an https:// endpoint"),
        ({"name": "pd", "type": "pagerduty", "endpoint": "svc"}, "pagerduty connectors need a routing key header"),
        ({"name": "hook", "endpoint": "https://x.example", "timeout_seconds": 121}, "timeout_seconds must be <= 120"),
        ({"endpoint": "https://x.example"}, "name is required"),
    ]:
        response = v1(api, "POST", "/approval-connectors", body)
        assert response.status_code == 400 and error_of(response) == message
    response = v1(api, "PATCH", f"/approval-connectors/{connector_id}", {"slack_security_mode": "strict"})
    assert response.status_code == 400
    assert error_of(response) == "slack strict mode needs an X-Slack-Signing-Secret header"
    assert len(v1(api, "GET", "/approval-connectors").get_json()) == 1
    response = v1(api, "GET", "/approval-connectors/ac_nope")
    assert response.status_code == 404 and error_of(response) == "approval connector ac_nope not found"

    request = api.post("/governance/requests", {"subject": "s", "tool_id": "t"}).get_json()  # February path
    v1(api, "POST", f"/approvals/requests/{request['id']}/approve", {})
    activity = v1(api, "GET", "/approval-connectors/activity").get_json()
    assert [(a["event"], a.get("decision"), a["request_id"]) for a in activity] == [
        ("decision_recorded", "approved", request["id"]),
        ("dispatch_succeeded", None, request["id"]),
    ]
    assert b"xoxb-very-secret" not in api.get("/_mock/state").get_data()
    assert b"xoxb-very-secret" not in api.get("/_mock/journal").get_data()
    assert v1(api, "DELETE", f"/approval-connectors/{connector_id}").get_json() == {"status": "deleted"}


def test_connector_test_and_defaults(api):
    result = v1(
        api, "POST", "/approval-connectors/test", {"type": "webhook", "endpoint": "http://x.example"}
    ).get_json()
    assert result["status"] == "unhealthy" and result["checks"][0]["status"] == "failed"
    result = v1(api, "POST", "/approval-connectors/test", {"endpoint": "https://x.example"}).get_json()
    assert result["status"] == "healthy" and result["connector_type"] == "webhook"
    updated = v1(api, "PUT", "/approval-connectors/defaults", {"default_delivery_mode": "all"}).get_json()
    assert updated["default_delivery_mode"] == "all" and updated["max_timeout_seconds"] == 120
    response = v1(api, "PUT", "/approval-connectors/defaults", {"default_delivery_mode": "some"})
    assert response.status_code == 400
    assert v1(api, "GET", "/approval-connectors/defaults").get_json()["default_delivery_mode"] == "all"
    # The body is required (the vendor's contract): none is a 400; `{}` changes nothing.
    refused = v1(api, "PUT", "/approval-connectors/defaults")
    assert refused.status_code == 400 and error_of(refused) == "request body is required"
    assert v1(api, "PUT", "/approval-connectors/defaults", {}).get_json()["default_delivery_mode"] == "all"


# --- action plans ---------------------------------------------------------------------------

PLAN = {
    "plan_id": "bootstrap",
    "actions": [
        {
            "id": "tool-1",
            "type": "tool.upsert",
            "idempotency_key": "boot.tool.v1",
            "params": {"name": "payments-api", "base_url": "https://payments.example.com"},
        },
        {
            "id": "deploy-1",
            "type": "deploy.execute",
            "idempotency_key": "boot.deploy.v1",
            "params": {"agent_name": "payments-agent", "image": "img:1", "required_tools": ["payments-api"]},
        },
    ],
}


def test_action_plan_validates_then_applies_in_order_once(api):
    checked = v1(api, "POST", "/workspaces/ops/actions/validate", PLAN).get_json()
    assert checked["valid"] is True and checked["namespace"] == "ops"
    assert [r["resource_ref"] for r in checked["results"]] == ["/tools/payments-api", "/agents/payments-agent"]
    assert v1(api, "GET", "/workspaces/ops/tools").get_json() == []  # validate changes nothing
    for _ in range(2):  # the second apply answers from the idempotency keys
        applied = v1(api, "POST", "/workspaces/ops/actions/apply", PLAN).get_json()
        assert (applied["applied"], applied["applied_count"], applied["failed_count"]) == (True, 2, 0)
    assert [t["name"] for t in v1(api, "GET", "/workspaces/ops/tools").get_json()] == ["payments-api"]
    assert v1(api, "GET", "/workspaces/ops/agents/payments-agent").status_code == 200


def test_an_invalid_step_fails_the_whole_apply_and_changes_nothing(api):
    plan = {
        "plan_id": "broken",
        "actions": [
            PLAN["actions"][0],
            {"id": "dup", "type": "tool.upsert", "idempotency_key": "boot.tool.v1", "params": {}},
            {"id": "pol", "type": "policy.upsert", "idempotency_key": "p1", "params": {}},
            {"id": "bad", "type": "tool.teleport", "idempotency_key": "t1"},
            {"id": "nokey", "type": "tool.upsert", "params": {"name": "x", "base_url": "https://x.example"}},
        ],
    }
    response = v1(api, "POST", "/actions/apply", plan)
    assert response.status_code == 400
    body = response.get_json()
    assert (body["applied"], body["applied_count"], body["failed_count"]) == (False, 0, 4)
    assert [(r["status"], r.get("error")) for r in body["results"]] == [
        ("skipped", None),
        ("invalid", "duplicate idempotency_key boot.tool.v1"),
        ("invalid", "params: name is required"),  # policy.upsert's params are POST /policies' body
        (
            "invalid",
            "unknown action type 'tool.teleport'; known: tool.upsert, model_provider.upsert, policy.upsert, "
            "deploy_draft.create_or_patch, deploy.execute, starter_kit.seed",
        ),
        ("invalid", "idempotency_key is required"),
    ]
    assert v1(api, "GET", "/tools").get_json() == []
    response = v1(api, "POST", "/actions/validate", {"actions": []})
    assert response.status_code == 400 and error_of(response) == "actions must have at least 1 item(s)"


@pytest.mark.parametrize(
    "continue_on_error, statuses", [(False, ["applied", "failed", "skipped"]), (True, ["applied", "failed", "applied"])]
)
def test_a_failing_step_stops_the_plan_unless_continue_on_error(make_api, continue_on_error, statuses):
    api = make_api(max_objects_per_kind=1)  # the second tool is over the limit: a 409 when applied
    tool = lambda name: {
        "id": name,
        "type": "tool.upsert",
        "idempotency_key": name,
        "params": {"name": name, "base_url": "https://x.example"},
    }
    plan = {
        "continue_on_error": continue_on_error,
        "actions": [
            tool("first"),
            tool("second"),
            {
                "id": "kit-llm",
                "type": "model_provider.upsert",
                "idempotency_key": "mp",
                "params": {
                    "name": "llm",
                    "spec": {
                        "provider": "openai",
                        "endpoint": "https://api.openai.com",
                        "models": ["gpt-4o"],
                        "auth": {"type": "None"},
                    },
                },
            },
        ],
    }
    result = v1(api, "POST", "/actions/apply", plan).get_json()
    assert [r["status"] for r in result["results"]] == statuses
    assert result["results"][1]["error"] == "limit of 1 tools reached"
    assert (result["applied"], result["failed_count"]) == (False, 1)


# --- billing (simulated) --------------------------------------------------------------------


def test_billing_follows_the_plan_state_machine_on_the_mock_clock(api):
    v1(api, "POST", "/workspaces/paying/runs", {"agent_id": "a", "user_id": "u"})
    status = v1(api, "GET", "/workspaces/paying/billing").get_json()
    assert (status["plan_status"], status["actions_used"], status["actions_limit"]) == ("trial", 1, 1000)
    assert [d["count"] for d in v1(api, "GET", "/workspaces/paying/billing/usage/daily").get_json()] == [1]
    response = v1(api, "POST", "/workspaces/paying/billing/payment-method", {})
    assert response.status_code == 400 and error_of(response) == "payment_method_id is required"
    assert v1(api, "POST", "/workspaces/paying/billing/payment-method", {"payment_method_id": "pm_1"}).get_json() == {
        "status": "promo"
    }
    api.post("/_mock/workspaces/paying/clock/advance", {"seconds": 91 * 86400})
    assert v1(api, "GET", "/workspaces/paying/billing").get_json()["plan_status"] == "active"

    api.post("/_mock/workspaces/lapsed/clock/advance", {"seconds": 31 * 86400})
    assert v1(api, "GET", "/workspaces/lapsed/billing").get_json()["plan_status"] == "readonly"
    api.post("/_mock/workspaces/lapsed/clock/advance", {"seconds": 30 * 86400})
    assert v1(api, "GET", "/workspaces/lapsed/billing").get_json()["plan_status"] == "deleted"
    response = v1(api, "POST", "/workspaces/lapsed/billing/payment-method", {"payment_method_id": "pm_1"})
    assert response.status_code == 409 and error_of(response) == "the workspace plan is deleted"


def test_billing_provider_links_are_placeholders(api):
    assert v1(
        api, "POST", "/billing/subscribe", {"success_url": "https://a.example", "cancel_url": "https://b.example"}
    ).get_json() == {"url": "https://checkout.stripe.com/c/pay/cs_mock_default"}
    response = v1(api, "POST", "/billing/portal", {})
    assert response.status_code == 400 and error_of(response) == "return_url is required"
    assert v1(api, "GET", "/billing/publishable-key").get_json() == {"publishable_key": "pk_test_runagents_mock"}
    assert v1(api, "POST", "/billing/setup-intent").get_json()["client_secret"].startswith("seti_mock_")


# --- policies -------------------------------------------------------------------------------

POLICY = {
    "name": "billing-read",
    "spec": {"policies": [{"permission": "allow", "operations": ["GET"], "resource": "https://api.stripe.com/*"}]},
}


def test_policies_crud_usage_and_errors(api):
    assert v1(api, "POST", "/policies", POLICY).status_code == 201
    response = v1(api, "POST", "/policies", POLICY)
    assert response.status_code == 409 and error_of(response) == 'policy "billing-read" already exists'
    api.post("/api/deploy", {"agent_name": "payments", "image": "img:1"})  # February deploy, bound via June config
    v1(api, "PUT", "/agents/payments/config", {"policies": ["billing-read"]})
    assert v1(api, "GET", "/policies/billing-read").get_json()["used_by"] == [
        {"name": "payments", "namespace": "agent-system"}
    ]
    for method, body in (("GET", None), ("PUT", POLICY), ("DELETE", None)):
        response = v1(api, method, "/policies/nope", body)
        assert response.status_code == 404 and error_of(response) == 'policy "nope" not found'
    response = v1(api, "POST", "/policies", {"name": "x", "spec": {"policies": [{"permission": "maybe"}]}})
    assert response.status_code == 400
    assert error_of(response) == "spec.policies[0].permission must be one of: allow, deny, approval_required"
    assert v1(api, "DELETE", "/policies/billing-read").get_json() == {"status": "deleted"}
    assert v1(api, "GET", "/policies").get_json() == []


def test_put_replaces_the_spec_of_the_policy_the_path_names(api):
    v1(api, "POST", "/policies", POLICY)
    deny = {"policies": [{"permission": "deny", "operations": ["DELETE"]}]}
    # The body is POST's (name required); the path names the policy, so no rename happens.
    replaced = v1(api, "PUT", "/policies/billing-read", {"name": "other", "spec": deny})
    assert replaced.status_code == 200 and replaced.get_json()["name"] == "billing-read"
    assert [p["name"] for p in v1(api, "GET", "/policies").get_json()] == ["billing-read"]
    assert v1(api, "GET", "/policies/billing-read").get_json()["spec"] == deny


def test_translate_reads_keywords_deterministically(api):
    rules = v1(api, "POST", "/policies/translate", {"text": "Block all writes but let it read"}).get_json()["rules"]
    assert rules == [
        {"permission": "allow", "operations": ["GET"]},
        {"permission": "deny", "operations": ["POST", "PUT", "PATCH", "DELETE"]},
    ]
    response = v1(api, "POST", "/policies/translate", {"text": ""})
    assert response.status_code == 400 and error_of(response) == "text is required"
