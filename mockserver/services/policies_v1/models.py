"""Policies of the June API (``/api/v1/policies``): named rule sets agents are bound to.

Kept apart from the February ``/api/policies`` domain another change is building; the two
are meant to be folded into one. ``used_by`` lists the agents whose deploy or config names
the policy. ``translate`` is a deterministic keyword reading of the text (no model):
"read"/"get"/"view" allows GET, "write"/"create"/"update"/"delete"/"send" with "approv"
requires approval for writes (otherwise allows them), "deny"/"block"/"never" denies writes.
"""

from __future__ import annotations

from typing import Any, Mapping

from ...basics.errors import ApiError
from ..common import DEFAULT_NAMESPACE, NamedCollection

WRITES = ["POST", "PUT", "PATCH", "DELETE"]


class PoliciesBackend(NamedCollection):
    kind = "policies"
    not_found_message = 'policy "{name}" not found'

    def _with_usage(self, policy: Mapping[str, Any]) -> dict[str, Any]:
        agents = self.platform.agents
        used_by = [{"name": name, "namespace": namespace} for (namespace, name), extras in agents.extras.items()
                   if policy["name"] in extras.get("policies", []) and (namespace, name) in agents.items]
        return {**policy, "used_by": used_by}

    def get(self, name: str) -> dict[str, Any]:
        with self.platform.lock:
            return self._with_usage(super().get(name))

    def list(self) -> list[dict[str, Any]]:
        with self.platform.lock:
            return [self._with_usage(p) for p in super().list()]

    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.platform.lock:
            if body["name"] in self.items:
                raise ApiError(409, f'policy "{body["name"]}" already exists')
            self.store(self._record(body["name"], body["spec"]))
            return self.get(body["name"])

    def replace(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.platform.lock:
            super().get(name)  # 404 when missing
            # The June page: PUT replaces the spec, with POST's body; the path names the policy,
            # so a body name (required by that schema) is not used, and never renames.
            self.store(self._record(name, body["spec"]))
            return self.get(name)

    @staticmethod
    def _record(name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
        return {"name": name, "namespace": DEFAULT_NAMESPACE, "spec": dict(spec),
                "status": {"ready": True, "message": ""}}


def translate(text: str) -> dict[str, Any]:
    words = text.lower()
    rules: list[dict[str, Any]] = []
    if any(w in words for w in ("read", "get", "view", "list")):
        rules.append({"permission": "allow", "operations": ["GET"]})
    if any(w in words for w in ("deny", "block", "never", "forbid")):
        rules.append({"permission": "deny", "operations": list(WRITES)})
    elif any(w in words for w in ("write", "create", "update", "delete", "send", "modify")):
        permission = "approval_required" if "approv" in words else "allow"
        rules.append({"permission": permission, "operations": list(WRITES)})
    return {"rules": rules}
