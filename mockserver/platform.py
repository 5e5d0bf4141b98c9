"""All state of one mock instance, and the rules that span services.

Concurrency model: one re-entrant lock guards every read-modify-write, so concurrent clients
never lose a write and sequence numbers never skip. Stored records are never mutated after
they are stored (copy-on-write: an update stores a new dict), so a handler may serialise a
record it got back after the lock is released without racing another writer.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any, Iterator, Mapping

from .changes import ChangeSet, track
from .clock import Clock
from .config import MockConfig
from .errors import ApiError
from .jsonhttp import iter_json
from .services.actions.models import ActionsBackend
from .services.agents.models import AgentsBackend
from .services.billing.models import BillingBackend
from .services.builds.models import BuildsBackend
from .services.catalog.models import CatalogBackend
from .services.connectors.models import ConnectorsBackend
from .services.gateway.models import GatewayBackend
from .services.governance.models import GovernanceBackend
from .services.identity.models import IdentityProvidersBackend
from .services.ingestion.models import IngestionBackend
from .services.policies_v1.models import PoliciesBackend
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
    ("catalog", "catalog", CatalogBackend),
    ("connectors", "approval_connectors", ConnectorsBackend),
    ("actions", "action_plans", ActionsBackend),
    ("billing", "billing", BillingBackend),
    ("policies", "policies_v1", PoliciesBackend),
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
    catalog: CatalogBackend
    connectors: ConnectorsBackend
    actions: ActionsBackend
    billing: BillingBackend
    policies: PoliciesBackend

    def __init__(self, config: MockConfig | None = None, clock: Clock | None = None, workspace: str = "default"):
        self.config = config or MockConfig()
        self.workspace = workspace  # its name under /api/v1/workspaces/
        self.replay: Any = None  # replay.OperationReplay of /api/v1, set by the server (action plans)
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        # Set by track_changes(): what changed since the store last saved (persistence.py).
        self.changes: ChangeSet | None = None
        self._build_backends()

    def _build_backends(self) -> None:
        for attribute, _, backend_class in BACKENDS:
            setattr(self, attribute, backend_class(self))
        self._track_all()

    def track_changes(self) -> ChangeSet:
        """Start noting every change for a store; everything counts as changed at first."""
        with self.lock:
            self.changes = ChangeSet()
            self._track_all()
            return self.changes

    def retrack(self) -> None:
        """Track containers a backend put in place of its tracked ones since the last call."""
        if self.changes is not None:
            for attribute, key, _ in BACKENDS:
                track(self.changes, key, getattr(self, attribute))

    def _track_all(self) -> None:
        if self.changes is not None:
            self.retrack()
            self.changes.everything = True

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
        return json.loads(b"".join(self.export_chunks()))

    def export_chunks(self) -> Iterator[bytes]:
        """The export as JSON text in chunks, encoded outside the lock (see export_records)."""
        return iter_json(self.export_records())

    def export_records(self) -> dict[str, Any]:
        """The export with the records as stored (run events as JSON bytes). Only this snapshot
        of references is taken under the lock: stored records never change, so encoding or
        checking it afterwards does not hold up other requests.

        It is the state as of the mock's clock: time-driven changes that the API applies when
        an object is read (a grant expiring, a build finishing) are applied first, so the export
        (and the console, which shows it) says what the API would answer."""
        with self.lock:
            state: dict[str, Any] = {"version": STATE_VERSION, "clock_offset": self.clock.offset}
            for attribute, _, _ in BACKENDS:
                settle = getattr(getattr(self, attribute), "settle", None)
                if settle is not None:
                    settle()
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
            self._track_all()
