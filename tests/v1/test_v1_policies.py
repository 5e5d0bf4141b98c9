"""One policy domain for both releases: a policy written through either surface is read through
the other in its shape, and the June way of binding (an agent's `policies`) is what the tool
proxy evaluates: deny refuses, approval_required goes through the JIT approval path."""

from __future__ import annotations

import pytest
from api_support import error_of

WS_KEY = {"X-RunAgents-API-Key": "ra_ws_test"}
ECHO = "http://echo-tool.agent-system.svc:8080"  # the starter kit tool's base URL
EGRESS = "/_egress/agent-system/billing-agent"


def v1(api, method, path, body=None):
    return api.request(method, "/api/v1" + path, json_body=body, headers=WS_KEY, auth=False)


def egress(api, method, path, run_id=None):
    headers = {"X-Run-ID": run_id} if run_id else {}
    return api.request(method, EGRESS + path, json_body={} if method != "GET" else None, headers=headers, auth=False)


def rule(permission, operations=None, resource=ECHO + "/*", **extra):
    return {
        "permission": permission,
        **({"resource": resource} if resource else {}),
        **({"operations": operations} if operations else {}),
        **extra,
    }


@pytest.fixture
def june_agent(api):
    """billing-agent deployed through /api/v1 with the starter kit's (Open) echo-tool and a
    bound June policy that does not exist yet."""
    assert v1(api, "POST", "/starter-kit").status_code == 201
    assert (
        v1(
            api,
            "POST",
            "/deploy",
            {"agent_name": "billing-agent", "image": "i", "required_tools": ["echo-tool"], "policies": ["echo-writes"]},
        ).status_code
        == 201
    )
    return api


def test_a_june_policy_reads_through_the_february_surface(api):
    spec = {
        "policies": [
            rule("allow", ["GET"]),
            rule("approval_required", ["POST"]),
            rule("deny", ["DELETE"], resource=None),
        ],
        "approvals": [{"name": "writes", "approvers": {"groups": ["ops"]}, "defaultDuration": "4h"}],
    }
    assert v1(api, "POST", "/policies", {"name": "echo-writes", "spec": spec}).get_json()["spec"] == spec
    february = api.get("/api/policies/echo-writes").json
    # February has no approval_required, and every February rule has a resource (June's none: any URL).
    expressible = [rule("allow", ["GET"]), rule("deny", ["DELETE"], resource="*")]
    assert february["rules"] == february["spec"]["policies"] == expressible
    assert february["spec"]["approvals"] == spec["approvals"] and february["origin"] == "user"
    assert [p["name"] for p in api.get("/api/policies").json] == ["echo-writes"]
    assert v1(api, "GET", "/policies/echo-writes").get_json()["spec"] == spec  # the June view is unchanged

    # A February PUT replaces the whole policy (its body is all there is), June-only rules included.
    api.put("/api/policies/echo-writes", {"name": "echo-writes", "rules": [rule("allow")]})
    assert v1(api, "GET", "/policies/echo-writes").get_json()["spec"] == {"policies": [rule("allow")], "approvals": []}
    assert api.delete("/api/policies/echo-writes").status_code == 200
    response = v1(api, "GET", "/policies/echo-writes")
    assert response.status_code == 404 and error_of(response) == 'policy "echo-writes" not found'


def test_a_february_policy_and_binding_read_through_the_june_surface(june_agent):
    api = june_agent
    api.post(
        "/api/policies",
        {
            "name": "stripe-read",
            "spec": {
                "policies": [rule("allow", ["GET"], resource="https://api.stripe.com/*")],
                "approvals": [{"name": "ok", "defaultDuration": "1h"}, {"free": "form"}],
            },
        },
    )
    api.post(
        "/api/policy-bindings",
        {"name": "b", "policy": "stripe-read", "subjects": [{"kind": "ServiceAccount", "name": "billing-agent"}]},
    )
    june = v1(api, "GET", "/policies/stripe-read").get_json()
    # June's approvals have a shape: the free-form one stays stored (February shows it) but is not shown here.
    assert june["spec"] == {
        "policies": [rule("allow", ["GET"], resource="https://api.stripe.com/*")],
        "approvals": [{"name": "ok", "defaultDuration": "1h"}],
    }
    assert june["used_by"] == [{"name": "billing-agent", "namespace": "agent-system"}]
    # The platform's own auto/jit policies are February mechanics: not listed, not reachable on /api/v1.
    assert [p["name"] for p in api.get("/api/policies").json] == ["billing-agent-echo-tool-auto", "stripe-read"]
    assert [p["name"] for p in v1(api, "GET", "/policies").get_json()] == ["stripe-read"]
    for method, body in (("GET", None), ("DELETE", None), ("PUT", {"name": "x", "spec": {}})):
        response = v1(api, method, "/policies/billing-agent-echo-tool-auto", body)
        assert response.status_code == 404
        assert error_of(response) == 'policy "billing-agent-echo-tool-auto" not found'
    assert v1(api, "DELETE", "/policies/stripe-read").status_code == 200
    assert api.get("/api/policy-bindings").json[0]["name"] == "billing-agent-echo-tool-auto"  # b went with it


