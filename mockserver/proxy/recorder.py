"""The state a session's traffic revealed, written as a seed fixture (``seed.py``'s format).

Only successful answers count. Resources created in the session are kept as the request body
that created them; runs and access requests the client only read are kept as their record
narrowed to the create call's fields (so the fixture holds what a client could have sent).
Fields the spec marks ``writeOnly`` (credentials) are dropped, and what is left goes through
the journal's redaction (``recorded_body``). Runs and access requests keep their ids and statuses; a run's events
are its ``addRunEvent`` bodies, replaced by the whole log whenever the client lists it.
Policies are kept as created (or, read on the February API, when a user made them: grants and
auto policies come back by themselves). June's approval connectors and deploy drafts are kept as
their last answer narrowed to the create call's fields; a draft keeps its id and status.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from ..basics.redact import redact_body, secret_name
from ..spec.document import Operation
from ..spec.surfaces import DEFAULT_WORKSPACE, Surfaces
from ..surface.seed import WORKSPACES_SECTION, sections
from .exchange import Exchange
from .routing import Located

# Kinds addressed by name: section -> (the delete operation, the path parameter naming the item).
_NAMED = {
    "tools": ("deleteTool", "name"),
    "model_providers": ("deleteModelProvider", "name"),
    "identity_providers": ("deleteIdentityProvider", "name"),
    "policies": ("deletePolicy", "name"),
    "agents": ("deleteAgent", "name"),
}
# Reads that show named resources the session did not create (agents' records do not narrow
# to a deploy body, so agents are recorded from deploys only).
_NAMED_READS = {
    "getTool": "tools",
    "listTools": "tools",
    "getModelProvider": "model_providers",
    "listModelProviders": "model_providers",
    "getIdentityProvider": "identity_providers",
    "listIdentityProviders": "identity_providers",
    # February answers say who made a policy (origin); the June ones do not, so June reads of
    # policies the session did not create are not kept.
    "getPolicy": "policies",
    "listPolicies": "policies",
}
_SEEDABLE_REQUEST_STATUSES = ("PENDING", "APPROVED", "REJECTED")
_REPLAYABLE_SCOPES = ("once", "agent_user_ttl")
MAX_PER_KIND = 10_000  # the mock's own default limit per kind: bounded memory
MAX_WORKSPACES = 100  # workspaces recorded; traffic of further ones is not
# June operations that do what a February one does, under another operationId.
_SAME_AS = {
    "deployAgentV1": "deployAgent",
    "deleteAgentByName": "deleteAgent",
    "createPolicyV1": "createPolicy",
    "deletePolicyV1": "deletePolicy",
}
# June-only kinds kept by id: section -> the operations whose answer is the item, and its delete.
_BY_ID = {
    "approval_connectors": (
        ("createApprovalConnector", "getApprovalConnector", "updateApprovalConnector", "listApprovalConnectors"),
        "deleteApprovalConnector",
    ),
    "deploy_drafts": (
        (
            "createDeployDraft",
            "getDeployDraft",
            "patchDeployDraft",
            "completeDeployDraft",
            "abandonDeployDraft",
            "listDeployDrafts",
        ),
        "deleteDeployDraft",
    ),
}


class _Workspace:
    """What the traffic revealed of one workspace."""

    def __init__(self) -> None:
        self.named: dict[str, dict[str, Any]] = {section: {} for section in _NAMED}
        self.runs: dict[str, dict[str, Any]] = {}  # id -> {"body", "status", "events"}
        self.requests: dict[str, dict[str, Any]] = {}  # id -> {"body", "status", "extra"}
        self.by_id: dict[str, dict[str, Any]] = {section: {} for section in _BY_ID}  # section -> id -> item


def _properties(schema: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    if isinstance(schema, Mapping):
        for part in [schema, *schema.get("allOf", [])]:
            if isinstance(part, Mapping):
                properties.update(part.get("properties", {}))
    return properties


def recorded_body(schema: Mapping[str, Any], body: Any) -> Any:
    """A request body as the fixture keeps it: values the spec marks writeOnly (credentials)
    dropped, and the journal's redaction applied to every field the spec does not describe
    field by field. Objects the spec describes are walked instead of redacted whole, so a
    provider's ``apiKeyConfig`` (a reference to a secret, not one) stays loadable."""
    properties = _properties(schema)
    if not isinstance(body, dict) or not properties:
        return redact_body(body)
    out: dict[str, Any] = {}
    for key, value in body.items():
        sub = properties.get(key)
        if isinstance(sub, Mapping) and sub.get("writeOnly"):
            continue
        if isinstance(value, dict) and isinstance(sub, Mapping) and _properties(sub):
            out[key] = recorded_body(sub, value)
        elif isinstance(value, list) and isinstance(sub, Mapping) and _properties(sub.get("items")):
            out[key] = [recorded_body(sub["items"], item) for item in value]
        else:
            out[key] = redact_body({key: value})[key]
    if "value" in out and secret_name(out.get("name")):  # {name: STRIPE_KEY, value: ...} (agent env)
        out["value"] = redact_body({"name": out["name"], "value": out["value"]})["value"]
    return out


