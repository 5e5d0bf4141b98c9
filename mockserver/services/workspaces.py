"""Workspaces: isolated platform states behind ``/api/v1/workspaces/{workspace}``.

The default workspace is the platform the February surface and ``/api/v1`` serve. A named
workspace is created, empty, by the first request (or control call) that names it, and has
its own state, lock and clock, so tests on different workspaces of one server never see or
wait for each other. Names are checked against ``WorkspaceName`` in ``openapi-v1.yaml``.

They share one byte budget (the default workspace's pool, ``max_stored_bytes`` for the whole
process): a dropped workspace gives its bytes back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ..basics.errors import ApiError
from ..config import MockConfig
from ..spec.surfaces import DEFAULT_WORKSPACE
from .platform import Platform


class Workspaces:
    def __init__(self, config: MockConfig, default: Platform, name_error: Callable[[str], str | None]):
        self.config = config
        self.default = default
        self._name_error = name_error  # the spec's check of a workspace name: a message or None
        self._named: dict[str, Platform] = {}
        self.replay: Any = None  # given to every workspace's platform (see invoker.py)
        self.keys: Any = None  # the server's WorkspaceKeys, given to every workspace's platform
        # Called with each named workspace's platform when it is made (the app gives it its
        # own resume worker and the agent runner there, as the default's).
        self.prepare: Callable[[Platform], None] = lambda platform: None
        self._lock = threading.Lock()
        # Bumped whenever a workspace is created or dropped: a store compares it to learn,
        # without listing them, that the set of workspaces is what it saved.
        self.version = 0

    def check_name(self, name: str) -> None:
        if name == DEFAULT_WORKSPACE or name in self._named:
            return  # known good: the hot path of every request
        message = self._name_error(name)
        if message:
            raise ApiError(400, message)

    def get(self, name: str) -> Platform:
        """The workspace's platform, created on first use; 400 for a bad name."""
        if name == DEFAULT_WORKSPACE:
            return self.default
        platform = self._named.get(name)
        if platform is not None:
            return platform
        self.check_name(name)
        with self._lock:
            if name not in self._named:
                self.default.check_capacity("workspaces", len(self._named))
                platform = Platform(self.config, workspace=name, pool=self.default.budget.pool)
                platform.replay = self.replay
                platform.keys = self.keys
                self.prepare(platform)
                self._named[name] = platform
                self.version += 1
            return self._named[name]

    def now(self, name: str) -> float:
        """What a workspace's clock reads, without making the workspace: one not made yet (or a
        bad name) reads real time, where its clock would start."""
        platform = self.default if name == DEFAULT_WORKSPACE else self._named.get(name)
        return time.time() if platform is None else platform.clock.now()

    def names(self) -> list[str]:
        with self._lock:
            return [DEFAULT_WORKSPACE, *sorted(self._named)]

    def platforms(self) -> list[tuple[str, Platform]]:
        """Every workspace and its platform, the default first (what a state file saves)."""
        with self._lock:
            return [(DEFAULT_WORKSPACE, self.default), *sorted(self._named.items())]

    def reset(self, name: str) -> None:
        """Empty one workspace: a named one is dropped (recreated empty on next use)."""
        if name == DEFAULT_WORKSPACE:
            self.default.reset()
            return
        self.check_name(name)
        with self._lock:
            dropped = self._named.pop(name, None)
            self.version += 1
        if dropped is not None:
            dropped.stop_agents()
            with dropped.lock:
                dropped.budget.detach()

    def reset_all(self) -> None:
        with self._lock:
            dropped, self._named = list(self._named.values()), {}
            self.version += 1
        for platform in dropped:
            platform.stop_agents()
            with platform.lock:
                platform.budget.detach()
        self.default.reset()
