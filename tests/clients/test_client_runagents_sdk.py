"""The vendor SDK `runagents` 1.3.1, unmodified, against the mock: every resource end to end.

Runs have no create call in the SDK (see docs/compatibility.md), so the tests create them
over HTTP the way the platform does, then read them back with the SDK.
"""

from __future__ import annotations

import pytest
from api_support import DOC_ANALYZE_EXAMPLE
from runagents.client import APIError

IDP = {
    "name": "corp-sso",
    "spec": {
        "host": "agents.example.com",
        "identityProvider": {
            "issuer": "https://sso.example.com",
            "jwksUri": "https://sso.example.com/jwks",
            "audiences": ["agents"],
        },
        "userIDClaim": "email",
        "allowedDomains": ["example.com"],
    },
}


def start_run(mock, agent_id: str = "payment-agent", user_id: str = "alice@example.com") -> str:
    answer = mock.request("POST", "/runs", json={"agent_id": agent_id, "user_id": user_id})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def add_event(mock, run_id: str, event_type: str, **extra) -> None:
    answer = mock.request("POST", f"/runs/{run_id}/events", json={"type": event_type, **extra})
    assert answer.status_code == 201, answer.text


# --- starter kit, tools, model providers ------------------------------------------------


def test_starter_kit_creates_echo_tool_and_playground_llm_once(sdk, runagents_mock):
    first = sdk.seed_starter_kit()
    again = sdk.seed_starter_kit()

    assert first == {
        "status": "ok",
        "message": "Starter kit resources created",
        "tools_created": ["echo-tool"],
        "model_providers_created": ["playground-llm"],
    }
    assert again["tools_created"] == again["model_providers_created"] == []
    [tool] = sdk.tools.list()
    assert (tool.name, tool.base_url, tool.auth_type) == ("echo-tool", "http://echo-tool.agent-system.svc:8080", "None")
    [provider] = sdk.models.list()
    assert (provider.name, provider.provider, provider.models, provider.status, provider.endpoint) == (
        "playground-llm",
        "openai",
        ["gpt-4o-mini"],
        "Available",
        "https://api.openai.com",
    )
    # The SDK posts no body with Content-Type: application/json; the mock must not 400 on it.
    [entry, _] = runagents_mock.calls("POST", "/api/starter-kit")
    assert (entry["status"], entry["body"]) == (200, None)


def test_tools_create_sends_the_flat_body_and_get_reads_it_back(sdk, runagents_mock):
    created = sdk.tools.create("stripe-api", "https://api.stripe.com", description="Payments", auth_type="APIKey")

    [call] = runagents_mock.calls("POST", "/api/tools")
    assert call["body"] == {
        "name": "stripe-api",
        "base_url": "https://api.stripe.com",
        "description": "Payments",
        "auth_type": "APIKey",
        "port": 443,
        "scheme": "HTTPS",
    }
    assert created["name"] == "stripe-api"
    assert created["spec"]["connection"] == {
        "topology": "External",
        "baseUrl": "https://api.stripe.com",
        "port": 443,
        "scheme": "HTTPS",
        "authentication": {"type": "APIKey"},
    }
    tool = sdk.tools.get("stripe-api")
    assert (tool.name, tool.description, tool.base_url, tool.auth_type) == (
        "stripe-api",
        "Payments",
        "https://api.stripe.com",
        "APIKey",
    )
    assert [t.name for t in sdk.tools.list()] == ["stripe-api"]


def test_tools_get_unknown_raises_api_error_404(sdk):
    with pytest.raises(APIError) as missing:
        sdk.tools.get("nope")
    assert (missing.value.status, missing.value.detail) == (404, {"error": 'tool "nope" not found'})


def test_models_list_shows_a_new_provider_pending_then_available(sdk, runagents_mock):
    runagents_mock.request(
        "POST",
        "/api/model-providers",
        json={
            "name": "anthropic",
            "spec": {
                "provider": "anthropic",
                "endpoint": "https://api.anthropic.com",
                "models": ["claude-sonnet"],
                "auth": {"type": "None"},
            },
        },
    )

    [pending] = sdk.models.list()
    assert (pending.name, pending.provider, pending.models, pending.status) == (
        "anthropic",
        "anthropic",
        ["claude-sonnet"],
        "Pending",
    )
    runagents_mock.advance(1)
    assert [m.status for m in sdk.models.list()] == ["Available"]


# --- agents ------------------------------------------------------------------------------


