"""Deploy drafts of a workspace: what ``deploy_draft.create_or_patch`` plan steps record and
``deploy.execute`` / ``POST /api/v1/deploy`` hydrate from (``draft_id``).

The June pages name drafts (the console saves them; plans and deploy use them) but document no
API of their own, so they are reachable only through action plans and deploy. A draft holds any
``POST /deploy`` fields plus its own (``DeployDraft`` in openapi-v1.yaml: ``step``,
``source_type``, ``tool_mappings``); deploy takes the draft's deploy fields for those it is not
sent, and the tools of ``tool_mappings`` join ``required_tools``.
"""

from __future__ import annotations

import hashlib
from typing import Any, Mapping

from ...basics.errors import ApiError
from ...basics.redact import redact_stored
from ..state import Persistent, records

_STAMPS = ("created_at", "updated_at")


def draft_id_for(key: str) -> str:
    """The id of a draft a step creates without naming one: stable for its idempotency key."""
    return "draft-" + hashlib.sha256(key.encode()).hexdigest()[:12]


class DraftsBackend(Persistent):
    STATE = (records("items", key="id", charge="deploy_drafts"),)

    def __init__(self, platform):
        self.platform = platform
        self.items: dict[str, dict[str, Any]] = {}

    def patched(self, draft_id: str, fields: Mapping[str, Any],
                pending: Mapping[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        """The draft ``draft_id`` after merging ``fields`` (top level), not stored; ``pending``:
        drafts earlier steps of a plan being validated would have stored."""
        with self.platform.lock:
            current = (pending or {}).get(draft_id) or self.items.get(draft_id) or {}
            return {**current, **fields, "id": draft_id}

    def put(self, draft: Mapping[str, Any]) -> dict[str, Any]:
        with self.platform.lock:
            current = self.items.get(draft["id"])
            if current is None:
                self.platform.check_capacity("deploy drafts", len(self.items))
            now = self.platform.now_iso()
            record = redact_stored({**draft, "created_at": (current or {}).get("created_at", now), "updated_at": now})
            self.platform.budget.charge(("deploy_drafts", draft["id"]), record)  # drafts may hold source files
            self.items[draft["id"]] = record
            return record

    def hydrate(self, body: Mapping[str, Any], pending: Mapping[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        """A deploy body with the deploy fields of its ``draft_id`` draft it does not send; 404
        for no such draft. The draft's own fields are those of ``DeployDraft`` (openapi-v1.yaml)."""
        draft_id = body.get("draft_id")
        if not draft_id or not isinstance(draft_id, str):  # a wrong type is for validation to report
            return dict(body)
        with self.platform.lock:
            draft = (pending or {}).get(draft_id) or self.items.get(draft_id)
            if draft is None:
                raise ApiError(404, f'deploy draft "{draft_id}" not found')
        own = self.platform.replay.spec.document["components"]["schemas"]["DeployDraft"]["properties"]
        kept = {k: v for k, v in draft.items() if k not in own and k not in _STAMPS}
        hydrated = {**kept, **body}
        listed = kept.get("required_tools", [])
        if "required_tools" not in body and isinstance(listed, list):
            mapped = (draft.get("tool_mappings") or {}).values()
            hydrated["required_tools"] = [*listed, *(t for t in dict.fromkeys(mapped) if t not in listed)]
        return hydrated

