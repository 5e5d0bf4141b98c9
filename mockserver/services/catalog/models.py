"""The agent catalog: a small built-in set of blueprints, plus any a fixture adds.

The hosted catalog is the vendor's; the mock cannot reach it, so it starts with two entries
(``BUILT_IN``) and tests add their own through the ``catalog`` fixture section. Each entry
keeps every published version's manifest; the newest (by semantic version) is the latest.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...basics.errors import ApiError
from ..state import Field, Persistent

if TYPE_CHECKING:
    from ..ports import PlatformPort

GENERATED_AT = "2026-06-30T00:00:00Z"

BUILT_IN: tuple[dict[str, Any], ...] = (
    # The entry api/catalog.md shows: its tags (Gmail too) and its seven integrations.
    {
        "id": "google-workspace-assistant-agent",
        "version": "1.2.0",
        "name": "Google Workspace Assistant",
        "summary": "Works across Gmail, Calendar, Drive, Docs, Sheets, Tasks and Keep for one user.",
        "category": "Enterprise Productivity",
        "tags": ["Google Workspace", "Productivity", "Gmail"],
        "complexity": "high",
        "defaultModel": "gpt-4.1",
        "requiredIntegrations": ["email", "calendar", "drive", "docs", "sheets", "tasks", "keep"],
        "governanceTraits": ["identity-aware", "approval-ready", "audit-ready"],
        "published_at": "2026-04-06T22:00:00Z",
        "changelog": "Calendar event creation behind a policy.",
        "deploymentTemplate": {
            "agentName": "google-workspace-assistant-agent",
            "systemPrompt": "You are a workspace assistant.",
            "requiredTools": ["email", "calendar", "drive", "docs", "sheets", "tasks", "keep"],
            "policies": [],
            "sourceType": "python_source",
            "sourceFiles": {"src/agent.py": "print('workspace assistant')\n"},
        },
    },
    {
        "id": "google-workspace-assistant-agent",
        "version": "1.1.0",
        "name": "Google Workspace Assistant",
        "summary": "Works across mail, calendar and drive for one user.",
        "category": "Enterprise Productivity",
        "tags": ["Google Workspace", "Productivity"],
        "complexity": "high",
        "defaultModel": "gpt-4.1",
        "requiredIntegrations": ["email", "calendar", "drive"],
        "governanceTraits": ["identity-aware", "audit-ready"],
        "published_at": "2026-03-02T12:00:00Z",
        "changelog": "First published version.",
        "deploymentTemplate": {
            "agentName": "google-workspace-assistant-agent",
            "systemPrompt": "You are a workspace assistant.",
            "requiredTools": ["email", "calendar", "drive"],
            "policies": [],
            "sourceType": "python_source",
            "sourceFiles": {"src/agent.py": "print('workspace assistant')\n"},
        },
    },
    {
        "id": "support-triage-agent",
        "version": "0.3.0",
        "name": "Support Triage",
        "summary": "Labels and routes incoming support tickets.",
        "category": "Customer Support",
        "tags": ["Support", "Ticketing"],
        "complexity": "low",
        "defaultModel": "gpt-4o-mini",
        "requiredIntegrations": ["ticketing"],
        "governanceTraits": ["audit-ready"],
        "published_at": "2026-05-20T09:00:00Z",
        "changelog": "Routing rules per queue.",
        "deploymentTemplate": {
            "agentName": "support-triage-agent",
            "systemPrompt": "Triage tickets.",
            "requiredTools": ["ticketing"],
            "policies": [],
            "sourceType": "python_source",
            "sourceFiles": {"agent.py": "print('triage')\n"},
        },
    },
)

# Manifest fields that describe the version; the rest (category, tags, ...) list the entry.
_LIST_ONLY = ("category", "tags", "complexity", "published_at", "changelog")


def _semver(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else -1 for p in version.split("-", 1)[0].split("."))


def _versions(listed: Any) -> dict[str, dict[str, dict[str, Any]]]:
    versions: dict[str, dict[str, dict[str, Any]]] = {}
    for record in listed:
        versions.setdefault(record["id"], {})[record["version"]] = dict(record)
    return versions


class CatalogBackend(Persistent):
    # Exported as one list of every version's record (a state without it keeps the built-in entries).
    STATE = (
        Field(
            "versions",
            export_key="items",
            shape="list",
            restore=_versions,
            dump=lambda versions: [r for entry in versions.values() for r in entry.values()],
        ),
    )

    def __init__(self, platform: PlatformPort) -> None:
        self.platform = platform
        self.versions: dict[str, dict[str, dict[str, Any]]] = {}  # id -> version -> record
        for record in BUILT_IN:  # the built-in entries do not count against the limit
            self.versions.setdefault(record["id"], {})[record["version"]] = copy.deepcopy(record)

    def add(self, record: Mapping[str, Any]) -> None:
        with self.platform.lock:
            entry = self.versions.get(record["id"], {})
            self.platform.check_capacity("catalog versions", len(entry), int(record["version"] not in entry))
            self.versions[record["id"]] = {**entry, record["version"]: copy.deepcopy(dict(record))}

    def _entry(self, agent_id: str) -> dict[str, dict[str, Any]]:
        entry = self.versions.get(agent_id)
        if not entry:
            raise ApiError(404, "catalog entry not found")
        return entry

    def _latest(self, entry: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any]:
        return entry[max(entry, key=_semver)]

    def list(self, search: str | None, filters: Mapping[str, str | None], page: int, page_size: int) -> dict[str, Any]:
        with self.platform.lock:
            items = []
            for agent_id in sorted(self.versions):
                latest = self._latest(self.versions[agent_id])
                items.append(
                    {
                        "id": agent_id,
                        "name": latest["name"],
                        "summary": latest.get("summary", ""),
                        "category": latest.get("category", ""),
                        "tags": list(latest.get("tags", [])),
                        "latest_version": latest["version"],
                        "required_integrations": list(latest.get("requiredIntegrations", [])),
                        "governance_traits": list(latest.get("governanceTraits", [])),
                        "complexity": latest.get("complexity", ""),
                    }
                )
        fields = {
            "category": "category",
            "tag": "tags",
            "integration": "required_integrations",
            "governance": "governance_traits",
        }
        for param, field in fields.items():
            wanted = {v.strip().lower() for v in (filters.get(param) or "").split(",") if v.strip()}
            if wanted:
                items = [i for i in items if wanted & {str(v).lower() for v in _as_list(i[field])}]
        if search:
            needle = search.lower()
            items = [
                i
                for i in items
                if needle
                in " ".join([i["id"], i["name"], i["summary"], *i["tags"], *i["required_integrations"]]).lower()
            ]
        start = (page - 1) * page_size
        return {
            "generated_at": GENERATED_AT,
            "items": items[start : start + page_size],
            "total": len(items),
            "page": page,
            "page_size": page_size,
        }

    def manifest(self, agent_id: str, version: str | None = None) -> dict[str, Any]:
        with self.platform.lock:
            entry = self._entry(agent_id)
            if version and version not in entry:
                raise ApiError(404, "catalog entry not found")
            record = entry[version] if version else self._latest(entry)
            return {k: copy.deepcopy(v) for k, v in record.items() if k not in _LIST_ONLY}

    def list_versions(self, agent_id: str) -> dict[str, Any]:
        with self.platform.lock:
            entry = self._entry(agent_id)
            ordered = sorted(entry.values(), key=lambda r: _semver(r["version"]), reverse=True)
            return {
                "agent_id": agent_id,
                "versions": [
                    {
                        "version": r["version"],
                        "published_at": r.get("published_at", GENERATED_AT),
                        "summary": r.get("summary", ""),
                        "changelog": r.get("changelog", ""),
                    }
                    for r in ordered
                ],
            }


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