def test_agents_deploy_an_image_then_list_and_get(sdk):
    result = sdk.agents.deploy(
        "payment-agent",
        image="registry.example.com/payment-agent:1",
        system_prompt="You handle payments.",
        required_tools=["stripe-api"],
        tools_to_create=[{"name": "stripe-api", "base_url": "https://api.stripe.com", "auth_type": "APIKey"}],
        llm_configs=[{"provider": "openai", "model": "gpt-4o-mini", "role": "default"}],
    )

    assert (result.agent_name, result.namespace, result.tools_created) == (
        "payment-agent",
        "agent-system",
        ["stripe-api"],
    )
    [listed] = sdk.agents.list()
    agent = sdk.agents.get("agent-system", "payment-agent")
    assert listed == agent
    assert (agent.name, agent.namespace, agent.status, agent.image, agent.system_prompt) == (
        "payment-agent",
        "agent-system",
        "Running",
        "registry.example.com/payment-agent:1",
        "You handle payments.",
    )
    # The SDK types required_tools as list[str] but passes the api/ shape through.
    assert agent.required_tools == [{"name": "stripe-api"}]
    assert sdk.tools.get("stripe-api").base_url == "https://api.stripe.com"


def test_agents_deploy_from_source_waits_for_its_build(sdk, runagents_mock):
    result = sdk.agents.deploy(
        "hello-world", source_files={"agent.py": "print('hello')\n"}, requirements="requests\n", entry_point="agent.py"
    )

    assert result.agent_name == "hello-world"
    assert sdk.agents.get("agent-system", "hello-world").status == "Pending"
    runagents_mock.advance(3)  # build: PENDING 1 s, BUILDING 2 s
    agent = sdk.agents.get("agent-system", "hello-world")
    assert agent.status == "Running" and agent.image.startswith("registry.runagents.io/hello-world:")


def test_agents_get_unknown_raises_404(sdk):
    with pytest.raises(APIError) as missing:
        sdk.agents.get("agent-system", "ghost")
    assert (missing.value.status, missing.value.detail) == (404, {"error": "agent agent-system/ghost not found"})


def test_sdk_refuses_two_deploy_sources_before_sending(sdk, runagents_mock):
    with pytest.raises(ValueError, match="exactly one deploy source"):
        sdk.agents.deploy("x", image="img:1", source_files={"a.py": ""})
    runagents_mock.assert_not_called("*", "*")


# --- runs and events ---------------------------------------------------------------------


def test_runs_list_get_and_filters(sdk, runagents_mock):
    first = start_run(runagents_mock, "payment-agent", "alice@example.com")
    second = start_run(runagents_mock, "payment-agent", "bob@example.com")
    other = start_run(runagents_mock, "support-agent", "alice@example.com")
    runagents_mock.request("PATCH", f"/runs/{second}", json={"status": "COMPLETED"})

    assert {r.id for r in sdk.runs.list()} == {first, other}  # no filter: RUNNING only
    assert [r.id for r in sdk.runs.list(status="COMPLETED")] == [second]
    assert {r.id for r in sdk.runs.list(agent="payment-agent")} == {first, second}
    assert [r.id for r in sdk.runs.list(agent="payment-agent", user="alice@example.com")] == [first]
    runagents_mock.assert_called("GET", "/runs")
    assert runagents_mock.calls("GET", "/runs")[2]["query"] == {"agent_id": "payment-agent"}

    run = sdk.runs.get(first)
    assert (run.id, run.agent_id, run.user_id, run.status, run.namespace) == (
        first,
        "payment-agent",
        "alice@example.com",
        "RUNNING",
        "agent-system",
    )
    assert run.invoke_url == "http://payment-agent.agent-system.svc.cluster.local:8080/invoke"
    assert run.created_at and run.updated_at


def test_runs_get_unknown_raises_404(sdk):
    with pytest.raises(APIError) as missing:
        sdk.runs.get("no-such-run")
    assert (missing.value.status, missing.value.detail) == (404, {"error": "run no-such-run not found"})


