"""Approval connectors: where approval-required events would be delivered (Slack, Teams, Jira,
PagerDuty, webhooks), the workspace's delivery defaults, and the delivery activity.

Simulated: nothing is sent. When an access request is created, each enabled connector the
delivery mode picks gets a ``dispatch_succeeded`` activity record (``first_success``: the
first enabled connector, ``all``: every one); approving or rejecting it records
``decision_recorded``. Header values are credentials: they are not kept, and every answer
shows them as ``***``.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...basics.errors import ApiError
from ...basics.redact import REDACTED
from ..state import Field, Persistent, log, records

if TYPE_CHECKING:
    from ..ports import PlatformPort

DEFAULTS = {
    "default_delivery_mode": "first_success",
    "default_fallback_to_ui": True,
    "default_timeout_seconds": 10,
    "min_timeout_seconds": 1,
    "max_timeout_seconds": 120,
}
SIMULATED_DURATION_MS = 0  # no delivery happens, so none takes time


def connector_problem(platform: PlatformPort, connector: Mapping[str, Any]) -> str | None:
    """The type rule a connector breaks (``ApprovalConnectorRules`` in openapi-v1.yaml), or None."""
    return platform.operations().schema_problem("ApprovalConnectorRules", connector)


ACTIVITY_PREFIX = "aca_"


def _activity_number(entry: Mapping[str, Any]) -> int:
    text = str(entry.get("id", ""))[len(ACTIVITY_PREFIX) :]
    return int(text) if text.isdigit() else 0


class ConnectorsBackend(Persistent):
    STATE = (
        records("items", key="id"),
        Field("defaults", dump=dict, restore=lambda d: {**DEFAULTS, **d}, shape="object"),
        log("activity"),
    )

    def __init__(self, platform: PlatformPort) -> None:
        self.platform = platform
        self.items: dict[str, dict[str, Any]] = {}
        self.defaults: dict[str, Any] = dict(DEFAULTS)
        self.activity: list[dict[str, Any]] = []
        self._next_activity = 1  # derived: one past the highest activity number held (rebuild)

    def list(self) -> list[dict[str, Any]]:
        with self.platform.lock:
            return list(self.items.values())

    def get(self, connector_id: str) -> dict[str, Any]:
        with self.platform.lock:
            if connector_id not in self.items:
                raise ApiError(404, f"approval connector {connector_id} not found")
            return self.items[connector_id]

    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.platform.lock:
            self.platform.check_capacity("approval connectors", len(self.items))
            now = self.platform.now_iso()
            connector = self._stored(
                {
                    "type": "webhook",
                    "enabled": True,
                    "timeout_seconds": self.defaults["default_timeout_seconds"],
                    **body,
                },
                id=f"ac_{self.platform.new_id().replace('-', '')[:20]}",
                created_at=now,
                updated_at=now,
            )
            self.items[connector["id"]] = connector
            return connector

    def update(self, connector_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        with self.platform.lock:
            current = self.get(connector_id)
            merged = {**current, **changes}
            if "headers" not in changes:  # the kept names stand for the credentials sent before
                merged["headers"] = current.get("headers", {})
            connector = self._stored(merged, updated_at=self.platform.now_iso())
            self.items[connector_id] = connector
            return connector

    def _stored(self, connector: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
        problem = connector_problem(self.platform, connector)
        if problem:
            raise ApiError(400, problem)
        stored = {**connector, **fields}
        stored["headers"] = {name: REDACTED for name in connector.get("headers") or {}}
        return stored

    def delete(self, connector_id: str) -> None:
        with self.platform.lock:
            self.get(connector_id)
            del self.items[connector_id]

    def test(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Configuration and credentials checked as on create; connectivity is not tried."""
        kind = body.get("type") or "webhook"
        problem = connector_problem(self.platform, body)
        checks = [
            {
                "id": "config",
                "label": "Configuration",
                "status": "failed" if problem else "passed",
                "message": problem or "Connector configuration is valid",
            },
            {
                "id": "credentials",
                "label": "Credentials",
                "status": "passed" if body.get("headers") else "skipped",
                "message": "Required credentials are present" if body.get("headers") else "No credentials sent",
            },
            {
                "id": "connectivity",
                "label": "Connectivity",
                "status": "skipped",
                "message": "runagents-mock does not contact connector endpoints",
                "duration_ms": SIMULATED_DURATION_MS,
            },
        ]
        return {
            "status": "unhealthy" if problem else "healthy",
            "connector_type": kind,
            "endpoint": body["endpoint"],
            "checks": checks,
        }

    def set_defaults(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        with self.platform.lock:
            self.defaults = {**self.defaults, **changes}
            return dict(self.defaults)

    def get_defaults(self) -> dict[str, Any]:
        with self.platform.lock:
            return dict(self.defaults)

    def recent(self, limit: int | None) -> builtins.list[dict[str, Any]]:
        with self.platform.lock:
            newest_first = list(reversed(self.activity))
        return newest_first[:limit] if limit else newest_first

    # --- what other services report ----------------------------------------------------

    def record(self, request: Mapping[str, Any], event: str, decision: str | None = None) -> None:
        """An approval request changed: note the (simulated) deliveries it would cause."""
        with self.platform.lock:
            enabled = [c for c in self.items.values() if c.get("enabled", True)]
            if self.defaults["default_delivery_mode"] != "all":
                enabled = enabled[:1]
            for connector in enabled:
                entry = {
                    "id": f"{ACTIVITY_PREFIX}{self._next_activity}",
                    "timestamp": self.platform.now_iso(),
                    "event": event,
                    "connector_id": connector["id"],
                    "connector_name": connector["name"],
                    "request_id": request["id"],
                    "status_code": 200,
                    "duration_ms": SIMULATED_DURATION_MS,
                    "message": "Connector delivery recorded (runagents-mock sends nothing)",
                }
                if decision:
                    entry["decision"] = decision
                self._next_activity += 1
                self.activity.append(entry)
            del self.activity[: max(0, len(self.activity) - self.platform.config.journal_size)]

    # --- state ------------------------------------------------------------------------

    def rebuild(self) -> None:
        """Activity ids come from the data: the next is one past the highest held, so a
        restart or a load of a trimmed log never hands out an id again."""
        self._next_activity = max(map(_activity_number, self.activity), default=0) + 1
