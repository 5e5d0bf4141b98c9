"""What the control API does, as plain calls: one service behind ``/_mock/`` and the pytest
plugin's handle, so both apply the same validation and redaction (a state loaded through the
plugin is checked and redacted exactly as ``PUT /_mock/state`` does it).

Every method raises ``ApiError`` with the message the HTTP control API answers; the HTTP
handlers (``control.py``) turn it into the JSON error, the plugin into its documented Python
exception. Nothing here knows about requests or responses.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..basics.clock import iso
from ..basics.errors import ApiError
from ..basics.redact import redact_stored
from ..spec.document import Spec, mock_spec_path
from ..spec.surfaces import DEFAULT_WORKSPACE
from .seed import seed

if TYPE_CHECKING:
    from ..services.platform import Platform
    from .host import ControlCore


class ControlService:
    """The control operations of one mock server, workspace by workspace."""

    def __init__(self, server: ControlCore):
        self._server = server

    def platform(self, workspace: str | None = None) -> Platform:
        return self._server.workspaces.get(workspace or DEFAULT_WORKSPACE)

    # --- state -----------------------------------------------------------------------------

    def reset(self, workspace: str | None = None) -> None:
        """Everything (no workspace), or one workspace: its state, its minted keys, its journal."""
        server = self._server
        if workspace is None:
            server.reset()
            return
        server.workspaces.reset(workspace)
        server.workspace_keys.revoke_all(workspace)
        server.journal.clear(workspace)

    def export_chunks(self, workspace: str | None = None) -> Iterator[bytes]:
        return self.platform(workspace).export_chunks()

    def export(self, workspace: str | None = None) -> dict[str, Any]:
        return self.platform(workspace).export()

    def load_state(self, state: Any, workspace: str | None = None) -> None:
        """Replace a workspace's state with an export: checked against the state schema first and
        redacted (a hand-written state may hold secrets). ApiError 400 and no change otherwise."""
        problem = self._server.state_problem(state)
        if problem:
            raise ApiError(400, problem)
        try:
            self.platform(workspace).load(state, redact_stored)  # redacted record by record as it loads
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None

    def seed(self, data: Mapping[str, Any], workspace: str | None = None) -> dict[str, Any]:
        return seed(self._server, data, self.platform(workspace))

    # --- time, limits, replies -------------------------------------------------------------

    def clock(self, workspace: str | None = None) -> dict[str, Any]:
        clock = self.platform(workspace).clock
        return {"now": iso(clock.now()), "offset_seconds": clock.offset}

    def advance(self, seconds: Any, workspace: str | None = None) -> dict[str, Any]:
        try:
            self.platform(workspace).clock.advance(seconds)
        except ValueError as exc:  # beyond what timestamps can represent
            raise ApiError(400, str(exc)) from None
        return self.clock(workspace)

    def set_rate_limit(self, per_minute: int | None) -> dict[str, Any]:
        self._server.rate_limiter.set_limit(per_minute)
        return {"per_minute": per_minute}

    def set_replies(self, replies: Mapping[str, Any], workspace: str | None = None) -> dict[str, Any]:
        """Merge LLM, agent and tool replies (``Replies`` in mock-openapi.yaml) into the earlier ones."""
        message = Spec.load(mock_spec_path()).component_validator("Replies").first_error(dict(replies))
        if message:
            raise ApiError(400, message)
        platform = self.platform(workspace)
        with platform.lock:
            platform.gateway.replies.update(replies.get("llm") or {})
            platform.agents.replies.update(replies.get("agents") or {})
            platform.runtime.tool_replies.update(replies.get("tools") or {})
            return {
                "llm": dict(platform.gateway.replies),
                "agents": dict(platform.agents.replies),
                "tools": dict(platform.runtime.tool_replies),
            }

    # --- faults ----------------------------------------------------------------------------

    def add_fault(self, rule: Mapping[str, Any]) -> dict[str, Any]:
        return self._server.faults.add(rule)

    def faults(self) -> list[dict[str, Any]]:
        return [dict(rule) for rule in self._server.faults.rules]

    def clear_faults(self) -> None:
        self._server.faults.clear()

    # --- the journal -----------------------------------------------------------------------

    def journal(self, workspace: str | None = None) -> list[dict[str, Any]]:
        return self._server.journal.list(workspace)

    def clear_journal(self, workspace: str | None = None) -> None:
        self._server.journal.clear(workspace)

    # --- workspace keys --------------------------------------------------------------------

    def _key_workspace(self, workspace: str) -> str:
        self._server.workspaces.check_name(workspace)
        return workspace

    def mint_key(self, workspace: str) -> dict[str, Any]:
        return self._server.workspace_keys.mint(self._key_workspace(workspace))

    def keys(self, workspace: str) -> list[dict[str, Any]]:
        return self._server.workspace_keys.list(self._key_workspace(workspace))

    def revoke_key(self, workspace: str, key_id: str) -> None:
        self._server.workspace_keys.revoke(self._key_workspace(workspace), key_id)

    def rotate_key(self, workspace: str, key_id: str) -> dict[str, Any]:
        return self._server.workspace_keys.rotate(self._key_workspace(workspace), key_id)