class SessionRecorder:
    def __init__(self, surfaces: Surfaces):
        # The fixture holds the February create bodies (what ``serve --seed`` loads); June
        # traffic is recorded as the February call its operation shares (same operationId or
        # _SAME_AS), narrowed to that call's fields, in the workspace it went to.
        self.spec = surfaces.root.spec
        v1 = [surface for surface in surfaces.all if surface.name == "v1"]
        self.v1_spec = v1[0].spec if v1 else None  # June-only kinds (sections(june_only=True))
        self.lock = threading.Lock()
        self.workspaces: dict[str, _Workspace] = {DEFAULT_WORKSPACE: _Workspace()}
        self._current = self.workspaces[DEFAULT_WORKSPACE]
        create_ops = {op_id: section for section, op_id in sections().items()}
        self._handlers: dict[str, Callable[[Operation, dict[str, str], Exchange, Any, Any], None]] = {
            **{op_id: self._created for op_id in create_ops},
            **{delete: self._deleted for delete, _ in _NAMED.values()},
            **{read: self._named_seen for read in _NAMED_READS},
            "getRun": self._run_seen,
            "updateRun": self._run_seen,
            "listRuns": self._runs_listed,
            "addRunEvent": self._event_added,
            "listRunEvents": self._events_listed,
            "getAccessRequest": self._request_seen,
            "approveAccessRequest": self._request_seen,
            "rejectAccessRequest": self._request_seen,
            "listAccessRequests": self._requests_listed,
            **{read: self._kept_by_id for reads, _ in _BY_ID.values() for read in reads},
            **{delete: self._deleted_by_id for _, delete in _BY_ID.values()},
        }
        self._section_by_id = {op_id: section for section, (ops, delete) in _BY_ID.items() for op_id in (*ops, delete)}
        self._section_of_create = create_ops
        self._section_of_delete = {delete: section for section, (delete, _) in _NAMED.items()}

    # The handlers below act on the workspace of the exchange being observed (set under the lock).
    @property
    def named(self) -> dict[str, dict[str, Any]]:
        return self._current.named

    @property
    def runs(self) -> dict[str, dict[str, Any]]:
        return self._current.runs

    @property
    def requests(self) -> dict[str, dict[str, Any]]:
        return self._current.requests

    def observe(self, located: Located, exchange: Exchange) -> None:
        operation = located.operation
        if operation is None or not 200 <= exchange.status < 300:
            return
        operation_id = _SAME_AS.get(operation.operation_id, operation.operation_id)
        handler = self._handlers.get(operation_id)
        spec = self._spec_of(operation_id)
        if handler is None or spec is None:
            return
        params = dict(located.found[1]) if located.found else {}
        body, answer = exchange.request_json(), exchange.response_json()
        if located.surface.spec is not self.spec and isinstance(body, dict) and operation_id in sections().values():
            body = {k: v for k, v in body.items() if k in self.spec.operations[operation_id].body_fields}
        with self.lock:
            workspace = self.workspaces.get(located.workspace)
            if workspace is None:
                if len(self.workspaces) >= MAX_WORKSPACES:
                    return
                workspace = self.workspaces[located.workspace] = _Workspace()
            self._current = workspace
            handler(spec.operations[operation_id], params, exchange, body, answer)

    # --- what each operation reveals ------------------------------------------------------

    def _spec_of(self, operation_id: str) -> Any:
        """The document the fixture keeps this operation's items in: February's, else June's."""
        for spec in (self.spec, self.v1_spec):
            if spec is not None and operation_id in spec.operations:
                return spec
        return None

    def _clean(self, operation_id: str, body: Any) -> Any:
        return recorded_body(self._spec_of(operation_id).operations[operation_id].body_schema or {}, body)

    def _created(self, op: Operation, params: dict[str, str], exchange: Exchange, body: Any, answer: Any) -> None:
        section = self._section_of_create[op.operation_id]
        if not isinstance(body, dict) or not isinstance(answer, dict):
            return
        clean = self._clean(op.operation_id, body)
        if section == "runs":
            if "id" in answer and self._room(self.runs, answer["id"]):
                self.runs[answer["id"]] = {"body": clean, "status": answer.get("status"), "events": []}
        elif section == "access_requests":
            if "id" in answer and self._room(self.requests, answer["id"]):
                self.requests[answer["id"]] = {
                    "body": self._without_run(clean),
                    "status": answer.get("status"),
                    "extra": {},
                }
        else:
            name = body.get("name") or body.get("agent_name") or answer.get("name")
            if isinstance(name, str) and self._room(self.named[section], name):
                self.named[section][name] = clean

    def _deleted(self, op: Operation, params: dict[str, str], exchange: Exchange, body: Any, answer: Any) -> None:
        section = self._section_of_delete[op.operation_id]
        self.named[section].pop(params.get(_NAMED[section][1], ""), None)

    def _named_seen(self, op: Operation, params: dict[str, str], exchange: Exchange, body: Any, answer: Any) -> None:
        section = _NAMED_READS[op.operation_id]
        kept = self.named[section]
        for record in answer if isinstance(answer, list) else [answer]:
            name = record.get("name") if isinstance(record, dict) else None
            if section == "policies" and record.get("origin", "user") != "user":
                continue  # a grant or an auto policy: the mock makes it again from what caused it
            if isinstance(name, str) and name not in kept and self._room(kept, name):
                projected = self._projected(sections()[section], record)
                if projected is not None:
                    kept[name] = projected

    def _kept_by_id(self, op: Operation, params: dict[str, str], exchange: Exchange, body: Any, answer: Any) -> None:
        section = self._section_by_id[op.operation_id]
        kept = self.by_id[section]
        for record in answer if isinstance(answer, list) else [answer]:
            item_id = record.get("id") if isinstance(record, dict) else None
            if not isinstance(item_id, str) or not self._room(kept, item_id):
                continue
            projected = self._projected(sections(june_only=True)[section], record)
            if projected is None:
                continue
            if section == "deploy_drafts":  # the id the fixture creates it with, and its status
                projected = {**projected, "id": item_id, **({"status": record["status"]} if "status" in record else {})}
            kept[item_id] = projected

    def _deleted_by_id(self, op: Operation, params: dict[str, str], exchange: Exchange, body: Any, answer: Any) -> None:
        self.by_id[self._section_by_id[op.operation_id]].pop(params.get("id", ""), None)

    @property
    def by_id(self) -> dict[str, dict[str, Any]]:
        return self._current.by_id

    def _run_seen(self, op: Operation, params: dict[str, str], exchange: Exchange, body: Any, answer: Any) -> None:
        self._stored_seen(self.runs, "createRun", answer, lambda: {"events": []})

    def _runs_listed(self, op: Operation, params: dict[str, str], exchange: Exchange, body: Any, answer: Any) -> None:
        for run in answer if isinstance(answer, list) else []:
            self._run_seen(op, params, exchange, body, run)

    def _event_added(self, op: Operation, params: dict[str, str], exchange: Exchange, body: Any, answer: Any) -> None:
        run = self.runs.get(params.get("id", ""))
        if run is not None and isinstance(body, dict) and len(run["events"]) < MAX_PER_KIND:
            run["events"].append(self._clean("addRunEvent", body))

    def _events_listed(self, op: Operation, params: dict[str, str], exchange: Exchange, body: Any, answer: Any) -> None:
        run = self.runs.get(params.get("id", ""))
        if run is None or not isinstance(answer, list) or "limit=" in exchange.query:
            return  # a limited list is the log's tail, not the whole log
        events = [self._projected("addRunEvent", event) for event in answer[:MAX_PER_KIND]]
        if all(event is not None for event in events):
            run["events"] = events

    def _request_seen(self, op: Operation, params: dict[str, str], exchange: Exchange, body: Any, answer: Any) -> None:
        known = self._stored_seen(self.requests, "createAccessRequest", answer, lambda: {"extra": {}})
        if known is None:
            return
        if known["status"] == "APPROVED" and isinstance(answer.get("duration"), str):
            known["body"]["duration"] = answer["duration"]  # the window approved, which replay's approve reuses
        for field in ("approver_id", "reason"):
            if isinstance(answer.get(field), str):
                known["extra"][field] = answer[field]
        # The approval's scope, replayed by the fixture's approve; not "run", which needs the
        # run_id the fixture leaves out (replay approves it with the request's default).
        if known["status"] == "APPROVED" and answer.get("scope") in _REPLAYABLE_SCOPES:
            known["extra"]["scope"] = answer["scope"]

    def _stored_seen(
        self, kept: dict[str, dict[str, Any]], create: str, answer: Any, more: Callable[[], dict[str, Any]]
    ) -> dict[str, Any] | None:
        """A run or access request the client read: its status, and the item itself if the session
        did not create it (narrowed to the create call's fields)."""
        if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
            return None
        known = kept.get(answer["id"])
        if known is None:
            projected = self._projected(create, answer)
            if projected is None or not self._room(kept, answer["id"]):
                return None
            known = kept[answer["id"]] = {"body": self._without_run(projected), "status": None, **more()}
        known["status"] = answer.get("status", known["status"])
        return known

    def _requests_listed(
        self, op: Operation, params: dict[str, str], exchange: Exchange, body: Any, answer: Any
    ) -> None:
        for request in answer if isinstance(answer, list) else []:
            self._request_seen(op, params, exchange, body, request)

    # --- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _room(kept: Mapping[str, Any], key: str) -> bool:
        return key in kept or len(kept) < MAX_PER_KIND

    @staticmethod
    def _without_run(body: dict[str, Any]) -> dict[str, Any]:
        # Replaying run_id would create a blocked action on the run and log APPROVAL_REQUIRED a
        # second time (the run's recorded events already hold it): the fixture has no actions.
        return {k: v for k, v in body.items() if k not in ("run_id", "payload_hash")}

    def _projected(self, operation_id: str, record: Mapping[str, Any]) -> dict[str, Any] | None:
        """A stored record narrowed to the create call's fields; None when that is not a valid body."""
        op = self._spec_of(operation_id).operations[operation_id]
        properties = _properties(op.body_schema or {})
        body = {k: v for k, v in record.items() if k in properties and v is not None}
        clean = self._clean(operation_id, body)  # a dict stays a dict
        if not isinstance(clean, dict):
            return None
        if op.body_validator is not None and op.body_validator.first_error(clean) is not None:
            return None
        return clean

    # --- the fixture ------------------------------------------------------------------------

    def fixture(self) -> dict[str, Any]:
        """The default workspace's items at the top level; each named workspace's under
        ``workspaces: {name: {...}}``."""
        with self.lock:
            data = _fixture(self.workspaces[DEFAULT_WORKSPACE])
            named = {name: _fixture(ws) for name, ws in self.workspaces.items() if name != DEFAULT_WORKSPACE}
        named = {name: items for name, items in named.items() if items}
        return {**data, WORKSPACES_SECTION: named} if named else data

    def write(self, path: Path) -> None:
        """YAML, or JSON when the file name ends in .json; both load with ``serve --seed``."""
        data = self.fixture()
        if path.suffix.lower() == ".json":
            text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        else:
            text = "# Recorded by runagents-mock proxy; load with: runagents-mock serve --seed FILE\n" + yaml.safe_dump(
                data, sort_keys=False, allow_unicode=True
            )
        path.write_text(text, encoding="utf-8")


def _fixture(workspace: _Workspace) -> dict[str, Any]:
    out: dict[str, Any] = {section: list(items.values()) for section, items in workspace.named.items()}
    out["runs"] = [
        {
            **run["body"],
            "id": run_id,
            **({"status": run["status"]} if run["status"] else {}),
            "events": list(run["events"]),
        }
        for run_id, run in workspace.runs.items()
    ]
    out["access_requests"] = [
        {
            **req["body"],
            "id": req_id,
            **req["extra"],
            **({"status": req["status"]} if req["status"] in _SEEDABLE_REQUEST_STATUSES else {}),
        }
        for req_id, req in workspace.requests.items()
    ]
    out.update({section: list(items.values()) for section, items in workspace.by_id.items()})
    return {section: out[section] for section in (*sections(), *sections(june_only=True)) if out.get(section)}