def test_june_rules_are_checked_against_the_shared_rule_forms(api):
    for bad, message in (
        (
            rule("allow", ["get"]),
            "spec.policies[0].operations[0] must be one of: GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS",
        ),
        (
            rule("allow", resource="api.stripe.com/*"),
            'resource must be "*" or an http(s) URL pattern such as https://api.example.com/*',
        ),
    ):
        response = v1(api, "POST", "/policies", {"name": "p", "spec": {"policies": [bad]}})
        assert response.status_code == 400 and error_of(response) == message
    assert api.get("/api/policies").json == []


def test_a_bound_june_deny_refuses_the_tool_call_on_the_egress_proxy(june_agent):
    api = june_agent
    # The Open tool's auto-binding allows everything until the named policy exists.
    assert egress(api, "DELETE", "/echo-tool/items/1").status_code == 200
    v1(api, "POST", "/policies", {"name": "echo-writes", "spec": {"policies": [rule("deny", ["DELETE"])]}})
    denied = egress(api, "DELETE", "/echo-tool/items/1")
    assert denied.status_code == 403
    assert denied.json == {"error": f"policy denies DELETE {ECHO}/items/1 to agent billing-agent", "tool": "echo-tool"}
    assert egress(api, "GET", "/echo-tool/items/1").status_code == 200  # only DELETE is denied
    # Unbinding through the agent config lifts it; binding again through the config restores it.
    v1(api, "PUT", "/agents/billing-agent/config", {"policies": []})
    assert egress(api, "DELETE", "/echo-tool/items/1").status_code == 200
    v1(api, "PUT", "/agents/billing-agent/config", {"policies": ["echo-writes"]})
    assert egress(api, "DELETE", "/echo-tool/items/1").status_code == 403


def test_a_june_allow_lets_a_restricted_tool_through(api):
    api.post(
        "/api/tools",
        {
            "name": "ledger",
            "spec": {
                "connection": {"baseUrl": "https://ledger.example.test"},
                "governance": {"accessControl": {"mode": "Restricted"}},
            },
        },
    )
    v1(
        api,
        "POST",
        "/deploy",
        {"agent_name": "billing-agent", "image": "i", "required_tools": ["ledger"], "policies": ["ledger-read"]},
    )
    refused = egress(api, "GET", "/ledger/entries")
    assert refused.status_code == 403
    assert refused.json["error"] == "no policy binding allows agent billing-agent to call tool ledger"
    v1(
        api,
        "POST",
        "/policies",
        {
            "name": "ledger-read",
            "spec": {"policies": [rule("allow", ["GET"], resource="https://ledger.example.test/*")]},
        },
    )
    assert egress(api, "GET", "/ledger/entries").status_code == 200
    assert egress(api, "POST", "/ledger/entries").status_code == 403


def test_approval_required_pauses_the_run_until_approved(june_agent):
    api = june_agent
    v1(
        api,
        "POST",
        "/policies",
        {"name": "echo-writes", "spec": {"policies": [rule("allow", ["GET"]), rule("approval_required", ["POST"])]}},
    )
    run = v1(api, "POST", "/runs", {"agent_id": "billing-agent", "user_id": "carol"}).get_json()
    assert egress(api, "GET", "/echo-tool/x", run["id"]).status_code == 200
    blocked = egress(api, "POST", "/echo-tool/x", run["id"])
    assert blocked.status_code == 403 and blocked.json["code"] == "APPROVAL_REQUIRED" and blocked.json["action_id"]
    assert v1(api, "GET", f"/runs/{run['id']}").get_json()["status"] == "PAUSED_APPROVAL"
    request = v1(api, "GET", f"/approvals/requests/{blocked.json['request_id']}").get_json()
    assert (request["status"], request["tool_id"], request["subject"]) == ("PENDING", "echo-tool", "billing-agent")
    assert v1(api, "POST", f"/approvals/requests/{request['id']}/approve", {}).status_code == 200
    assert v1(api, "GET", f"/runs/{run['id']}").get_json()["status"] == "RUNNING"
    assert egress(api, "POST", "/echo-tool/x", run["id"]).status_code == 200  # the grant lets the retry through


