"""Policies and policy bindings: both request forms, bad input, auto-bindings, evaluation."""

from __future__ import annotations

import pytest

from mockserver.services.policies.models import evaluate

RULES = [
    {"permission": "allow", "resource": "https://api.stripe.com/v1/charges*", "operations": ["GET"]},
    {"permission": "deny", "resource": "https://api.stripe.com/v1/charges*", "operations": ["DELETE"]},
]


def test_the_page_form_and_the_sdk_form_store_the_same_rules(api):
    page = api.post("/api/policies", {"name": "stripe-read", "rules": RULES})
    sdk = api.post("/api/policies", {"name": "stripe-sdk", "spec": {"policies": RULES, "approvals": [{"x": 1}]}})
    assert page.status_code == sdk.status_code == 201
    for answer in (page.json, sdk.json):
        assert answer["rules"] == RULES and answer["spec"]["policies"] == RULES
        assert answer["origin"] == "user" and answer["status"]["ready"] is True
    assert sdk.json["spec"]["approvals"] == [{"x": 1}]
    assert [p["name"] for p in api.get("/api/policies").json] == ["stripe-read", "stripe-sdk"]


def test_update_get_and_delete_a_policy_with_its_bindings(api):
    api.post("/api/policies", {"name": "p", "rules": RULES})
    api.post(
        "/api/policy-bindings", {"name": "b", "policy": "p", "subjects": [{"kind": "ServiceAccount", "name": "bot"}]}
    )
    updated = api.put("/api/policies/p", {"rules": [{"permission": "allow", "resource": "*"}]})
    assert updated.status_code == 200 and updated.json["rules"] == [{"permission": "allow", "resource": "*"}]
    assert api.get("/api/policies/p").json["rules"] == updated.json["rules"]
    assert api.delete("/api/policies/p").json == {"status": "deleted"}
    assert api.get("/api/policy-bindings/b").status_code == 404


@pytest.mark.parametrize(
    "body,message",
    [
        ({"name": "p"}, "rules is required (or spec.policies in the SDK form)"),
        ({"name": "p", "spec": {"policies": []}}, "rules is required (or spec.policies in the SDK form)"),
        (
            {"name": "p", "rules": [{"permission": "maybe", "resource": "*"}]},
            "rules[0].permission must be one of: allow, deny",
        ),
        (
            {"name": "p", "rules": [{"permission": "allow", "resource": "ftp://x"}]},
            'resource must be "*" or an http(s) URL pattern such as https://api.example.com/*',
        ),
        (
            {"name": "p", "rules": [{"permission": "allow", "resource": "*", "operations": ["FETCH"]}]},
            "rules[0].operations[0] must be one of: GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS",
        ),
        ({"name": "Not A Name", "rules": RULES}, None),
    ],
)
def test_malformed_policies_are_refused_and_change_nothing(api, body, message):
    answer = api.post("/api/policies", body)
    assert answer.status_code == 400
    if message:
        assert answer.json == {"error": message}
    assert api.get("/api/policies").json == []


def test_documented_errors(api):
    api.post("/api/policies", {"name": "p", "rules": RULES})
    assert api.post("/api/policies", {"name": "p", "rules": RULES}).json == {"error": 'policy "p" already exists'}
    assert api.get("/api/policies/nope").json == {"error": 'policy "nope" not found'}
    assert api.put("/api/policies/nope", {"rules": RULES}).status_code == 404
    renamed = api.put("/api/policies/p", {"name": "q", "rules": RULES})  # the path names the policy
    assert renamed.status_code == 200 and renamed.json["name"] == "p"
    assert api.get("/api/policies/q").status_code == 404
    subjects = [{"kind": "ServiceAccount", "name": "bot"}]
    missing = api.post("/api/policy-bindings", {"name": "b", "policy": "nope", "subjects": subjects})
    assert missing.status_code == 404 and missing.json == {"error": 'policy "nope" not found'}
    assert api.get("/api/policy-bindings").json == []
    assert api.post("/api/policy-bindings", {"name": "b", "policy": "p", "subjects": subjects}).status_code == 201
    assert api.post("/api/policy-bindings", {"name": "b", "policy": "p", "subjects": subjects}).json == {
        "error": 'policy binding "b" already exists'
    }
    assert api.post("/api/policy-bindings", {"name": "c", "policy": "p", "subjects": []}).json == {
        "error": "subjects must have at least 1 item(s)"
    }
    assert (
        api.post(
            "/api/policy-bindings", {"name": "c", "policy": "p", "subjects": [{"kind": "Robot", "name": "x"}]}
        ).status_code
        == 400
    )
    assert api.get("/api/policy-bindings/nope").json == {"error": 'policy binding "nope" not found'}
    assert api.delete("/api/policy-bindings/b").json == {"status": "deleted"}
    assert api.delete("/api/policy-bindings/b").status_code == 404


def test_deny_beats_allow_and_methods_narrow_rules():
    url = "https://api.stripe.com/v1/charges/ch_1"
    assert evaluate(RULES, url, "GET") == "allow"
    assert evaluate(RULES, url, "DELETE") == "deny"
    assert evaluate(RULES, url, "POST") == "none"
    assert evaluate(RULES + [{"permission": "deny", "resource": "*"}], url, "GET") == "deny"
    assert (
        evaluate(
            [{"permission": "allow", "resource": "https://api.stripe.com/*"}],
            "https://api.stripe.com.evil.test/x",
            "GET",
        )
        == "none"
    )


def test_deploy_auto_binds_open_tools_and_delete_removes_them(api):
    api.post("/api/starter-kit")
    api.post(
        "/api/tools",
        {
            "name": "crit",
            "spec": {
                "connection": {"baseUrl": "https://c.example"},
                "governance": {"accessControl": {"mode": "Critical"}},
            },
        },
    )
    api.post("/api/deploy", {"agent_name": "bot", "image": "i", "required_tools": ["echo-tool", "crit"]})
    bindings = api.get("/api/policy-bindings").json
    assert [(b["name"], b["origin"], b["subjects"]) for b in bindings] == [
        ("bot-echo-tool-auto", "auto", [{"kind": "ServiceAccount", "name": "bot"}])
    ]
    assert api.get("/api/policies/bot-echo-tool-auto").json["rules"] == [
        {"permission": "allow", "resource": "http://echo-tool.agent-system.svc:8080*"}
    ]
    # Redeploying without the tool drops its auto-binding; deleting the agent drops the rest.
    api.post("/api/deploy", {"agent_name": "bot", "image": "i", "required_tools": []})
    assert api.get("/api/policy-bindings").json == []
    api.post("/api/deploy", {"agent_name": "bot", "image": "i", "required_tools": ["echo-tool"]})
    api.delete("/api/agents/agent-system/bot")
    assert api.get("/api/policy-bindings").json == [] and api.get("/api/policies").json == []


def test_policies_survive_export_and_load(api):
    api.post("/api/policies", {"name": "p", "rules": RULES})
    api.post("/api/policy-bindings", {"name": "b", "policy": "p", "subjects": [{"kind": "User", "name": "u"}]})
    state = api.get("/_mock/state").json
    api.post("/_mock/reset")
    assert api.put("/_mock/state", state).status_code == 200
    assert api.get("/api/policy-bindings/b").json["policy"] == "p"
    broken = {**state, "policies": {"policies": [{"name": "x"}]}}
    assert api.put("/_mock/state", broken).status_code == 400
