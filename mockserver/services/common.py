"""Pieces every service uses: name-keyed collections."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..basics.errors import ApiError
from ..basics.redact import redact_stored
from .state import Persistent

if TYPE_CHECKING:
    from .ports import PlatformPort

DEFAULT_NAMESPACE = "agent-system"


class NamedCollection(Persistent):
    """Records keyed by name with create-or-update semantics (tools, providers, IdPs); each
    subclass declares its ``STATE`` (its ``items`` first)."""

    kind = "objects"  # plural, for limit messages
    not_found_message = "{name} not found"

    def __init__(self, platform: PlatformPort):
        self.platform = platform
        self.items: dict[str, dict[str, Any]] = {}

    def get(self, name: str) -> dict[str, Any]:
        with self.platform.lock:
            self._refresh()
            try:
                return self.items[name]
            except KeyError:
                raise ApiError(404, self.not_found_message.format(name=name)) from None

    def list(self) -> list[dict[str, Any]]:
        with self.platform.lock:
            self._refresh()
            return list(self.items.values())

    def delete(self, name: str) -> None:
        with self.platform.lock:
            if self.items.pop(name, None) is None:
                raise ApiError(404, self.not_found_message.format(name=name))
            self.platform.budget.release((self.kind, name))

    def store(self, record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Create or replace (secrets redacted: see redact.py); returns the record and whether it was new."""
        record = redact_stored(record)
        with self.platform.lock:
            created = record["name"] not in self.items
            if created:
                self.platform.check_capacity(self.kind, len(self.items))
            self.platform.budget.charge((self.kind, record["name"]), record)
            self.items[record["name"]] = record
            return record, created

    def _refresh(self) -> None:
        """Hook for time-driven changes, applied lazily under the lock."""

    def settle(self) -> None:
        """Apply the time-driven changes due by now (see Platform.export)."""
        self._refresh()
