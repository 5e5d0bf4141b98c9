"""Action plans' policy and deploy-draft steps: policy.upsert writes the one policy domain,
deploy_draft.create_or_patch records drafts that deploy.execute (and POST /deploy) hydrate from;
validate changes nothing, an invalid plan changes nothing, a failed step changes nothing itself."""

from __future__ import annotations

from api_support import error_of

WS_KEY = {"X-RunAgents-API-Key": "ra_ws_test"}
READ = {"permission": "allow", "operations": ["GET"], "resource": "https://payments.example.com/*"}
WRITE = {"permission": "approval_required", "operations": ["POST"], "resource": "https://payments.example.com/*"}


def v1(api, method, path, body=None):
    return api.request(method, "/api/v1" + path, json_body=body, headers=WS_KEY, auth=False)


def step(kind, key, params=None, id_=None):
    return {
        "id": id_ or key,
        "type": kind,
        "idempotency_key": key,
        **({"params": params} if params is not None else {}),
    }


TOOL = step("tool.upsert", "tool", {"name": "payments-api", "base_url": "https://payments.example.com"})
POLICY = step("policy.upsert", "policy", {"name": "payments-policy", "spec": {"policies": [READ]}})
DRAFT = step(
    "deploy_draft.create_or_patch",
    "draft",
    {
        "id": "draft-payments-01",
        "step": "connect",
        "source_type": "image",
        "image": "ghcr.io/acme/pay:1",
        "tool_mappings": {"payments": "payments-api"},
        "policies": ["payments-policy"],
    },
)
DEPLOY = step("deploy.execute", "deploy", {"agent_name": "payments-agent", "draft_id": "draft-payments-01"})


def test_a_plan_upserts_a_policy_records_a_draft_and_deploys_from_it(api):
    plan = {"plan_id": "bootstrap", "actions": [TOOL, POLICY, DRAFT, DEPLOY]}
    checked = v1(api, "POST", "/actions/validate", plan).get_json()
    assert checked["valid"] is True  # the deploy step sees the draft the step before it would record
    assert [r["resource_ref"] for r in checked["results"]] == [
        "/tools/payments-api",
        "/policies/payments-policy",
        "/deploy-drafts/draft-payments-01",
        "/agents/payments-agent",
    ]
    assert (v1(api, "GET", "/tools").get_json(), v1(api, "GET", "/policies").get_json()) == ([], [])  # nothing yet
    applied = v1(api, "POST", "/actions/apply", plan).get_json()
    assert (applied["applied"], applied["applied_count"]) == (True, 4)
    assert api.get("/api/policies/payments-policy").json["rules"] == [READ]  # the one policy domain
    config = v1(api, "GET", "/agents/payments-agent/config").get_json()
    # The draft filled in what deploy.execute left out: its image, policies and mapped tools.
    assert (config["image"], config["policies"], config["required_tools"]) == (
        "ghcr.io/acme/pay:1",
        ["payments-policy"],
        ["payments-api"],
    )
    drafts = api.get("/_mock/state").json["deploy_drafts"]["items"]
    assert [(d["id"], d["step"]) for d in drafts] == [("draft-payments-01", "connect")]


def test_policy_upsert_replaces_and_keys_are_applied_once(api):
    v1(api, "POST", "/actions/apply", {"actions": [POLICY]})
    replace = step("policy.upsert", "policy-v2", {"name": "payments-policy", "spec": {"policies": [READ, WRITE]}})
    for _ in range(2):  # the second time is answered from the idempotency keys
        result = v1(api, "POST", "/actions/apply", {"actions": [POLICY, replace]}).get_json()
        assert [r["status"] for r in result["results"]] == ["applied", "applied"]
    assert v1(api, "GET", "/policies/payments-policy").get_json()["spec"]["policies"] == [READ, WRITE]
    assert api.get("/api/policies/payments-policy").json["rules"] == [READ]  # February cannot show the approval rule


def test_a_draft_is_patched_by_id_and_gets_an_id_from_its_key(api):
    first = step("deploy_draft.create_or_patch", "d1", {"id": "draft-a", "step": "upload", "image": "i:1"})
    patch = step("deploy_draft.create_or_patch", "d2", {"id": "draft-a", "step": "connect"})
    unnamed = step("deploy_draft.create_or_patch", "d3", {"step": "upload"})
    result = v1(api, "POST", "/actions/apply", {"actions": [first, patch, unnamed]}).get_json()
    generated = result["results"][2]["resource_ref"].removeprefix("/deploy-drafts/")
    assert generated.startswith("draft-") and result["applied_count"] == 3
    drafts = {d["id"]: d for d in api.get("/_mock/state").json["deploy_drafts"]["items"]}
    assert (drafts["draft-a"]["step"], drafts["draft-a"]["image"]) == ("connect", "i:1")  # merged, not replaced
    assert drafts[generated]["step"] == "upload"
    # POST /deploy takes draft_id too (the page still asks it for an image or source files).
    v1(api, "POST", "/deploy", {"agent_name": "a", "image": "own:2", "draft_id": "draft-a", "system_prompt": "hi"})
    assert v1(api, "GET", "/agents/a/config").get_json()["image"] == "own:2"  # what is sent wins over the draft
    response = v1(api, "POST", "/deploy", {"agent_name": "b", "image": "i", "draft_id": "nope"})
    assert response.status_code == 404 and error_of(response) == 'deploy draft "nope" not found'
    assert v1(api, "GET", "/agents/b").status_code == 404


