"""Delete what a run created, at the end of the run, whether or not its checks passed.

Two sources of names, so a resource is found even when one of them misses it:

- ``CreatedResources``: names taken from the create responses the run saw;
- the list operations, read at the end: anything whose name carries the run's prefix.

Only names that carry the prefix are ever deleted. Runs and access requests cannot be deleted
through the API, so the ones the run left open are closed instead: runs are moved to FAILED,
pending access requests are rejected.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from .api import SpecOperation

CLEANUP_REASON = "closed by runagents-contract cleanup"
# Statuses cleanup accepts. Any 2xx: judging the server is the checks' job, not cleanup's.
SUCCESS = range(200, 300)
SUCCESS_OR_GONE = (*SUCCESS, 404)  # 404: already deleted, e.g. by a stateful scenario
SUCCESS_OR_SETTLED = (*SUCCESS, 404, 409)  # 409: the run/request finished in the meantime


@dataclass(frozen=True)
class Kind:
    """A deletable kind of resource and the operations that list and delete it."""

    plural: str
    list_operation: str
    delete_operation: str
    # (create operation, field of its 2xx body holding a name or a list of names of this kind)
    created_by: tuple[tuple[str, str], ...]


# Agents first: they refer to tools and identity providers. A kind is cleaned when the API
# under test has both operations: /api/v1 deletes agents by name (deleteAgentByName).
KINDS = (
    Kind("agents", "listAgents", "deleteAgent", (("deployAgent", "agent"),)),
    Kind("agents", "listAgents", "deleteAgentByName", (("deployAgentV1", "agent"),)),
    Kind(
        "tools",
        "listTools",
        "deleteTool",
        (
            ("createTool", "name"),
            ("deployAgent", "tools_created"),
            ("deployAgentV1", "tools_created"),
            ("seedStarterKit", "tools_created"),
        ),
    ),
    Kind(
        "model providers",
        "listModelProviders",
        "deleteModelProvider",
        (("createModelProvider", "name"), ("seedStarterKit", "model_providers_created")),
    ),
    Kind(
        "identity providers", "listIdentityProviders", "deleteIdentityProvider", (("createIdentityProvider", "name"),)
    ),
    Kind("policies", "listPoliciesV1", "deletePolicyV1", (("createPolicyV1", "name"),)),
)


@dataclass
class CreatedResources:
    """Names seen in create responses: kind plural -> set of (namespace or "", name)."""

    names: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    run_ids: set[str] = field(default_factory=set)
    access_request_ids: set[str] = field(default_factory=set)

    def record(self, operation_id: str, status: int, body: Any) -> None:
        if not 200 <= status < 300 or not isinstance(body, dict):
            return
        if operation_id == "createRun" and isinstance(body.get("id"), str):
            self.run_ids.add(body["id"])
        if operation_id == "createAccessRequest" and isinstance(body.get("id"), str):
            self.access_request_ids.add(body["id"])
        for kind in KINDS:
            for creator, key in kind.created_by:
                if creator != operation_id:
                    continue
                values = body.get(key)
                values = values if isinstance(values, list) else [values]
                namespace = body.get("namespace", "") if kind.plural == "agents" else ""
                for value in values:
                    if isinstance(value, str):
                        self.names.setdefault(kind.plural, set()).add((namespace or "", value))


@dataclass
class CleanupResult:
    deleted: dict[str, list[str]] = field(default_factory=dict)
    closed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        done = [f"{plural} {len(names)}" for plural, names in self.deleted.items() if names]
        text = "deleted " + ", ".join(done) if done else "nothing to delete"
        if self.closed:
            text += f"; closed {len(self.closed)} open run(s) and access request(s)"
        if self.problems:
            text += f"; {len(self.problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in self.problems)
        return text


class Cleaner:
    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        operations: dict[str, SpecOperation],
        prefix: str,
        headers: dict[str, str],
    ):
        self.session = session
        self.headers = headers  # the key, in the header the API takes it in
        self.base_url = base_url.rstrip("/")
        self.operations = operations  # operationId -> operation
        self.prefix = prefix

    def run(self, created: CreatedResources) -> CleanupResult:
        result = CleanupResult()
        for kind in KINDS:
            if kind.list_operation in self.operations and kind.delete_operation in self.operations:
                self._delete_kind(kind, created.names.get(kind.plural, set()), result)
        self._close_runs(created.run_ids, result)
        self._reject_access_requests(created.access_request_ids, result)
        return result

    # --- helpers ----------------------------------------------------------------------

    def _url(self, operation_id: str, **path: str) -> str:
        template = self.operations[operation_id].path
        for key, value in path.items():
            template = template.replace("{" + key + "}", quote(value, safe=""))
        return self.base_url + template

    def _call(
        self,
        method: str,
        operation_id: str,
        result: CleanupResult,
        ok: Container[int] = SUCCESS,
        json_body: Any = None,
        params: dict[str, str] | None = None,
        path: Mapping[str, str] | None = None,
    ) -> requests.Response | None:
        """The response when its status is in ``ok``; otherwise None, with the problem recorded."""
        url = self._url(operation_id, **(path or {}))
        try:
            response = self.session.request(
                method, url, json=json_body, params=params, headers=self.headers, timeout=30
            )
        except requests.RequestException as exc:
            result.problems.append(f"{method} {url}: {exc}")
            return None
        if response.status_code not in ok:
            result.problems.append(f"{method} {url}: {response.status_code} {response.text[:200]}")
            return None
        return response

    def _list(self, operation_id: str, result: CleanupResult, **params: str) -> list[dict[str, Any]]:
        response = self._call("GET", operation_id, result, params=params or None)
        try:
            items = response.json() if response is not None else []
        except ValueError:
            result.problems.append(f"GET {self._url(operation_id)}: the answer is not JSON")
            return []
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []

    def _delete_kind(self, kind: Kind, seen: set[tuple[str, str]], result: CleanupResult) -> None:
        targets = set(seen)
        for item in self._list(kind.list_operation, result):
            if isinstance(item.get("name"), str):
                namespace = item.get("namespace", "") if kind.plural == "agents" else ""
                targets.add((namespace or "", item["name"]))
        for namespace, name in sorted(targets):
            if not name.startswith(self.prefix):
                continue  # never ours: leave it alone
            path = {"namespace": namespace, "name": name} if kind.plural == "agents" else {"name": name}
            response = self._call("DELETE", kind.delete_operation, result, ok=SUCCESS_OR_GONE, path=path)
            if response is not None and response.status_code != 404:
                result.deleted.setdefault(kind.plural, []).append(f"{namespace}/{name}" if namespace else name)

    def _close_runs(self, run_ids: set[str], result: CleanupResult) -> None:
        if "listRuns" not in self.operations or "updateRun" not in self.operations:
            return
        open_runs: set[str] = set()
        for status in ("RUNNING", "PAUSED_APPROVAL"):
            for run in self._list("listRuns", result, status=status):
                if run.get("id") in run_ids or str(run.get("agent_id", "")).startswith(self.prefix):
                    open_runs.add(run["id"])
        for run_id in sorted(open_runs):
            response = self._call(
                "PATCH", "updateRun", result, ok=SUCCESS_OR_SETTLED, json_body={"status": "FAILED"}, path={"id": run_id}
            )
            if response is not None and response.ok:
                result.closed.append(f"run {run_id}")

    def _reject_access_requests(self, request_ids: set[str], result: CleanupResult) -> None:
        if "listAccessRequests" not in self.operations or "rejectAccessRequest" not in self.operations:
            return
        for item in self._list("listAccessRequests", result, status="PENDING"):
            if item.get("id") in request_ids or str(item.get("subject", "")).startswith(self.prefix):
                response = self._call(
                    "POST",
                    "rejectAccessRequest",
                    result,
                    ok=SUCCESS_OR_SETTLED,
                    json_body={"reason": CLEANUP_REASON},
                    path={"id": item["id"]},
                )
                if response is not None and response.ok:
                    result.closed.append(f"access request {item['id']}")
