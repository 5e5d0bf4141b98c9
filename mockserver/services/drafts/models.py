"""Deploy drafts of a workspace (``/api/v1/deploy-drafts``): what the console's deploy wizard
keeps between its steps, what ``deploy_draft.create_or_patch`` plan steps record, and what
``POST /deploy`` and ``deploy.execute`` hydrate from (``draft_id``). One set of drafts.

A draft starts IN_PROGRESS at version 1; every change adds 1 to its version. Only an
IN_PROGRESS draft changes (409 otherwise); ``complete``/``abandon`` move it on for good (again
is a no-op). ``expected_version`` on a patch refuses (409) a draft at another version, so two
editors cannot overwrite each other silently.

The mock has no control-plane users: every caller is the workspace's one operator
(``OPERATOR``), so ``mine`` changes nothing offline. Its artifacts are its builds: an
``artifact_id`` naming a build of the workspace deploys that build's image; any other is a 404.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...basics.errors import ApiError
from ...basics.redact import redact_stored
from ..state import Persistent, records

if TYPE_CHECKING:
    from ..ports import PlatformPort

DEPLOY_OPERATION = "deployAgentV1"
OPERATOR = "operator"  # the user_id of every draft (see above)
IN_PROGRESS, COMPLETED, ABANDONED = "IN_PROGRESS", "COMPLETED", "ABANDONED"
_RECORD = ("id", "namespace", "user_id", "status", "version", "created_at", "updated_at")
_CONTROL = ("expected_version", "status")  # patch fields that steer the change, not stored as sent
# Draft fields -> the deploy fields they fill (the rest of a draft's own fields are wizard state).
_AGENT_CONFIG = {"system_prompt": "system_prompt", "identity_provider": "identity_provider"}


def draft_id_for(key: str) -> str:
    """The id of a draft a step creates without naming one: stable for its idempotency key."""
    return "draft-" + hashlib.sha256(key.encode()).hexdigest()[:12]


class DraftsBackend(Persistent):
    STATE = (records("items", key="id", charge="deploy_drafts"),)

    def __init__(self, platform: PlatformPort) -> None:
        self.platform = platform
        self.items: dict[str, dict[str, Any]] = {}

    # --- the REST face ------------------------------------------------------------------

    def create(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        draft_id = fields.get("id") or "draft-" + uuid.uuid4().hex[:12]
        with self.platform.lock:
            if draft_id in self.items:
                raise ApiError(409, f'deploy draft "{draft_id}" already exists')
            return self.put({**fields, "id": draft_id})

    def get(self, draft_id: str) -> dict[str, Any]:
        with self.platform.lock:
            draft = self.items.get(draft_id)
            if draft is None:
                raise ApiError(404, f'deploy draft "{draft_id}" not found')
            return draft

    def list(self, status: str | None) -> list[dict[str, Any]]:
        with self.platform.lock:
            return [d for d in self.items.values() if d["status"] == (status or IN_PROGRESS)]

    def patch(self, draft_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        with self.platform.lock:
            draft = self.get(draft_id)
            expected = fields.get("expected_version")
            if expected is not None and expected != draft["version"]:
                raise ApiError(409, f'deploy draft "{draft_id}" is at version {draft["version"]}, not {expected}')
            self._check_open(draft)
            changes = {k: v for k, v in fields.items() if k not in _CONTROL}
            return self.put({**draft, **changes, "status": fields.get("status") or draft["status"]})

    def finish(self, draft_id: str, status: str) -> dict[str, Any]:
        """``complete`` (COMPLETED) or ``abandon`` (ABANDONED): again is a no-op."""
        with self.platform.lock:
            draft = self.get(draft_id)
            if draft["status"] == status:
                return draft
            self._check_open(draft)
            return self.put({**draft, "status": status})

    def delete(self, draft_id: str) -> None:
        with self.platform.lock:
            self.get(draft_id)
            del self.items[draft_id]
            self.platform.budget.release(("deploy_drafts", draft_id))

    @staticmethod
    def _check_open(draft: Mapping[str, Any]) -> None:
        if draft.get("status", IN_PROGRESS) != IN_PROGRESS:  # a plan's pending draft has none yet
            raise ApiError(409, f'deploy draft "{draft["id"]}" is {draft["status"]}: only an IN_PROGRESS draft changes')

    # --- what plans and deploy share ----------------------------------------------------------

    def patched(
        self, draft_id: str, fields: Mapping[str, Any], pending: Mapping[str, dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """The draft ``draft_id`` after merging ``fields`` (top level), not stored; ``pending``:
        drafts earlier steps of a plan being validated would have stored. 409 for a draft that
        is no longer IN_PROGRESS."""
        with self.platform.lock:
            current = (pending or {}).get(draft_id) or self.items.get(draft_id)
            if current is not None:
                self._check_open(current)
            return {**(current or {}), **fields, "id": draft_id}

    def put(self, draft: Mapping[str, Any]) -> dict[str, Any]:
        """Store a draft (new: IN_PROGRESS, version 1; known: its version + 1)."""
        with self.platform.lock:
            current = self.items.get(draft["id"])
            if current is None:
                self.platform.check_capacity("deploy drafts", len(self.items))
            now = self.platform.now_iso()
            record: dict[str, Any] = redact_stored(
                {
                    **draft,
                    "namespace": self.platform.workspace,
                    "user_id": OPERATOR,
                    "status": draft.get("status") or IN_PROGRESS,
                    "version": (current or {}).get("version", 0) + 1,
                    "created_at": (current or {}).get("created_at", now),
                    "updated_at": now,
                }
            )
            self.platform.budget.charge(("deploy_drafts", draft["id"]), record)  # drafts may hold source files
            self.items[draft["id"]] = record
            return record

    def hydrate(self, body: Mapping[str, Any], pending: Mapping[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        """A deploy body with what its ``draft_id`` draft holds for the fields it does not send,
        and its ``artifact_id`` resolved to that build's image; 404 for no such draft or
        artifact, 409 for an abandoned draft. Wrong types are for validation to report."""
        draft_id = body.get("draft_id")
        hydrated: Mapping[str, Any] = body
        if draft_id and isinstance(draft_id, str):
            with self.platform.lock:
                draft = (pending or {}).get(draft_id) or self.items.get(draft_id)
            if draft is None:
                raise ApiError(404, f'deploy draft "{draft_id}" not found')
            if draft.get("status") == ABANDONED:
                raise ApiError(409, f'deploy draft "{draft_id}" is ABANDONED: it cannot be deployed')
            hydrated = {**self._deploy_fields(draft), **body}
            listed = hydrated.get("required_tools", [])
            if "required_tools" not in body and isinstance(listed, list):
                mapped = (
                    (draft.get("tool_mappings") or {}).values() if isinstance(draft.get("tool_mappings"), dict) else ()
                )
                hydrated["required_tools"] = [*listed, *(t for t in dict.fromkeys(mapped) if t not in listed)]
        artifact = hydrated.get("artifact_id")
        if artifact and isinstance(artifact, str) and not hydrated.get("image") and not hydrated.get("source_files"):
            hydrated = {**hydrated, "image": self.artifact_image(artifact)}
        if hydrated is body:
            return dict(body)
        if not (hydrated.get("image") or hydrated.get("source_files") or hydrated.get("files")):
            raise ApiError(
                400, self.platform.operations().schema_extension("DeployRequest", "x-error-messages")["anyOf"]
            )
        try:  # what a draft held is checked too
            deploy: dict[str, Any] = self.platform.operations().parse(DEPLOY_OPERATION, hydrated).body
            return deploy
        except ApiError as exc:
            if not draft_id or exc.status != 400:
                raise
            # The request itself was valid (the dispatcher checked it): the draft's state is at
            # fault, so a conflict that names the field, not a 400 for a schema-valid body.
            raise ApiError(409, f'deploy draft "{draft_id}" cannot be deployed: {exc.message}') from None

    def artifact_image(self, artifact_id: str) -> str:
        with self.platform.lock:
            build = self.platform.builds.items.get(artifact_id)
        if build is None:
            raise ApiError(
                404, f'artifact "{artifact_id}" not found (the mock\'s artifacts are the builds of this workspace)'
            )
        image: str = build["image"]
        return image

    def _deploy_fields(self, draft: Mapping[str, Any]) -> dict[str, Any]:
        """The ``POST /deploy`` fields a draft stands for: the wizard's own fields translated
        (tools, models, agent config), and any deploy field a plan step recorded as it is."""
        own = self.platform.operations().schema_extension("DeployDraftFields", "properties")
        out = {k: v for k, v in draft.items() if k not in own and k not in _RECORD}
        if isinstance(draft.get("artifact_id"), str):
            out.setdefault("artifact_id", draft["artifact_id"])
        if isinstance(draft.get("policies"), list):
            out.setdefault("policies", draft["policies"])
        if isinstance(draft.get("required_tool_names"), list):
            out.setdefault("required_tools", draft["required_tool_names"])
        models = draft.get("model_mappings")
        if isinstance(models, dict) and models:
            out.setdefault(
                "llm_configs",
                [
                    {"role": role, "provider": m.get("provider"), "model": m.get("model")}
                    for role, m in models.items()
                    if isinstance(m, dict)
                ],
            )
        config = draft.get("agent_config")
        if isinstance(config, dict):
            for field, target in _AGENT_CONFIG.items():
                if config.get(field):
                    out.setdefault(target, config[field])
            if config.get("use_custom_image") and config.get("custom_image"):
                out.setdefault("image", config["custom_image"])
        return out

    def rebuild(self) -> None:
        """A draft saved before drafts had a status and a version: IN_PROGRESS at version 1."""
        for draft_id, draft in list(self.items.items()):
            if not {"namespace", "user_id", "status", "version"} <= draft.keys():
                self.items[draft_id] = {
                    "namespace": self.platform.workspace,
                    "user_id": OPERATOR,
                    "status": IN_PROGRESS,
                    "version": 1,
                    **draft,
                }
