"""What the modules of ``surface/`` need of the mock server, as ``Protocol``s: no module below
``web/`` imports ``web.app.MockServer`` (the one class that satisfies them all), so the layers
form no circle, not even one of type-checking imports (``tests/test_layout.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ..config import MockConfig
from ..services.invoker import OperationInvoker
from ..services.platform import Platform
from ..spec.document import ServedDocument, Spec


class SeedHost(Protocol):
    """What seeding (``seed.py``) reads: the documents and the operation invokers."""

    @property
    def platform(self) -> Platform: ...
    @property
    def spec(self) -> Spec: ...
    @property
    def v1_spec(self) -> Spec | None: ...
    @property
    def surfaces(self) -> Any: ...  # spec.surfaces.Surfaces
    @property
    def workspaces(self) -> Any: ...
    @property
    def invoker(self) -> OperationInvoker: ...
    @property
    def v1_invoker(self) -> OperationInvoker: ...


class ControlCore(SeedHost, Protocol):
    """What ``control_service.ControlService`` acts on (and the seeds it loads)."""

    @property
    def workspace_keys(self) -> Any: ...  # services.workspace_keys.WorkspaceKeys
    @property
    def journal(self) -> Any: ...  # journal.Journal
    @property
    def faults(self) -> Any: ...  # faults.Faults
    @property
    def rate_limiter(self) -> Any: ...  # rate_limit.RateLimiter

    def reset(self) -> None: ...
    def state_problem(self, state: Any) -> str | None: ...


class StoreHost(Protocol):
    """What the state file (``persistence.py``) reads and sets."""

    config: MockConfig
    store: Any
    state_saver: Any

    @property
    def platform(self) -> Platform: ...
    @property
    def spec(self) -> Spec: ...
    @property
    def v1_spec(self) -> Spec | None: ...
    @property
    def workspaces(self) -> Any: ...

    def state_problem(self, state: Any) -> str | None: ...
    def load_state(self, state: Any, workspace: str = "default") -> None: ...


class PagesHost(Protocol):
    """What the web pages (``console/``) show."""

    @property
    def config(self) -> MockConfig: ...
    @property
    def documents(self) -> Sequence[ServedDocument]: ...
