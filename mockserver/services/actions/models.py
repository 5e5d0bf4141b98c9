"""Action plans: an ordered list of steps, each the body of an API call, validated as a whole
and then applied in order (``/api/v1/actions/validate`` and ``/apply``).

Which call each action type makes is ``x-action-operations`` on ``ActionPlanAction`` in
openapi-v1.yaml; the step's ``params`` are validated exactly as that call's body.
``policy.upsert`` creates or replaces the policy (where ``POST /policies`` would answer 409);
``deploy_draft.create_or_patch`` has no call: its ``params`` are a ``DeployDraft``, recorded in
the workspace (services/drafts), and a ``deploy.execute`` naming a ``draft_id`` is validated and
run with the draft's fields (also a draft an earlier step of the same plan makes). A plan with an
invalid step changes nothing; a step that fails when applied changes nothing itself and stops
the plan (earlier steps stay applied) unless ``continue_on_error``. Applying a step whose
``idempotency_key`` was already applied in this workspace answers the earlier result again
without repeating the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...basics.errors import ApiError
from ..drafts.models import draft_id_for
from ..state import Persistent, mapping

if TYPE_CHECKING:
    from ..ports import PlatformPort

DEPLOY = "deployAgentV1"  # the call whose `draft_id` names a deploy draft


def _ref(operation_id: str, params: Mapping[str, Any]) -> str:
    """Where the step's resource can be read back (``resource_ref``)."""
    if operation_id.startswith("deploy"):
        return f"/agents/{params.get('agent_name') or params.get('name')}"
    if operation_id.startswith("seedStarterKit"):
        return "/tools/echo-tool"
    if operation_id.startswith("createPolicy"):
        return f"/policies/{params.get('name')}"
    return f"/{'tools' if operation_id == 'createTool' else 'model-providers'}/{params.get('name')}"


class ActionsBackend(Persistent):
    STATE = (mapping("applied", dict),)

    def __init__(self, platform: PlatformPort) -> None:
        self.platform = platform
        self.applied: dict[str, dict[str, Any]] = {}  # idempotency_key -> the step's applied result

    def _operations(self) -> Mapping[str, str | Mapping[str, str]]:
        """Action type -> the operationId it calls, or ``{schema: ...}`` for a draft step (the
        document's ``x-action-operations``, whose form tests/v1 checks)."""
        operations: Mapping[str, str | Mapping[str, str]] = self.platform.operations().schema_extension(
            "ActionPlanAction", "x-action-operations"
        )
        return operations

    def _check(
        self, action: Mapping[str, Any], seen: set[str], drafts: dict[str, dict[str, Any]]
    ) -> tuple[dict[str, Any], str | None, Any]:
        """The step's result skeleton, its first problem (None when valid), and what applying it
        stores or sends (a draft, or the call's body). ``drafts``: those earlier steps make."""
        operations = self._operations()
        kind, key = action.get("type", ""), action.get("idempotency_key", "")
        result = {"id": action.get("id") or key, "type": kind, "idempotency_key": key}
        params = action.get("params") or {}
        if not key:
            return result, "idempotency_key is required", None
        if key in seen:
            return result, f"duplicate idempotency_key {key}", None
        seen.add(key)
        if kind not in operations:
            return result, f"unknown action type {kind!r}; known: {', '.join(operations)}", None
        target = operations[kind]
        replay = self.platform.operations()
        if not isinstance(target, str):  # no call of its own: a deploy draft
            problem = replay.schema_problem(target["schema"], params)
            if problem:
                return result, f"params: {problem}", None
            try:  # a finished draft does not change
                draft = self.platform.drafts.patched(params.get("id") or draft_id_for(key), params, drafts)
            except ApiError as exc:
                return result, f"params: {exc.message}", None
            drafts[draft["id"]] = draft
            return {**result, "resource_ref": f"/deploy-drafts/{draft['id']}"}, None, draft
        try:
            if target == DEPLOY:  # the draft may hold the deploy's source
                params = self.platform.drafts.hydrate(params, drafts)
            body = replay.parse(target, params).body
        except ApiError as exc:
            return result, f"params: {exc.message}", None
        return {**result, "resource_ref": _ref(target, body)}, None, body

    def validate(self, plan: Mapping[str, Any]) -> dict[str, Any]:
        seen: set[str] = set()
        results = []
        drafts: dict[str, dict[str, Any]] = {}
        for action in plan["actions"]:
            result, problem, _ = self._check(action, seen, drafts)
            results.append({**result, "valid": problem is None, **({"errors": [problem]} if problem else {})})
        return {
            "plan_id": plan.get("plan_id", ""),
            "namespace": self.platform.workspace,
            "valid": all(r["valid"] for r in results),
            "results": results,
        }

    def apply(self, plan: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """200 with per-step outcomes; 400 (apply-shaped, nothing changed) when a step is invalid."""
        with self.platform.lock:
            seen: set[str] = set()
            drafts: dict[str, dict[str, Any]] = {}
            checked = [(action, *self._check(action, seen, drafts)) for action in plan["actions"]]
            if any(problem for _, _, problem, _ in checked):
                results = [
                    {**result, "status": "invalid", "error": problem} if problem else {**result, "status": "skipped"}
                    for _, result, problem, _ in checked
                ]
                return 400, self._answer(plan, results)
            results, stop = [], False
            for action, result, _, payload in checked:
                key = action["idempotency_key"]
                if stop:
                    results.append({**result, "status": "skipped"})
                elif key in self.applied:
                    results.append(dict(self.applied[key]))
                else:
                    try:
                        self._run(action["type"], payload)
                    except ApiError as exc:
                        results.append({**result, "status": "failed", "error": exc.message})
                        stop = not plan.get("continue_on_error", False)
                        continue
                    self.applied[key] = {**result, "status": "applied"}
                    results.append(dict(self.applied[key]))
            return 200, self._answer(plan, results)

    def _run(self, kind: str, payload: Any) -> None:
        """One checked step. Each refuses before storing anything, so a failed step changes nothing."""
        target = self._operations()[kind]
        if not isinstance(target, str):
            self.platform.drafts.put(payload)
        elif kind == "policy.upsert":  # the June POST would 409 on an existing name: replace it
            self.platform.policies.upsert_policy(payload)
        else:
            self.platform.operations().call(self.platform, target, payload)

    def _answer(self, plan: Mapping[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
        applied = sum(r["status"] == "applied" for r in results)
        failed = sum(r["status"] in ("failed", "invalid") for r in results)
        return {
            "plan_id": plan.get("plan_id", ""),
            "namespace": self.platform.workspace,
            "applied": failed == 0,
            "applied_count": applied,
            "failed_count": failed,
            "results": results,
        }
