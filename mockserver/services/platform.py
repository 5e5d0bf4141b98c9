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
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..basics.clock import Clock
from ..basics.errors import ApiError
from ..basics.jsonhttp import iter_json
from ..config import MockConfig
from .actions.models import ActionsBackend
from .agents.models import AgentsBackend
from .billing.models import BillingBackend
from .budget import BytePool, StoreBudget
from .builds.models import BuildsBackend
from .catalog.models import CatalogBackend
from .changes import ChangeSet, WatchedClock, track
from .connectors.models import ConnectorsBackend
from .drafts.models import DraftsBackend
from .gateway.models import GatewayBackend
from .governance.models import GovernanceBackend
from .identity.models import IdentityProvidersBackend
from .ingestion.models import IngestionBackend
from .invoker import OperationInvoker
from .policies.models import PoliciesBackend
from .ports import AgentProcesses, PlatformPort
from .providers.models import ModelProvidersBackend
from .runs.models import RunsBackend
from .runtime.models import RuntimeBackend
from .state import Field, Persistent, as_is, recount
from .tools.models import ToolsBackend
from .workspace_auth.models import AuthSettingsBackend
from .workspace_keys import WorkspaceKeys

if TYPE_CHECKING:
    from .agent_call_pool import AgentCalls

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
    ("drafts", "deploy_drafts", DraftsBackend),
    ("actions", "action_plans", ActionsBackend),
    ("billing", "billing", BillingBackend),
    ("policies", "policies", PoliciesBackend),
    ("runtime", "runtime", RuntimeBackend),
    ("auth", "auth_settings", AuthSettingsBackend),
)


# Where the platform's own fields (the clock offset) are noted by the change tracking.
PLATFORM_TABLE = "platform"


def state_sections() -> list[tuple[str, tuple[Field, ...]]]:
    """(section of an export, its declared fields), in export order: what the state check reads."""
    return [(key, backend_class.STATE) for _, key, backend_class in BACKENDS]


