"""What the control API does, as plain calls: one service behind ``/_mock/`` and the pytest
plugin's handle, so both apply the same validation and redaction (a state loaded through the
plugin is checked and redacted exactly as ``PUT /_mock/state`` does it).

Every method raises ``ApiError`` with the message the HTTP control API answers; the HTTP
handlers (``control.py``) turn it into the JSON error, the plugin into its documented Python
exception. Nothing here knows about requests or responses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import IO, TYPE_CHECKING, Any

from ..basics.clock import iso
from ..basics.errors import ApiError
from ..basics.jsonhttp import decoded_view
from ..basics.jsonstream import JsonStream
from ..basics.redact import redact_stored
from ..services.platform import state_sections
from ..services.state import cleaned
from ..spec.document import Spec, mock_spec_path
from ..spec.surfaces import DEFAULT_WORKSPACE
from .seed import seed

if TYPE_CHECKING:
    from ..services.platform import Platform
    from ..web.app import MockServer


class ControlService:
    """The control operations of one mock server, workspace by workspace."""

    def __init__(self, server: MockServer):
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
        redacted (a hand-written state may hold secrets). ApiError 400 and no change otherwise.
        Its event logs may be held as JSON bytes already redacted (``read_state``)."""
        problem = self._server.state_problem(decoded_view(state))
        if problem:
            raise ApiError(400, problem)
        try:
            self.platform(workspace).load(state, redact_stored)  # redacted record by record as it loads
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None

    def load_state_stream(self, stream: IO[bytes], workspace: str | None = None) -> None:
        """``load_state`` from an export's JSON text, read from ``stream`` (``PUT /_mock/state``)."""
        self.load_state(read_state(stream), workspace)

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


# --- reading an export from a stream ------------------------------------------------------

# Where an export holds run events, as the backends declare it: ("runs", "events").
_EVENT_LOGS = next((section, f.key) for section, fields in state_sections() for f in fields if f.event_log)


def read_state(stream: IO[bytes]) -> Any:
    """An export read from its JSON text in bounded extra memory: each section is parsed on its
    own, and the run events one at a time, each kept only as the compact JSON bytes the mock
    stores them as, redacted as it is read (what ``Platform.load`` would do to it). So an import
    costs about the state it loads, not the body, its text and its parsed form at once.
    ApiError 400 when the text is not one JSON document."""
    reader = JsonStream(stream)
    try:
        if not reader.peek():
            raise ApiError(400, "request body is required")
        if reader.peek() != "{":  # not an export: the check says so
            value = reader.value()
            reader.end()
            return value
        state = {key: _section(reader, key) for key in reader.members()}
        reader.end()
    except RecursionError:
        raise ApiError(400, "request body is nested too deeply") from None
    except ValueError:  # UnicodeDecodeError and JSONDecodeError included
        raise ApiError(400, "request body is not valid JSON") from None
    return state


def _section(reader: JsonStream, key: str) -> Any:
    section, logs = _EVENT_LOGS
    if key != section or reader.peek() != "{":
        return reader.value()
    return {field: _event_logs(reader) if field == logs else reader.value() for field in reader.members()}


def _event_logs(reader: JsonStream) -> Any:
    if reader.peek() != "{":
        return reader.value()
    logs: dict[str, Any] = {}
    for run_id in reader.members():
        if reader.peek() != "[":
            logs[run_id] = reader.value()
            continue
        log: list[bytes] = []
        batch: list[Any] = []
        for _ in reader.items():
            batch.append(reader.value())
            if len(batch) == _BATCH:
                log += _encoded(run_id, batch)
                batch = []
        logs[run_id] = log + _encoded(run_id, batch)
    return logs


_BATCH = 256  # events parsed at once: redacted together (one call), then kept as bytes


def _encoded(run_id: str, events: list[Any]) -> list[bytes]:
    return [json.dumps(e, separators=(",", ":")).encode() for e in cleaned(redact_stored, run_id, events)]
