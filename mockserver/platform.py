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

from .budget import StoreBudget, stored_size
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

# (attribute, key in the exported state, class), in the order the backends are built.
BACKENDS = (
    ("tools", "tools", ToolsBackend),
    ("providers", "model_providers", ModelProvidersBackend),
    ("identity", "identity_providers", IdentityProvidersBackend),
    ("builds", "builds", BuildsBackend),
    ("agents", "agents", AgentsBackend),
    ("runs", "runs", RunsBackend),
    ("governance", "access_requests", GovernanceBackend),
    ("ingestion", "analyses", IngestionBackend),
    ("gateway", "gateway", GatewayBackend),
)


class Platform:
    tools: ToolsBackend
    providers: ModelProvidersBackend
    identity: IdentityProvidersBackend
    builds: BuildsBackend
    agents: AgentsBackend
    runs: RunsBackend
    governance: GovernanceBackend
    ingestion: IngestionBackend
    gateway: GatewayBackend

    def __init__(self, config: MockConfig | None = None, clock: Clock | None = None):
        self.config = config or MockConfig()
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self._build_backends()

    def _build_backends(self) -> None:
        self.budget = StoreBudget(self.config.max_stored_bytes)
        for attribute, _, backend_class in BACKENDS:
            setattr(self, attribute, backend_class(self))

    def _recount_budget(self) -> None:
        """After a load: charge what the loaded state holds. It may be over the budget; then
        only writes that shrink it succeed."""
        self.budget = StoreBudget(self.config.max_stored_bytes)
        for backend in (self.tools, self.providers, self.identity):
            for name, record in backend.items.items():
                self.budget.count((backend.kind, name), stored_size(record))
        for (namespace, name), agent in self.agents.items.items():
            self.budget.count(("agents", namespace, name), stored_size(agent))
        for run_id, log in self.runs.events.items():
            self.budget.count(("events", run_id), sum(stored_size(event.get("data")) for event in log))

    # --- helpers shared by the backends -------------------------------------------------

    def now_iso(self) -> str:
        from .clock import iso
        return iso(self.clock.now())

    @staticmethod
    def new_id(prefix: str = "") -> str:
        return f"{prefix}{uuid.uuid4()}"

    def check_capacity(self, kind: str, current: int, adding: int = 1) -> None:
        """Refuse to store ``adding`` more objects of a kind beyond its limit.

        Operations that store several objects check them all before storing any, so a
        refused request changes nothing.
        """
        limit = self.config.max_objects_per_kind
        if adding and current + adding > limit:
            raise ApiError(409, f"limit of {limit} {kind} reached")

    # --- whole-state operations ---------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self.clock.reset()
            self._build_backends()

    def export(self) -> dict[str, Any]:
        """Everything, as plain JSON data. Secrets are not part of it: they are never kept."""
        with self.lock:
            state: dict[str, Any] = {"version": STATE_VERSION, "clock_offset": self.clock.offset}
            for attribute, key, _ in BACKENDS:
                state[key] = getattr(self, attribute).export()
            return state

    def load(self, state: Mapping[str, Any]) -> None:
        """Replace all state with an export; raises ValueError (and changes nothing) when it is not one."""
        if not isinstance(state, Mapping) or state.get("version") != STATE_VERSION:
            raise ValueError(f"not a runagents-mock state (expected version {STATE_VERSION})")
        with self.lock:
            fresh = Platform(self.config, self.clock)
            try:
                offset = float(state.get("clock_offset", 0.0))
                for attribute, key, _ in BACKENDS:
                    getattr(fresh, attribute).load(state.get(key) or {})
            except (KeyError, TypeError, AttributeError, ValueError) as exc:
                raise ValueError(f"state is malformed: {exc!r}") from None
            self.clock.set_offset(offset)
            for attribute, _, _ in BACKENDS:
                backend = getattr(fresh, attribute)
                backend.platform = self
                setattr(self, attribute, backend)
            self._recount_budget()