def _nothing() -> None:
    pass


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
    drafts: DraftsBackend  # deploy drafts (action plans record them, deploy reads them)
    actions: ActionsBackend
    billing: BillingBackend
    policies: PoliciesBackend  # both releases' policies, the bindings, and the runtime's grants
    runtime: RuntimeBackend
    auth: AuthSettingsBackend  # the workspace's auth settings (/api/v1/settings/auth)

    def __init__(
        self,
        config: MockConfig | None = None,
        clock: Clock | WatchedClock | None = None,
        workspace: str = "default",
        pool: BytePool | None = None,
    ):
        self.config = config or MockConfig()
        self.workspace = workspace  # its name under /api/v1/workspaces/
        self.replay: OperationInvoker | None = None  # the API's operations, set by the server (action plans)
        self.keys: WorkspaceKeys | None = None  # the server's workspace keys, set by the server (/auth/api-keys)
        if isinstance(clock, WatchedClock):
            clock = clock.clock
        self.clock = WatchedClock(clock or Clock(), self._clock_moved)
        self.lock = threading.RLock()
        # Set by track_changes(): what changed since the store last saved (persistence.py).
        self.changes: ChangeSet | None = None
        self.on_resume: Callable[[], None] = _nothing  # set by the app: wakes its resume worker
        # agent_processes.runner.AgentRunner with serve --run-agents (set by the app), else None
        self.agent_runner: AgentProcesses | None = None
        # The server's pool for calls to agents (set by the app), else None
        self.agent_calls: AgentCalls | None = None
        # The byte budget: this workspace's charges, drawn from the process-wide pool.
        self.budget = StoreBudget(pool or BytePool(self.config.max_stored_bytes))
        self._build_backends()

    def backends(self) -> list[Persistent]:
        return [getattr(self, attribute) for attribute, _, _ in BACKENDS]

    def _build_backends(self) -> None:
        self.budget.clear()
        port: PlatformPort = self  # what each backend sees of its workspace (mypy checks the fit)
        for attribute, _, backend_class in BACKENDS:
            backend = backend_class(port)
            backend.fill_defaults()
            setattr(self, attribute, backend)
        self._rebuild()

    def _rebuild(self) -> None:
        """After any load, restore or reset: derived state worked out again, every backend
        tracked (when a store saves), the budget recounted by the caller."""
        for backend in self.backends():
            backend.rebuild()
        self._track_all()

    def _clock_moved(self) -> None:
        if self.changes is not None:
            self.changes.mark(PLATFORM_TABLE, "clock_offset")

    def track_changes(self, on_change: Callable[[], None] | None = None) -> ChangeSet:
        """Start noting every change for a store; everything counts as changed at first.
        ``on_change`` is called when the state goes from saved to changed."""
        with self.lock:
            self.changes = ChangeSet(on_change)
            self._track_all()
            return self.changes

    def _track_all(self) -> None:
        if self.changes is not None:
            for attribute, key, _ in BACKENDS:
                track(self.changes, key, getattr(self, attribute))
            self.changes.mark_everything()

    def restored(self, measured: Mapping[str, Mapping[Any, int]] | None = None) -> None:
        """The store set the backends' declared attributes: rebuild what is derived, recount."""
        with self.lock:
            self._rebuild()
            self.recount_budget(measured)

    def recount_budget(self, measured: Mapping[str, Mapping[Any, int]] | None = None) -> None:
        """After a load (any: state, store, seed rollback): charge what the loaded state holds,
        as each backend's ``STATE`` declares. It may be over the budget; then only writes that
        shrink it succeed. Event logs are measured on their stored bytes, without decoding
        them, or taken from ``measured`` (charge kind -> key -> bytes, as a store keeps them)."""
        self.budget.clear()
        recount(self.budget, self.backends(), measured)

    # --- helpers shared by the backends -------------------------------------------------

    def now_iso(self) -> str:
        from ..basics.clock import iso

        return iso(self.clock.now())

    def operations(self) -> OperationInvoker:
        if self.replay is None:
            raise RuntimeError("this Platform has no operation invoker (the server sets Platform.replay)")
        return self.replay

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
        self.stop_agents()
        with self.lock:
            self.clock.reset()
            self._build_backends()

    def stop_agents(self) -> None:
        """Stop this workspace's agent processes (reset, load, a dropped workspace)."""
        if self.agent_runner is not None:
            self.agent_runner.stop_workspace(self.workspace)

    def export(self) -> dict[str, Any]:
        """Everything, as plain JSON data. Secrets are not part of it: they are never kept."""
        exported: dict[str, Any] = json.loads(b"".join(self.export_chunks()))
        return exported

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

    def load(self, state: Mapping[str, Any], clean: Callable[[Any], Any] | None = None) -> None:
        """Replace all state with an export; raises ValueError (and changes nothing) when it is
        not one. ``clean`` (the redaction rule) is applied record by record as it loads, so a
        large import is not copied whole first."""
        version = state.get("version") if isinstance(state, Mapping) else None
        if isinstance(version, bool) or version != STATE_VERSION:  # true == 1 in Python, not in JSON
            raise ValueError(f"not a runagents-mock state (expected version {STATE_VERSION})")
        with self.lock:
            fresh = Platform(self.config, self.clock, self.workspace, BytePool(self.config.max_stored_bytes))
            try:
                offset = float(state.get("clock_offset", 0.0))
                for attribute, key, _ in BACKENDS:
                    getattr(fresh, attribute).load(state.get(key) or {}, clean or as_is)
            except (KeyError, TypeError, AttributeError, ValueError) as exc:
                raise ValueError(f"state is malformed: {exc!r}") from None
            self.clock.set_offset(offset)
            self.stop_agents()  # loaded agents start on their first invoke, never on load
            for attribute, _, _ in BACKENDS:
                backend = getattr(fresh, attribute)
                backend.platform = self
                setattr(self, attribute, backend)
            self._rebuild()
            self.recount_budget()
