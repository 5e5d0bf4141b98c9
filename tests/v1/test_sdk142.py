"""The vendor SDK 1.4.2, unmodified, against /api/v1 and a named workspace of the mock.

The same session's tests/clients run SDK 1.3.1 against the February paths.
"""

from __future__ import annotations

EXPECTED_EVENTS = ["RUN_CREATED", "APPROVAL_REQUIRED", "APPROVED", "RESUMED"]


def check_full_report(report: dict) -> None:
    assert report["version"] == "1.4.2"
    assert report["starter_kit"] == {"tool_created": "echo-tool", "model_provider_created": "playground-llm"}
    assert report["tools"] == ["echo-tool", "stripe-api"] and report["tool"] == "stripe-api"
    assert report["models"] == ["playground-llm"]
    assert report["deploy"] == {"agent_name": "billing-agent", "execution_mode": "IMAGE", "build_required": False}
    assert report["agents"] == ["billing-agent"]
    assert report["agent"] == {"status": "Running", "required_tools": [{"name": "stripe-api"}]}  # as documented
    assert report["config"] == {
        "policies": ["billing-read"],
        "system_prompt": "Be brief.",
        "budget": 5.0,
        "tools": ["stripe-api"],
    }
    assert report["spend"] == {"budgeted": 1, "total_budget": 5.0}
    assert report["paused"] == "PAUSED_APPROVAL" and report["pending"] is True
    assert report["approved"] == {"status": "APPROVED", "scope": "agent_user_ttl", "duration": "2h"}
    assert report["resumed"] == "RUNNING"
    assert report["events"] == EXPECTED_EVENTS
    assert report["runs"] is True and report["rejected"] == "REJECTED"
    assert report["connector"] == {
        "same": True,
        "timeout": 30,
        "headers": {"X-Slack-Bot-Token": "***"},
        "test": "healthy",
        "mode": "all",
    }
    # Deliveries are recorded (newest first), never sent: two requests created, one approved, one rejected.
    assert report["activity"] == [
        ["decision_recorded", "rejected"],
        ["dispatch_succeeded", ""],
        ["decision_recorded", "approved"],
        ["dispatch_succeeded", ""],
    ]
    assert report["catalog"] == {"ids": ["google-workspace-assistant-agent"], "total": 1}
    assert report["versions"] == ["1.2.0", "1.1.0"] and report["manifest_version"] == "1.1.0"
    assert report["catalog_deploy"] == {"agent_name": "support-triage-agent", "build_required": True}
    assert report["plan"] == {"valid": True, "applied": True, "count": 1, "ref": "/tools/payments-api"}
    assert report["policy"] == {
        "rules": 2,
        "used_by": ["billing-agent"],
        "listed": ["billing-read"],
        "translated": ["allow", "approval_required"],
    }
    assert report["idps"] == []
    assert report["context_agents"] == ["billing-agent", "support-triage-agent"]
    assert report["analysis_tools"] >= 1


def test_sdk142_on_the_default_workspace(runagents_mock, run_sdk142):
    # The SDK appends /api/v1 to a bare endpoint; a workspace key goes in X-RunAgents-API-Key.
    report = run_sdk142(runagents_mock.url, runagents_mock.workspace_key, "full")

    assert report["endpoint"] == runagents_mock.v1_url
    assert "X-RunAgents-API-Key" in report["headers"] and "Authorization" not in report["headers"]
    check_full_report(report)
    # Everything went to /api/v1, and is the February surface's default workspace too.
    assert all(call["path"].startswith("/api/v1/") for call in runagents_mock.journal())
    assert [a["name"] for a in runagents_mock.request("GET", "/api/agents").json()] == [
        "billing-agent",
        "support-triage-agent",
    ]


def test_sdk142_on_a_named_workspace_with_a_bearer_key(runagents_mock, run_sdk142):
    workspace = runagents_mock.new_workspace("revops")
    # --api-key style keys (not ra_ws_) go as Authorization: Bearer, and work on /api/v1 too.
    report = run_sdk142(runagents_mock.url + "/workspaces/revops", runagents_mock.api_key, "full")

    assert report["endpoint"] == workspace.url
    assert "Authorization" in report["headers"]
    check_full_report(report)
    assert runagents_mock.request("GET", "/api/tools").json() == []  # nothing leaked into the default workspace
    assert {call["workspace"] for call in runagents_mock.journal()} == {"revops", "default"}


def test_sdk142_sees_the_documented_errors(runagents_workspace, run_sdk142):
    report = run_sdk142(runagents_workspace.url, runagents_workspace.api_key, "errors")

    assert report["missing_agent"] == {"status": 404, "detail": {"error": "agent nope not found"}}
    assert report["missing_catalog"] == {"status": 404, "detail": {"error": "catalog entry not found"}}
