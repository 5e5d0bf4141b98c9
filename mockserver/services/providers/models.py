"""Model providers: create-or-update by name; the gateway routes models to them."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..common import DEFAULT_NAMESPACE, NamedCollection
from ..state import Owner, mapping, records

if TYPE_CHECKING:
    from ..ports import PlatformPort

# A new provider is Pending, then Available once this many clock seconds have passed,
# the way the platform's controller validates it in the background.
READY_AFTER_SECONDS = 1.0


class ModelProvidersBackend(NamedCollection):
    kind = "model providers"
    not_found_message = 'model provider "{name}" not found'
    STATE = (
        records("items", key="name", schema="ModelProvider", charge=kind),
        mapping("created_at", float, times_of=Owner("items", "name", "model provider")),
    )

    def __init__(self, platform: PlatformPort) -> None:
        super().__init__(platform)
        self.created_at: dict[str, float] = {}

    def put(self, name: str, spec: Mapping[str, Any], ready: bool = False) -> tuple[dict[str, Any], bool]:
        record = {
            "name": name,
            "namespace": DEFAULT_NAMESPACE,
            "spec": copy.deepcopy(dict(spec)),
            "status": {"phase": "Available" if ready else "Pending", "message": ""},
        }
        with self.platform.lock:
            stored, created = self.store(record)
            self.created_at[name] = self.platform.clock.now() - (READY_AFTER_SECONDS if ready else 0)
            return stored, created

    def _refresh(self) -> None:
        due = self.platform.clock.now() - READY_AFTER_SECONDS
        for name, record in self.items.items():
            if record["status"]["phase"] == "Pending" and self.created_at.get(name, 0) <= due:
                self.items[name] = {**record, "status": {"phase": "Available", "message": ""}}

    def delete(self, name: str) -> None:
        with self.platform.lock:
            super().delete(name)
            self.created_at.pop(name, None)

    def provider_for_model(self, model: str) -> dict[str, Any] | None:
        """The first provider (in registration order) that lists the model."""
        with self.platform.lock:
            return next((p for p in self.items.values() if model in p["spec"].get("models", ())), None)
