"""All state of one mock instance, and the rules that span services.

Concurrency model: one re-entrant lock guards every read-modify-write, so concurrent clients
never lose a write and sequence numbers never skip. Stored records are never mutated after
they are stored (copy-on-write: an update stores a new dict), so a handler may serialise a
record it got back after the lock is released without racing another writer.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any, Mapping

from .clock import Clock
from .config import MockConfig
from .errors import ApiError
from .services.agents.models import AgentsBackend
from .services.builds.models import BuildsBackend
from .services.gateway.models import GatewayBackend
from .services.governance.models import GovernanceBackend
from .services.identity.models import IdentityProvidersBackend
from .services.ingestion.models import IngestionBackend
from .services.providers.models import ModelProvidersBackend
from .services.runs.models import RunsBackend
from .services.tools.models import ToolsBackend

STATE_VERSION = 1


class Platform:
    def __init__(self, config: MockConfig | None = None, clock: Clock | None = None):
        self.config = config or MockConfig()
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self._build_backends()

    def _build_backends(self) -> None:
        self.tools = ToolsBackend(self)
        self.providers = ModelProvidersBackend(self)
        self.identity = IdentityProvidersBackend(self)
        self.builds = BuildsBackend(self)
        self.agents = AgentsBackend(self)
        self.runs = RunsBackend(self)
        self.governance = GovernanceBackend(self)
        self.ingestion = IngestionBackend(self)
        self.gateway = GatewayBackend(self)

    @property
    def backends(self) -> dict[str, Any]:
        return {
            "tools": self.tools, "model_providers": self.providers,
            "identity_providers": self.identity, "builds": self.builds, "agents": self.agents,
            "runs": self.runs, "access_requests": self.governance, "analyses": self.ingestion,
            "gateway": self.gateway,
        }

    # --- helpers shared by the backends -------------------------------------------------

    def now_iso(self) -> str:
        from .clock import iso
        return iso(self.clock.now())

    @staticmethod
    def new_id(prefix: str = "") -> str:
        return f"{prefix}{uuid.uuid4()}"

    def check_capacity(self, kind: str, current: int) -> None:
        """Refuse to store one more object of a kind that is at its limit."""
        limit = self.config.max_objects_per_kind
        if current >= limit:
            raise ApiError(409, f"limit of {limit} {kind} reached")

    # --- whole-state operations ---------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self.clock.reset()
            self._build_backends()

    def export(self) -> dict[str, Any]:
        """Everything, as plain JSON data. Secrets are not part of it: they are never kept."""
        with self.lock:
            return {
                "version": STATE_VERSION,
                "clock_offset": self.clock.offset,
                **{name: backend.export() for name, backend in self.backends.items()},
            }

    def load(self, state: Mapping[str, Any]) -> None:
        """Replace all state with an export; raises ValueError when it is not one."""
        if not isinstance(state, Mapping) or state.get("version") != STATE_VERSION:
            raise ValueError(f"not a runagents-mock state (expected version {STATE_VERSION})")
        with self.lock:
            fresh = Platform(self.config, Clock(float(state.get("clock_offset", 0.0))))
            try:
                for name, backend in fresh.backends.items():
                    backend.load(state.get(name) or {})
            except (KeyError, TypeError, AttributeError) as exc:
                raise ValueError(f"state is malformed: {exc}") from None
            self.clock = fresh.clock
            for name in ("tools", "providers", "identity", "builds", "agents", "runs",
                         "governance", "ingestion", "gateway"):
                backend = getattr(fresh, name)
                backend.platform = self
                setattr(self, name, backend)