def test_rule_tags_match_the_tool_or_capability_risk_tags(api):
    api.post(
        "/api/tools",
        {
            "name": "pay",
            "spec": {
                "connection": {"baseUrl": "https://pay.example.test"},
                "riskTags": ["financial"],
                "capabilities": [
                    {"name": "refund", "method": "POST", "path": "/refunds", "riskTags": ["destructive"]},
                    {"name": "list", "method": "GET", "path": "/charges"},
                ],
            },
        },
    )
    api.post("/api/tools", {"name": "notes", "spec": {"connection": {"baseUrl": "https://notes.example.test"}}})
    v1(
        api,
        "POST",
        "/deploy",
        {"agent_name": "billing-agent", "image": "i", "required_tools": ["pay", "notes"], "policies": ["risky"]},
    )
    v1(
        api,
        "POST",
        "/policies",
        {
            "name": "risky",
            "spec": {
                "policies": [
                    rule("deny", resource=None, tags=["destructive"]),
                    rule("approval_required", ["GET"], resource=None, tags=["financial"]),
                ]
            },
        },
    )
    assert egress(api, "POST", "/pay/refunds").json["error"].startswith("policy denies POST")  # capability's tag
    assert egress(api, "GET", "/pay/charges").json["code"] == "APPROVAL_REQUIRED"  # the tool's tag
    assert egress(api, "GET", "/notes/today").status_code == 200  # no tag: neither rule matches


def test_june_policies_survive_a_state_round_trip_and_a_bad_one_is_refused(api):
    v1(api, "POST", "/policies", {"name": "echo-writes", "spec": {"policies": [rule("approval_required")]}})
    state = api.get("/_mock/state").json
    assert api.put("/_mock/state", state).status_code == 200
    assert v1(api, "GET", "/policies/echo-writes").get_json()["spec"]["policies"] == [rule("approval_required")]
    state["policies"]["policies"][0]["v1_spec"]["policies"][0]["permission"] = "maybe"
    response = api.put("/_mock/state", state)
    assert response.status_code == 400
    assert error_of(response) == (
        "policies.policies[0].v1_spec.policies[0].permission must be one of: allow, deny, approval_required"
    )


def test_policies_sent_to_the_february_deploy_bind_too(api):
    # SDK 1.3.1 sends `policies` to /api/deploy: the same binding as the June deploy's.
    api.post("/api/starter-kit")
    api.post(
        "/api/deploy",
        {"agent_name": "billing-agent", "image": "i", "required_tools": ["echo-tool"], "policies": ["no-deletes"]},
    )
    api.post("/api/policies", {"name": "no-deletes", "rules": [rule("deny", ["DELETE"])]})
    assert egress(api, "DELETE", "/echo-tool/x").status_code == 403
    assert v1(api, "GET", "/policies/no-deletes").get_json()["used_by"] == [
        {"name": "billing-agent", "namespace": "agent-system"}
    ]


def test_a_covering_approval_route_sets_the_grant_duration(june_agent):
    api = june_agent
    v1(
        api,
        "POST",
        "/policies",
        {
            "name": "echo-writes",
            "spec": {
                "policies": [rule("approval_required", ["POST"])],
                "approvals": [
                    {"name": "other-tool", "toolIds": ["ledger"], "defaultDuration": "8h"},
                    {"name": "echo", "toolIds": ["echo-tool"], "defaultDuration": "30m"},
                ],
            },
        },
    )
    blocked = egress(api, "POST", "/echo-tool/x").json
    approved = v1(
        api, "POST", f"/approvals/requests/{blocked['request_id']}/approve", {"scope": "agent_user_ttl"}
    ).get_json()
    assert approved["duration"] == "30m"  # the route covering echo-tool, not the first route
    assert egress(api, "POST", "/echo-tool/x").status_code == 200
    api.post("/_mock/clock/advance", {"seconds": 31 * 60})
    assert egress(api, "POST", "/echo-tool/x").json["code"] == "APPROVAL_REQUIRED"  # the grant has expired
