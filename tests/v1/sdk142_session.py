"""Drives the vendor SDK 1.4.2 against RUNAGENTS_ENDPOINT; prints a JSON report.

Run by test_sdk142.py in a subprocess whose PYTHONPATH holds SDK 1.4.2, so the venv's
SDK 1.3.1 stays what the rest of the suite uses.
"""

from __future__ import annotations

import json
import sys

import runagents
from runagents.client import APIError, Client


def error_of(call) -> dict:
    try:
        call()
    except APIError as exc:
        return {"status": exc.status, "detail": exc.detail}
    return {"status": None}


def main(scenario: str) -> dict:
    client = Client()
    report: dict = {"version": runagents.__version__, "endpoint": client.endpoint, "headers": sorted(client._headers())}
    if scenario == "errors":
        report["missing_agent"] = error_of(lambda: client.agents.get("nope"))
        report["missing_catalog"] = error_of(lambda: client.catalog.get("nope"))
        return report

    report["starter_kit"] = client.seed_starter_kit()
    client.tools.create("stripe-api", "https://api.stripe.com", description="payments", auth_type="APIKey")
    report["tools"] = sorted(t.name for t in client.tools.list())
    report["tool"] = client.tools.get("stripe-api").name
    report["models"] = sorted(m.name for m in client.models.list())

    deployed = client.agents.deploy(
        "billing-agent",
        image="ghcr.io/acme/billing:1",
        required_tools=["stripe-api"],
        llm_configs=[{"provider": "openai", "model": "gpt-4o-mini"}],
        policies=["billing-read"],
        system_prompt="Be brief.",
    )
    report["deploy"] = {
        "agent_name": deployed.agent_name,
        "execution_mode": deployed.execution_mode,
        "build_required": deployed.build_required,
    }
    report["agents"] = [a.name for a in client.agents.list()]
    agent = client.agents.get("billing-agent")
    report["agent"] = {"status": agent.status, "required_tools": agent.required_tools}
    config = client.agents.update_config(
        "billing-agent",
        llm_configs=[{"provider": "openai", "model": "gpt-4o-mini", "role": "chat", "monthly_budget_usd": 5}],
    )
    report["config"] = {
        "policies": config.policies,
        "system_prompt": config.system_prompt,
        "budget": config.llm_configs[0].monthly_budget_usd,
        "tools": client.agents.get_config("billing-agent").required_tools,
    }
    spend = client.model_spend.get()
    report["spend"] = {"budgeted": spend.summary.budgeted_model_count, "total_budget": spend.summary.total_budget_usd}

    connector = client.approval_connectors.apply(
        {"name": "secops", "type": "slack", "endpoint": "C0123", "headers": {"X-Slack-Bot-Token": "xoxb-secret"}}
    )
    updated = client.approval_connectors.apply({"name": "secops", "timeout_seconds": 30})
    report["connector"] = {
        "same": updated.id == connector.id,
        "timeout": updated.timeout_seconds,
        "headers": connector.headers,
        "test": client.approval_connectors.test(connector.id).status,
        "mode": client.approval_connectors.defaults_set(delivery_mode="all").default_delivery_mode,
    }

    # A run that waits for an approval (created the way the agent runtime does, over HTTP).
    run_id = client.post("/runs", {"agent_id": "billing-agent", "user_id": "alice@example.com"})["id"]
    client.post(f"/runs/{run_id}/events", {"type": "RUN_CREATED", "actor": "platform"})
    request = client.post(
        "/approvals/requests",
        {"subject": "alice@example.com", "tool_id": "stripe-api", "agent_id": "billing-agent", "run_id": run_id},
    )
    report["paused"] = client.runs.get(run_id).status
    report["pending"] = [r.id for r in client.approvals.list()] == [request["id"]]
    approved = client.approvals.approve(request["id"], scope="window", duration="2h")
    report["approved"] = {"status": approved.status, "scope": approved.scope, "duration": approved.duration}
    report["resumed"] = client.runs.get(run_id).status
    report["events"] = [e.type for e in client.runs.events(run_id)]
    report["runs"] = [r.id for r in client.runs.list(agent="billing-agent")] == [run_id]
    other = client.post("/approvals/requests", {"subject": "bob@example.com", "tool_id": "stripe-api"})
    report["rejected"] = client.approvals.reject(other["id"], reason="not now").status
    report["activity"] = [[a.event, a.decision] for a in client.approval_connectors.activity(limit=10)]

    catalog = client.catalog.list(search="google")
    report["catalog"] = {"ids": [i.id for i in catalog.items], "total": catalog.total}
    report["versions"] = [v.version for v in client.catalog.versions("google-workspace-assistant-agent").versions]
    report["manifest_version"] = client.catalog.get("google-workspace-assistant-agent", version="1.1.0").version
    from_catalog = client.catalog.deploy("support-triage-agent", tools=["stripe-api"])
    report["catalog_deploy"] = {"agent_name": from_catalog.agent_name, "build_required": from_catalog.build_required}

    plan = {
        "plan_id": "bootstrap",
        "actions": [
            {
                "id": "tool-1",
                "type": "tool.upsert",
                "idempotency_key": "boot.tool.v1",
                "params": {"name": "payments-api", "base_url": "https://payments.example.com"},
            }
        ],
    }
    checked, applied = client.actions.validate(plan), client.actions.apply(plan)
    report["plan"] = {
        "valid": checked.valid,
        "applied": applied.applied,
        "count": applied.applied_count,
        "ref": applied.results[0].resource_ref,
    }

    rule = {"permission": "allow", "operations": ["GET"], "resource": "https://api.stripe.com/*"}
    client.policies.apply({"name": "billing-read", "spec": {"policies": [rule]}})
    policy = client.policies.apply(
        {"policies": [rule, {**rule, "permission": "approval_required", "operations": ["POST"]}]}, name="billing-read"
    )
    report["policy"] = {
        "rules": len(policy.spec.policies),
        "used_by": [u.name for u in policy.used_by],
        "listed": [p.name for p in client.policies.list()],
        "translated": [r.permission for r in client.policies.translate("Allow reads, approve writes")],
    }
    client.policies.delete("billing-read")

    report["idps"] = [i.name for i in client.identity_providers.list()]
    report["context_agents"] = sorted(a["name"] for a in client.export_context()["resources"]["agents"])
    report["analysis_tools"] = len(
        client.analyze({"agent.py": "import requests\nrequests.get('https://api.stripe.com/v1/charges')\n"}).tools
    )
    return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1] if len(sys.argv) > 1 else "full")))