def test_run_events_in_order_with_data_limit_and_type_filter(sdk, runagents_mock):
    run_id = start_run(runagents_mock)
    add_event(runagents_mock, run_id, "USER_MESSAGE", actor="alice@example.com", data={"content": "refund 42"})
    add_event(
        runagents_mock,
        run_id,
        "TOOL_REQUEST",
        actor="payment-agent",
        data={"tool_id": "stripe-api", "tool_method": "POST", "tool_url": "/v1/refunds"},
    )
    add_event(runagents_mock, run_id, "AGENT_MESSAGE", actor="payment-agent", data={"content": "Refunded."})

    events = sdk.runs.events(run_id)
    assert [(e.seq, e.type, e.actor) for e in events] == [
        (1, "USER_MESSAGE", "alice@example.com"),
        (2, "TOOL_REQUEST", "payment-agent"),
        (3, "AGENT_MESSAGE", "payment-agent"),
    ]
    assert events[0].data == {"content": "refund 42"} and events[0].run_id == run_id and events[0].event_id

    [last] = sdk.runs.events(run_id, limit=1)
    assert last.seq == 3
    assert runagents_mock.calls("GET", f"/runs/{run_id}/events")[-1]["query"] == {"limit": "1"}
    assert [e.seq for e in sdk.runs.events(run_id, event_type="tool_request")] == [2]

    timeline = sdk.runs.timeline(run_id)
    assert [t.summary for t in timeline] == ["refund 42", "Called stripe-api POST /v1/refunds", "Refunded."]


def test_runs_wait_and_export_a_finished_run(sdk, runagents_mock):
    run_id = start_run(runagents_mock)
    add_event(runagents_mock, run_id, "COMPLETED")
    runagents_mock.request("PATCH", f"/runs/{run_id}", json={"status": "COMPLETED"})

    assert sdk.runs.wait(run_id, timeout_seconds=1, interval_seconds=0).status == "COMPLETED"
    exported = sdk.runs.export(run_id)
    assert exported.run.id == run_id
    assert [(t.type, t.summary) for t in exported.timeline] == [("COMPLETED", "Run completed successfully")]


# --- approvals -----------------------------------------------------------------------------


def test_approvals_list_and_approve_with_no_body(sdk, runagents_mock):
    runagents_mock.seed({"access_requests": [{"subject": "payment-agent-sa", "tool_id": "stripe-api"}]})

    [pending] = sdk.approvals.list()
    approved = sdk.approvals.approve(pending["id"])

    # No scope: once (the narrowest grant), which has no window.
    assert (approved["id"], approved["status"], approved["approver_id"], approved["scope"]) == (
        pending["id"],
        "APPROVED",
        "admin",
        "once",
    )
    assert "expires_at" not in approved
    assert sdk.approvals.list() == []
    [call] = runagents_mock.calls("POST", f"/governance/requests/{pending['id']}/approve")
    assert call["body"] == {}  # no body sent: the mock reads it as {}


def test_approvals_approve_with_a_window_sets_the_duration(sdk, runagents_mock):
    runagents_mock.seed({"access_requests": [{"subject": "payment-agent-sa", "tool_id": "stripe-api"}]})
    [pending] = sdk.approvals.list()

    approved = sdk.approvals.approve(pending["id"], scope="window", duration="1h")

    [call] = runagents_mock.calls("POST", "/governance/requests/*/approve")
    assert call["body"] == {"scope": "agent_user_ttl", "duration": "1h"}
    assert approved["duration"] == "1h"
    runagents_mock.advance(3600)
    status = runagents_mock.request("GET", f"/governance/requests/{pending['id']}").json()["status"]
    assert status == "EXPIRED"


def test_approvals_approve_once_sends_an_empty_duration(sdk, runagents_mock):
    runagents_mock.seed({"access_requests": [{"subject": "payment-agent-sa", "tool_id": "stripe-api"}]})
    [pending] = sdk.approvals.list()

    approved = sdk.approvals.approve(pending["id"], scope="once")

    assert runagents_mock.calls("POST", "/governance/requests/*/approve")[0]["body"] == {
        "scope": "once",
        "duration": "",
    }
    assert (approved["status"], approved["scope"]) == ("APPROVED", "once") and "expires_at" not in approved


def test_approvals_reject_and_deciding_twice_is_a_409(sdk, runagents_mock):
    runagents_mock.seed({"access_requests": [{"subject": "payment-agent-sa", "tool_id": "stripe-api"}]})
    [pending] = sdk.approvals.list()

    rejected = sdk.approvals.reject(pending["id"])

    assert rejected["status"] == "REJECTED"
    with pytest.raises(APIError) as twice:
        sdk.approvals.approve(pending["id"])
    assert (twice.value.status, twice.value.detail) == (409, {"error": "request is not pending"})
    with pytest.raises(APIError) as unknown:
        sdk.approvals.reject("req-nope")
    assert unknown.value.status == 404


