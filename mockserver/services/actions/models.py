"""Action plans: an ordered list of steps, each the body of an API call, validated as a whole
and then applied in order (``/api/v1/actions/validate`` and ``/apply``).

Which call each action type makes is ``x-action-operations`` on ``ActionPlanAction`` in
openapi-v1.yaml; the step's ``params`` are validated exactly as that call's body. Types the
mock has no call for (policies, deploy drafts) are invalid steps. Applying a step whose
``idempotency_key`` was already applied in this workspace answers the earlier result again
without repeating the call.
"""

from __future__ import annotations

from typing import Any, Mapping

from ...basics.errors import ApiError


def _ref(operation_id: str, params: Mapping[str, Any], payload: Any) -> str:
    """Where the step's resource can be read back (``resource_ref``)."""
    if operation_id.startswith("deploy"):
        return f"/agents/{params.get('agent_name') or params.get('name')}"
    if operation_id.startswith("seedStarterKit"):
        return "/tools/echo-tool"
    name = payload.get("name") if isinstance(payload, dict) else None
    return f"/{'tools' if operation_id == 'createTool' else 'model-providers'}/{name or params.get('name')}"


class ActionsBackend:
    def __init__(self, platform):
        self.platform = platform
        self.applied: dict[str, dict[str, Any]] = {}  # idempotency_key -> the step's applied result

    def _operations(self) -> Mapping[str, str | None]:
        return self.platform.replay.spec.document["components"]["schemas"]["ActionPlanAction"]["x-action-operations"]

    def _check(self, action: Mapping[str, Any], seen: set[str]) -> tuple[dict[str, Any], str | None]:
        """The step's result skeleton and its first problem (None when valid)."""
        operations = self._operations()
        kind, key = action.get("type", ""), action.get("idempotency_key", "")
        result = {"id": action.get("id") or key, "type": kind, "idempotency_key": key}
        params = action.get("params") or {}
        if not key:
            return result, "idempotency_key is required"
        if key in seen:
            return result, f"duplicate idempotency_key {key}"
        seen.add(key)
        if kind not in operations:
            return result, f"unknown action type {kind!r}; known: {', '.join(operations)}"
        if operations[kind] is None:
            return result, f"{kind} is not supported by runagents-mock"
        problem = self.platform.replay.problem(operations[kind], params)
        if problem:
            return result, f"params: {problem}"
        result["resource_ref"] = _ref(operations[kind], params, params)
        return result, None

    def validate(self, plan: Mapping[str, Any]) -> dict[str, Any]:
        seen: set[str] = set()
        results = []
        for action in plan["actions"]:
            result, problem = self._check(action, seen)
            results.append({**result, "valid": problem is None, **({"errors": [problem]} if problem else {})})
        return {"plan_id": plan.get("plan_id", ""), "namespace": self.platform.workspace,
                "valid": all(r["valid"] for r in results), "results": results}

    def apply(self, plan: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """200 with per-step outcomes; 400 (apply-shaped, nothing changed) when a step is invalid."""
        with self.platform.lock:
            seen: set[str] = set()
            checked = [(action, *self._check(action, seen)) for action in plan["actions"]]
            if any(problem for _, _, problem in checked):
                results = [{**result, "status": "invalid", "error": problem} if problem else
                           {**result, "status": "skipped"} for _, result, problem in checked]
                return 400, self._answer(plan, results)
            results, stop = [], False
            for action, result, _ in checked:
                key = action["idempotency_key"]
                if stop:
                    results.append({**result, "status": "skipped"})
                elif key in self.applied:
                    results.append(dict(self.applied[key]))
                else:
                    operation_id = self._operations()[action["type"]]
                    try:
                        self.platform.replay.call(self.platform, operation_id, action.get("params") or {})
                    except ApiError as exc:
                        results.append({**result, "status": "failed", "error": exc.message})
                        stop = not plan.get("continue_on_error", False)
                        continue
                    self.applied[key] = {**result, "status": "applied"}
                    results.append(dict(self.applied[key]))
            return 200, self._answer(plan, results)

    def _answer(self, plan: Mapping[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
        applied = sum(r["status"] == "applied" for r in results)
        failed = sum(r["status"] in ("failed", "invalid") for r in results)
        return {"plan_id": plan.get("plan_id", ""), "namespace": self.platform.workspace,
                "applied": failed == 0, "applied_count": applied, "failed_count": failed, "results": results}

    def export(self) -> dict[str, Any]:
        return {"applied": dict(self.applied)}

    def load(self, data: Mapping[str, Any]) -> None:
        self.applied = {str(k): dict(v) for k, v in data.get("applied", {}).items()}
