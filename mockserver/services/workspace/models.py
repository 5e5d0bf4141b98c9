"""What /api/v1 reports about a workspace as a whole: model spend and the context export.

Spend is simulated and deterministic: the tokens the LLM gateway served for each model this
workspace, at ``USD_PER_1K_TOKENS``. A budget comes from an agent's config
(``llm_configs[].monthly_budget_usd``); at ``NEAR_BUDGET`` of it a model is ``near_budget``,
at 100 % ``blocked``. The period is the calendar month of the mock's clock.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ...basics.clock import iso

USD_PER_1K_TOKENS = 0.002
NEAR_BUDGET = 0.8


def _month(now: float) -> tuple[str, str]:
    start = datetime.fromtimestamp(now, timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return iso(start.timestamp()), iso(end.timestamp())


def model_spend(platform) -> dict[str, Any]:
    with platform.lock:
        tokens = dict(platform.gateway.tokens)
        budgets = [(ns, name, cfg) for (ns, name), extras in platform.agents.extras.items()
                   for cfg in extras.get("llm_configs", []) if cfg.get("monthly_budget_usd") is not None]
    start, end = _month(platform.clock.now())
    spend = {model: round(n * USD_PER_1K_TOKENS / 1000, 6) for model, n in tokens.items()}
    period = {"period_start": start, "period_end": end}
    budgeted = []
    for ns, name, cfg in budgets:
        used, budget = spend.get(cfg["model"], 0.0), float(cfg["monthly_budget_usd"])
        status = "blocked" if used >= budget else "near_budget" if used >= NEAR_BUDGET * budget else "ok"
        budgeted.append({"label": f"{name}/{cfg.get('role') or 'chat'}", "role": cfg.get("role") or "chat",
                         "provider": cfg.get("provider", ""), "model_provider": cfg.get("model_provider", ""),
                         "model": cfg["model"], "monthly_budget_usd": budget, "estimated_spend_usd": used,
                         "remaining_budget_usd": round(budget - used, 6), "status": status,
                         "agent_name": name, "agent_namespace": ns, **period})
    budgeted_models = {item["model"] for item in budgeted}
    top = sorted(({"model": m, "estimated_spend_usd": s, "monthly_budget_usd": None, "remaining_budget_usd": None,
                   "status": "ok" if m in budgeted_models else "uncapped", "label": m, **period}
                  for m, s in spend.items()), key=lambda i: (-i["estimated_spend_usd"], i["model"]))
    total_budget = sum(i["monthly_budget_usd"] for i in budgeted)
    return {
        "summary": {"total_estimated_spend_usd": round(sum(spend.values()), 6), "total_budget_usd": total_budget,
                    "remaining_budget_usd": round(total_budget - sum(i["estimated_spend_usd"] for i in budgeted), 6),
                    "budgeted_model_count": len(budgeted),
                    "near_budget_count": sum(i["status"] == "near_budget" for i in budgeted),
                    "blocked_count": sum(i["status"] == "blocked" for i in budgeted),
                    "uncapped_spend_usd": round(sum(s for m, s in spend.items() if m not in budgeted_models), 6),
                    **period},
        "warnings": [i for i in budgeted if i["status"] != "ok"],
        "top_models": top[:10],
    }


def context_export(platform) -> dict[str, Any]:
    """The resources the CLI's ``context export`` gathers (cli/commands.md), each as its June
    list operation answers it; approvals are the workspace's access requests."""
    policies = platform.policies
    with platform.lock:
        return {"workspace": platform.workspace, "exported_at": platform.now_iso(),
                "agents": platform.agents.list(), "tools": platform.tools.list(),
                "model_providers": platform.providers.list(), "identity_providers": platform.identity.list(),
                "policies": policies.june_views(policies.list_user_policies()),
                "approval_connectors": platform.connectors.list(),
                "approvals": platform.governance.list(None),
                "deploy_drafts": list(platform.drafts.items.values())}
