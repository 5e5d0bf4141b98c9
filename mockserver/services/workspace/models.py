"""What /api/v1 reports about a workspace as a whole: model spend and the context export.

Spend is simulated and deterministic: the tokens the LLM gateway served this month, per agent
and model, at ``USD_PER_1K_TOKENS``. An agent's traffic is what it sent through its gateway URL
(``/_llm/<namespace>/<agent>/...``, the runtime's ``LLM_GATEWAY_URL``), in every auth mode;
a key's own calls to ``/chat/completions`` count under no agent (``agent_name`` ""). A row is
one entry of an agent's ``llm_configs`` (its model's traffic), or traffic no entry covers. A
budget is the entry's ``monthly_budget_usd``; the status words are the vendor contract's:
``Active`` below ``NEAR_BUDGET`` of it, ``Near budget`` from there, ``Budget reached`` from
100 %, ``Uncapped`` without a budget. The period is the calendar month of the mock's clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ...basics.clock import iso
from ..common import DEFAULT_NAMESPACE

if TYPE_CHECKING:
    from ..ports import PlatformPort

USD_PER_1K_TOKENS = 0.002
NEAR_BUDGET = 0.8
WARNING_STATUSES = ("Near budget", "Budget reached")


def _month(now: float) -> tuple[str, str]:
    start = datetime.fromtimestamp(now, UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return iso(start.timestamp()), iso(end.timestamp())


def _usd(tokens: int) -> float:
    return round(tokens * USD_PER_1K_TOKENS / 1000, 6)


def _status(used: float, budget: float | None) -> str:
    if budget is None:
        return "Uncapped"
    return "Budget reached" if used >= budget else "Near budget" if used >= NEAR_BUDGET * budget else "Active"


def spend_rows(platform: PlatformPort) -> list[dict[str, Any]]:
    """Every (agent, model) row of this month, in agent then configuration order."""
    with platform.lock:
        usage = dict(platform.gateway.usage)
        june_agents = [name for ns, name in platform.agents.items if ns == DEFAULT_NAMESPACE]
        configs = [(name, platform.agents.config(name)["llm_configs"]) for name in june_agents]
    start, end = _month(platform.clock.now())
    period = {"period_start": start, "period_end": end}
    rows, covered = [], set()
    for name, llms in configs:
        for cfg in llms:
            key = (DEFAULT_NAMESPACE, name, cfg["model"])
            used = _usd(usage.get(key, 0)) if key not in covered else 0.0  # one entry per model counts it
            covered.add(key)
            budget = cfg.get("monthly_budget_usd")
            role = cfg.get("role") or "chat"
            row = {
                "label": f"{name}/{role}",
                "role": role,
                "provider": cfg.get("provider", ""),
                "model_provider": cfg.get("model_provider", ""),
                "model": cfg["model"],
                "estimated_spend_usd": used,
                "status": _status(used, budget),
                "agent_name": name,
                "agent_namespace": DEFAULT_NAMESPACE,
                **period,
            }
            if budget is not None:
                row.update(monthly_budget_usd=float(budget), remaining_budget_usd=round(float(budget) - used, 6))
            rows.append(row)
    for (ns, name, model), tokens in usage.items():
        if (ns, name, model) not in covered:
            rows.append(
                {
                    "label": f"{name}/{model}" if name else model,
                    "model": model,
                    "estimated_spend_usd": _usd(tokens),
                    "status": "Uncapped",
                    "agent_name": name,
                    "agent_namespace": ns,
                    **period,
                }
            )
    return rows


def agent_model_usage(platform: PlatformPort, name: str) -> list[dict[str, Any]]:
    """``model_usage`` of one June agent's config: its rows, without the agent fields."""
    return [
        {k: v for k, v in row.items() if k not in ("agent_name", "agent_namespace")}
        for row in spend_rows(platform)
        if row["agent_name"] == name and row["agent_namespace"] == DEFAULT_NAMESPACE
    ]


def model_spend(platform: PlatformPort) -> dict[str, Any]:
    rows = spend_rows(platform)
    start, end = _month(platform.clock.now())
    budgeted = [r for r in rows if "monthly_budget_usd" in r]
    total_budget = round(sum(r["monthly_budget_usd"] for r in budgeted), 6)
    return {
        "summary": {
            "total_estimated_spend_usd": round(sum(r["estimated_spend_usd"] for r in rows), 6),
            "total_budget_usd": total_budget,
            "remaining_budget_usd": round(total_budget - sum(r["estimated_spend_usd"] for r in budgeted), 6),
            "budgeted_model_count": len(budgeted),
            "near_budget_count": sum(r["status"] == "Near budget" for r in rows),
            "blocked_count": sum(r["status"] == "Budget reached" for r in rows),
            "uncapped_spend_usd": round(sum(r["estimated_spend_usd"] for r in rows if r["status"] == "Uncapped"), 6),
            "period_start": start,
            "period_end": end,
        },
        "warnings": [r for r in rows if r["status"] in WARNING_STATUSES],
        "top_models": sorted(
            (r for r in rows if r["estimated_spend_usd"] > 0),
            key=lambda r: (-r["estimated_spend_usd"], r["agent_name"], r["model"]),
        )[:10],
    }


def context_export(platform: PlatformPort) -> dict[str, Any]:
    """The CLI's context document: each kind as its June list operation answers it (approvals
    are the access requests, drafts the IN_PROGRESS ones ``GET /deploy-drafts`` lists)."""
    policies = platform.policies
    with platform.lock:
        resources = {
            "agents": platform.agents.list(),
            "tools": platform.tools.list(),
            "model_providers": platform.providers.list(),
            "policies": policies.june_views(policies.list_user_policies()),
            "identity_providers": platform.identity.list(),
            "approval_connectors": platform.connectors.list(),
            "approvals": platform.governance.list(None),
            "deploy_drafts": platform.drafts.list(None),
        }
        generated = platform.now_iso()
    return {
        "generated_at": generated,
        "namespace": platform.workspace,
        "resources": resources,
        "errors": {},
        "meta": {f"{kind}_count": len(items) for kind, items in resources.items()},
    }