def test_approving_a_run_request_resumes_the_run(sdk, runagents_mock):
    run_id = start_run(runagents_mock)
    runagents_mock.request(
        "POST",
        "/governance/requests",
        json={"subject": "payment-agent-sa", "tool_id": "stripe-api", "run_id": run_id, "capability": "create-charge"},
    )
    paused = sdk.runs.get(run_id)
    assert paused.status == "PAUSED_APPROVAL" and paused.blocked_action_id

    [pending] = sdk.approvals.list()
    sdk.approvals.approve(pending["id"])

    run = sdk.runs.get(run_id)
    assert (run.status, run.blocked_action_id) == ("RUNNING", "")
    assert [e.type for e in sdk.runs.events(run_id)] == ["APPROVAL_REQUIRED", "APPROVED", "RESUMED"]
    action = runagents_mock.request("GET", f"/runs/{run_id}/actions/{paused.blocked_action_id}").json()
    assert action["status"] == "APPROVED"


def test_rejecting_a_run_request_fails_the_run(sdk, runagents_mock):
    run_id = start_run(runagents_mock)
    runagents_mock.request(
        "POST", "/governance/requests", json={"subject": "payment-agent-sa", "tool_id": "stripe-api", "run_id": run_id}
    )

    sdk.approvals.reject(sdk.approvals.list()[0]["id"])

    assert sdk.runs.get(run_id).status == "FAILED"
    assert [e.type for e in sdk.runs.events(run_id)] == ["APPROVAL_REQUIRED", "REJECTED", "FAILED"]


# --- identity providers ----------------------------------------------------------------------


def test_identity_providers_apply_list_get_delete(sdk, runagents_mock):
    applied = sdk.identity_providers.apply(IDP)

    assert (applied.name, applied.namespace) == ("corp-sso", "default")
    assert (applied.spec.host, applied.spec.user_id_claim, applied.spec.allowed_domains) == (
        "agents.example.com",
        "email",
        ["example.com"],
    )
    assert (
        applied.spec.identity_provider.issuer,
        applied.spec.identity_provider.jwks_uri,
        applied.spec.identity_provider.audiences,
    ) == ("https://sso.example.com", "https://sso.example.com/jwks", ["agents"])
    assert [idp.name for idp in sdk.identity_providers.list()] == ["corp-sso"]
    assert sdk.identity_providers.get("corp-sso") == applied

    assert sdk.identity_providers.delete("corp-sso") == {"status": "deleted"}
    assert sdk.identity_providers.list() == []
    with pytest.raises(APIError) as gone:
        sdk.identity_providers.get("corp-sso")
    assert (gone.value.status, gone.value.detail) == (404, {"error": 'identity provider "corp-sso" not found'})


def test_identity_providers_apply_a_flat_document_and_update_it(sdk):
    flat = {"name": "corp-sso", "namespace": "agent-system", **IDP["spec"]}
    sdk.identity_providers.apply(flat)
    updated = sdk.identity_providers.apply({**flat, "userIDClaim": "sub"})

    assert (updated.namespace, updated.spec.user_id_claim) == ("agent-system", "sub")
    assert len(sdk.identity_providers.list()) == 1


# --- analyze ------------------------------------------------------------------------------------


def test_analyze_finds_tools_models_secrets_and_requirements(sdk, runagents_mock):
    result = sdk.analyze({"agent.py": DOC_ANALYZE_EXAMPLE})

    runagents_mock.assert_called("POST", "/ingestion/analyze", times=1)
    assert result.id.startswith("analysis-")
    assert [(t["name"], t["base_url"], t["line"]) for t in result.tools] == [
        ("stripe-api", "https://api.stripe.com", 8)
    ]
    assert result.model_providers == [{"provider": "openai", "model": "gpt-4o"}]
    assert [(u["role"], u["variable_name"]) for u in result.model_usages] == [("default", "client")]
    assert [(s["type"], s["file"], s["severity"]) for s in result.secrets] == [("api_key", "agent.py", "high")]
    assert "sk_live_abc123" not in repr(result)  # the value itself is never returned
    assert sorted(result.outbound_destinations) == ["api.openai.com", "api.stripe.com"]
    assert result.detected_requirements == ["openai>=1.0", "requests"]
    assert result.entry_point == "agent.py"
    cached = runagents_mock.request("GET", f"/analysis/{result.id}")
    assert cached.status_code == 200 and cached.json()["tools"] == result.tools


# --- auth ----------------------------------------------------------------------------------------


def test_wrong_key_is_an_api_error_401(runagents_mock_factory):
    from runagents import Client

    keyed = runagents_mock_factory(api_keys=["right-key"])
    with pytest.raises(APIError) as denied:
        Client(endpoint=keyed.url, api_key="wrong-key", namespace="default").tools.list()
    assert (denied.value.status, denied.value.detail) == (401, {"error": "invalid API key"})
    assert Client(endpoint=keyed.url, api_key="right-key", namespace="default").tools.list() == []