def test_invalid_policy_and_draft_steps_leave_the_workspace_unchanged(api):
    before = api.get("/_mock/state").json
    plan = {
        "actions": [
            TOOL,
            POLICY,
            DRAFT,
            step("policy.upsert", "bad-policy", {"name": "p", "spec": {"policies": [{"permission": "maybe"}]}}),
            step("deploy_draft.create_or_patch", "bad-draft", {"tool_mappings": {"x": ""}}),
            step("deploy.execute", "no-draft", {"agent_name": "x", "draft_id": "missing"}),
            step("deploy.execute", "no-source", {"agent_name": "y"}),
        ]
    }
    for path in ("/actions/validate", "/actions/apply"):
        response = v1(api, "POST", path, plan)
        errors = [r.get("errors", [r.get("error")])[0] for r in response.get_json()["results"]][3:]
        assert errors == [
            "params: spec.policies[0].permission must be one of: allow, deny, approval_required",
            "params: tool_mappings.x must not be empty",
            'params: deploy draft "missing" not found',
            "params: no valid deploy source: send image, source_files or artifact_id (or a draft_id whose draft has one)",
        ]
    assert response.status_code == 400 and response.get_json()["applied_count"] == 0
    after = api.get("/_mock/state").json
    assert {k: after[k] for k in ("tools", "policies", "deploy_drafts", "agents", "action_plans")} == {
        k: before[k] for k in ("tools", "policies", "deploy_drafts", "agents", "action_plans")
    }


def test_a_refused_policy_step_changes_nothing_and_stops_the_plan(api):
    v1(api, "POST", "/starter-kit")
    v1(api, "POST", "/deploy", {"agent_name": "bot", "image": "i", "required_tools": ["echo-tool"]})
    generated = api.get("/api/policies/bot-echo-tool-auto").json
    # The platform's own policy is not a user's to replace: refused when applied (409), nothing changes.
    clash = step("policy.upsert", "clash", {"name": "bot-echo-tool-auto", "spec": {"policies": [READ]}})
    result = v1(api, "POST", "/actions/apply", {"actions": [clash, DRAFT]}).get_json()
    assert [(r["status"], r.get("error")) for r in result["results"]] == [
        ("failed", 'policy "bot-echo-tool-auto" already exists'),
        ("skipped", None),
    ]
    assert api.get("/api/policies/bot-echo-tool-auto").json == generated
    assert api.get("/_mock/state").json["deploy_drafts"]["items"] == []
    assert "clash" not in api.get("/_mock/state").json["action_plans"]["applied"]  # a retry may apply it later


def test_drafts_are_charged_against_the_stored_bytes_budget(make_api):
    api = make_api(max_stored_bytes=2000)
    big = step("deploy_draft.create_or_patch", "big", {"id": "big", "source_files": {"agent.py": "x" * 3000}})
    result = v1(api, "POST", "/actions/apply", {"actions": [big]}).get_json()
    assert [(r["status"], r.get("error")) for r in result["results"]] == [
        ("failed", "limit of 2000 stored bytes reached")
    ]
    assert api.get("/_mock/state").json["deploy_drafts"]["items"] == []


def test_bad_draft_contents_are_reported_by_the_deploy_step_not_a_500(api):
    plan = {
        "actions": [
            step(
                "deploy_draft.create_or_patch", "odd", {"id": "odd", "required_tools": 5, "tool_mappings": {"a": "t"}}
            ),
            step("deploy.execute", "from-odd", {"agent_name": "x", "image": "i", "draft_id": "odd"}),
            step("deploy.execute", "typed", {"agent_name": "y", "image": "i", "draft_id": []}),
            step("tool.upsert", "tool", {"name": "t", "base_url": "https://t.example", "draft_id": "not-a-draft"}),
        ]
    }
    results = v1(api, "POST", "/actions/validate", plan).get_json()["results"]
    assert [(r["valid"], r.get("errors")) for r in results] == [
        (True, None),
        (False, ['params: deploy draft "odd" cannot be deployed: required_tools must be of type array']),
        (False, ["params: draft_id must be of type string"]),
        (True, None),
    ]


def test_the_context_export_holds_policies_connectors_approvals_and_drafts(api):
    v1(api, "POST", "/actions/apply", {"plan_id": "ctx", "actions": [TOOL, POLICY, DRAFT]})
    v1(
        api,
        "POST",
        "/approval-connectors",
        {"name": "ops-hook", "type": "webhook", "endpoint": "https://hooks.example.com/approvals"},
    )
    exported = v1(api, "GET", "/context/export").get_json()["resources"]
    assert [p["name"] for p in exported["policies"]] == ["payments-policy"]
    assert [c["name"] for c in exported["approval_connectors"]] == ["ops-hook"]
    assert [d["id"] for d in exported["deploy_drafts"]] == ["draft-payments-01"]
    assert exported["approvals"] == []
