"""The operator flows of the June CLI page, as the vendor CLI 1.4.2 sends them (its Go source,
cli/ in runagents-io/runagents: the exact method, path, headers and body of each command), and
the requests both releases refuse where the platform does."""

from __future__ import annotations

import json

import pytest
from api_support import error_of

KEY = "ra_ws_test"
# cli/internal/client/client.go: a ra_ws_ key goes in X-RunAgents-API-Key; a body is JSON-encoded
# with Content-Type application/json; a nil body sends nothing.
CLI_HEADERS = {"X-RunAgents-API-Key": KEY}
JSON = {**CLI_HEADERS, "Content-Type": "application/json"}
# cli/internal/commands/context.go: the resources `context export` refetches when missing or null.
CONTEXT_FETCHES = (
    "agents",
    "tools",
    "model_providers",
    "policies",
    "identity_providers",
    "approval_connectors",
    "approvals",
    "deploy_drafts",
)


def cli(api, method, path, raw=None, ws=""):
    return api.request(
        method, "/api/v1" + ws + path, data=raw, headers=JSON if raw is not None else CLI_HEADERS, auth=False
    )


@pytest.mark.parametrize("ws", ["", "/workspaces/revops"])
def test_context_export_strict_needs_no_other_call(api, ws):
    cli(api, "POST", "/deploy-drafts", "{}", ws=ws)
    exported = cli(api, "GET", "/context/export", ws=ws)
    assert exported.status_code == 200
    body = exported.get_json()
    assert body["namespace"] == (ws.rsplit("/", 1)[-1] or "default") and body["errors"] == {}
    # The CLI refetches a resource (and, with --strict, fails on a 404) only when it is absent or null.
    assert all(body["resources"].get(kind) is not None for kind in CONTEXT_FETCHES)
    assert body["meta"] == {f"{kind}_count": len(body["resources"][kind]) for kind in CONTEXT_FETCHES}
    assert body["meta"]["deploy_drafts_count"] == 1
    # Were a resource missing, its refetch is served too (GET /deploy-drafts was a 404 before).
    assert all(
        cli(api, "GET", path, ws=ws).status_code == 200
        for path in (
            "/agents",
            "/tools",
            "/model-providers",
            "/policies",
            "/identity-providers",
            "/approval-connectors",
            "/approvals/requests",
            "/deploy-drafts",
        )
    )


def test_deploy_with_draft_id_sends_only_the_name_the_draft_and_flags(api):
    cli(api, "POST", "/starter-kit")
    cli(api, "POST", "/policies", '{"name": "billing-write-approval", "spec": {"policies": [{"permission": "allow"}]}}')
    cli(
        api,
        "POST",
        "/deploy-drafts",
        '{"id": "draft_billing_v2", "agent_config": {"use_custom_image": true, '
        '"custom_image": "ghcr.io/acme/billing:1"}, "required_tool_names": ["echo-tool"]}',
    )
    # runagents deploy --name billing-agent --draft-id draft_billing_v2 --policy billing-write-approval
    deployed = cli(
        api,
        "POST",
        "/deploy",
        '{"agent_name":"billing-agent","draft_id":"draft_billing_v2","policies":["billing-write-approval"]}',
    )
    assert deployed.status_code == 201 and deployed.get_json()["agent"] == "billing-agent"
    config = cli(api, "GET", "/agents/billing-agent/config").get_json()
    assert (config["policies"], config["required_tools"]) == (["billing-write-approval"], ["echo-tool"])


@pytest.mark.parametrize(
    "base, approve", [("/api/v1", "/approvals/requests/{}/approve"), ("", "/governance/requests/{}/approve")]
)
def test_plain_approve_sends_json_null_and_is_accepted_on_both_releases(api, base, approve):
    headers = JSON if base else {"Authorization": "Bearer test-key", "Content-Type": "application/json"}
    create = "/approvals/requests" if base else "/governance/requests"
    request = api.request(
        "POST", base + create, data='{"subject": "alice", "tool_id": "stripe-api"}', headers=headers, auth=False
    ).get_json()
    # approvals.go: no --scope/--duration -> a nil *approvalDecisionBody, which encodes as `null`.
    approved = api.request("POST", base + approve.format(request["id"]), data="null", headers=headers, auth=False)
    assert approved.status_code == 200 and approved.get_json()["status"] == "APPROVED"
    second = api.request(
        "POST", base + create, data='{"subject": "bob", "tool_id": "stripe-api"}', headers=headers, auth=False
    ).get_json()
    # `reject` sends no body at all.
    rejected = api.request(
        "POST",
        base + approve.replace("approve", "reject").format(second["id"]),
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
        auth=False,
    )
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "REJECTED"


