"""Analysis results, cached for an hour of clock time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...basics.errors import ApiError
from ..state import Owner, Persistent, mapping, records
from . import analyzer

if TYPE_CHECKING:
    from ..ports import PlatformPort


class IngestionBackend(Persistent):
    STATE = (
        records("items", key="id", schema="Analysis"),
        mapping("stored_at", float, times_of=Owner("items", "id", "analysis", every=True)),
    )

    def __init__(self, platform: PlatformPort) -> None:
        self.platform = platform
        self.items: dict[str, dict[str, Any]] = {}
        self.stored_at: dict[str, float] = {}

    def analyze(self, files: Mapping[str, str]) -> dict[str, Any]:
        result = {"id": self.platform.new_id("analysis-")[:17], **analyzer.analyze(dict(files))}
        with self.platform.lock:
            self._expire_due()
            self.platform.check_capacity("analyses", len(self.items))
            self.items[result["id"]] = result
            self.stored_at[result["id"]] = self.platform.clock.now()
        return result

    def get(self, analysis_id: str) -> dict[str, Any]:
        with self.platform.lock:
            self._expire_due()
            if analysis_id not in self.items:
                raise ApiError(404, "analysis not found")
            return self.items[analysis_id]

    @staticmethod
    def requirements(files: Mapping[str, str]) -> analyzer.Requirements:
        return analyzer.detect_requirements(dict(files))

    def _expire_due(self) -> None:
        oldest = self.platform.clock.now() - self.platform.config.analysis_ttl_seconds
        for analysis_id, stored in list(self.stored_at.items()):
            if stored <= oldest:
                del self.stored_at[analysis_id], self.items[analysis_id]

    def settle(self) -> None:
        """Drop the analyses past their time to live (see Platform.export)."""
        self._expire_due()
