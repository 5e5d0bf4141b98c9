"""Builds: PENDING -> BUILDING -> SUCCEEDED | FAILED, driven by the mock's clock.

A build's status is a function of how much clock time has passed since it started, worked out
when it is read, so tests move builds along with ``/_mock/clock/advance`` instead of sleeping.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...basics.clock import iso
from ...basics.errors import ApiError
from ..ingestion.analyzer import find_syntax_error
from ..state import Persistent, mapping, records

if TYPE_CHECKING:
    from ..ports import PlatformPort

IMAGE_REGISTRY = "registry.runagents.io"


def image_uri(name: str, files: Mapping[str, str]) -> str:
    """Deterministic: the same name and sources always give the same image tag."""
    digest = hashlib.sha256(json.dumps([name, sorted(files.items())]).encode()).hexdigest()[:8]
    return f"{IMAGE_REGISTRY}/{name}:{digest}"


def _timing_problem(timing: Any, state: Mapping[str, Any]) -> str | None:
    """Each build needs its timing (when it started, its error if any), and only builds have one."""
    if not isinstance(timing, Mapping):
        return "builds.timing must be an object"
    builds = {build["id"] for build in (state.get("builds") or {}).get("items") or []}
    for build_id in builds:
        entry = timing.get(build_id)
        if (
            not isinstance(entry, Mapping)
            or not isinstance(entry.get("started"), (int, float))
            or isinstance(entry.get("started"), bool)
            or not math.isfinite(entry["started"])
            or "error" not in entry
            or not (entry["error"] is None or isinstance(entry["error"], str))
        ):
            return f"builds.timing.{build_id} must be {{started: seconds, error: null or text}}"
    dangling = sorted(set(timing) - builds)
    if dangling:
        return f"builds.timing.{dangling[0]} refers to a build that is not in the state"
    return None


class BuildsBackend(Persistent):
    STATE = (records("items", key="id", schema="Build"), mapping("timing", dict, check=_timing_problem))

    def __init__(self, platform: PlatformPort) -> None:
        self.platform = platform
        self.items: dict[str, dict[str, Any]] = {}
        self.timing: dict[str, dict[str, Any]] = {}  # build id -> started (clock seconds), error

    def start(self, name: str, files: Mapping[str, str]) -> dict[str, Any]:
        with self.platform.lock:
            self.platform.check_capacity("builds", len(self.items))
            build_id = self.platform.new_id("build-")[:14]  # "build-" + 8 hex chars, as documented
            while build_id in self.items:
                build_id = self.platform.new_id("build-")[:14]
            now = self.platform.clock.now()
            record = {"id": build_id, "status": "PENDING", "image": image_uri(name, files), "created_at": iso(now)}
            self.items[build_id] = record
            self.timing[build_id] = {"started": now, "error": find_syntax_error(dict(files))}
            return record

    def get(self, build_id: str) -> dict[str, Any]:
        with self.platform.lock:
            if build_id not in self.items:
                raise ApiError(404, "build not found")
            return self._refresh(build_id)

    def _refresh(self, build_id: str) -> dict[str, Any]:
        record, timing = self.items[build_id], self.timing[build_id]
        if record["status"] in ("SUCCEEDED", "FAILED"):
            return record
        cfg = self.platform.config
        elapsed = self.platform.clock.now() - timing["started"]
        if elapsed < cfg.build_pending_seconds:
            return record
        if elapsed < cfg.build_pending_seconds + cfg.build_running_seconds:
            record = {**record, "status": "BUILDING"}
        else:
            done = timing["started"] + cfg.build_pending_seconds + cfg.build_running_seconds
            record = {**record, "completed_at": iso(done)}
            if timing["error"]:
                record.update(status="FAILED", error=f"build failed: syntax error in {timing['error']}")
            else:
                record["status"] = "SUCCEEDED"
        self.items[build_id] = record
        return record

    def settle(self) -> None:
        """Move every build to the phase its clock time gives it (see Platform.export)."""
        for build_id in list(self.items):
            self._refresh(build_id)