def test_json_null_is_no_body_only_where_the_body_is_optional(api):
    refused = cli(api, "POST", "/runs", "null")
    assert refused.status_code == 400 and error_of(refused) == "request body must be of type object"
    refused = cli(api, "PUT", "/approval-connectors/defaults")
    assert refused.status_code == 400 and error_of(refused) == "request body is required"


def test_catalog_list_by_category_and_tag(api):
    # runagents catalog list --category "Enterprise Productivity" --tag Gmail
    listed = cli(api, "GET", "/catalog?category=Enterprise+Productivity&tag=Gmail").get_json()
    assert [i["id"] for i in listed["items"]] == ["google-workspace-assistant-agent"]
    assert listed["items"][0]["required_integrations"] == [
        "email",
        "calendar",
        "drive",
        "docs",
        "sheets",
        "tasks",
        "keep",
    ]
    # --tag a --tag b (or --tag a,b): the CLI repeats the parameter; the page's form is a list.
    repeated = cli(api, "GET", "/catalog?tag=Gmail&tag=Ticketing").get_json()
    assert [i["id"] for i in repeated["items"]] == ["google-workspace-assistant-agent", "support-triage-agent"]
    assert repeated == cli(api, "GET", "/catalog?tag=Gmail,Ticketing").get_json() | {
        "generated_at": repeated["generated_at"]
    }
    twice = cli(api, "GET", "/catalog?page=1&page=2")
    assert twice.status_code == 400 and error_of(twice) == "query parameter page is given more than once"


# --- what both releases refuse, as the platform does ------------------------------------------


@pytest.mark.parametrize(
    "path, body, message",
    [
        ("/billing/portal", {"return_url": "not a url"}, "return_url must be a valid uri"),
        (
            "/billing/subscribe",
            {"success_url": "https://x.example/ok", "cancel_url": "back"},
            "cancel_url must be a valid uri",
        ),
        ("/tools/probe", {"url": "not a url"}, "url must be a valid uri"),
        ("/runs", {"agent_id": "a", "user_id": "u", "invoke_url": "not a uri"}, "invoke_url must be a valid uri"),
        ("/approvals/requests", {"subject": "a", "tool_id": "t", "tool_url": 7197}, "tool_url must be of type string"),
        ("/approvals/requests", {"subject": "a", "tool_id": "t", "tool_url": "no url"}, "tool_url must be a valid uri"),
    ],
)
def test_formats_are_checked(api, path, body, message):
    refused = cli(api, "POST", path, json.dumps(body))
    assert refused.status_code == 400 and error_of(refused) == message


def test_february_checks_the_same_formats(api):
    refused = api.post("/runs", {"agent_id": "a", "user_id": "u", "invoke_url": "not a uri"})
    assert refused.status_code == 400 and error_of(refused) == "invoke_url must be a valid uri"
    refused = api.post("/governance/requests", {"subject": "a", "tool_id": "t", "tool_url": 7197})
    assert refused.status_code == 400 and error_of(refused) == "tool_url must be of type string"


def test_an_empty_duration_is_no_duration(api):
    created = cli(api, "POST", "/approvals/requests", '{"subject": "a", "tool_id": "t", "duration": ""}')
    assert created.status_code == 201
    approved = cli(api, "POST", f"/approvals/requests/{created.get_json()['id']}/approve", "null").get_json()
    # As when no duration is sent: the default scope, not a time window (a duration asks for one).
    assert (approved["status"], approved["scope"]) == ("APPROVED", "once") and "expires_at" not in approved
    policy = cli(
        api,
        "POST",
        "/policies",
        '{"name": "p", "spec": {"policies": [{"permission": "allow"}], '
        '"approvals": [{"name": "r", "defaultDuration": ""}]}}',
    )
    assert policy.status_code == 201
