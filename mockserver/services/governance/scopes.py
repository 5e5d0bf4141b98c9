"""What an approval grants: its scope, and whether a later tool call falls under it.

The June pages name three scopes (api/approvals.md, platform/approvals.md "Approval choices"):

- ``once``: the exact blocked action (its run and payload hash), one time;
- ``run``: calls of the same agent, tool and operation in that run, until the run ends;
- ``agent_user_ttl``: calls of the same end user, agent and tool until the window ends.

An approval with no scope is ``agent_user_ttl`` when it (or, failing that, the request it
approves) names a duration (the vendor CLI and SDK send ``--duration`` alone so), else ``once``: the narrowest grant, so code tested here
is never refused for asking too little on the platform (docs/runtime.md, "Approval scopes").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict, TypeGuard

from ...basics.errors import ApiError

ONCE, RUN, WINDOW = "once", "run", "agent_user_ttl"
SCOPES = (ONCE, RUN, WINDOW)


def duration_refusal(scope: str) -> str:
    """The 400 for a duration sent with ``scope`` (not the window). The one definition of the
    message: the documents' ``AccessRequestApproveRequest`` says it too, for clients (a JSON
    Schema rule cannot format it), and tests/unit/test_approval_scopes.py fails when they differ."""
    return f"duration applies to scope {WINDOW} only, not {scope}"


def resolve_scope(scope: str | None, duration: str | None) -> str:
    """The scope an approve call asks for. A duration belongs to the time window only: with
    ``once`` or ``run`` it is refused (as the vendor SDK refuses it before sending)."""
    if not scope:
        return WINDOW if duration else ONCE
    if scope not in SCOPES:
        raise ApiError(400, f"scope must be one of {', '.join(SCOPES)}")
    if duration and scope != WINDOW:
        raise ApiError(400, duration_refusal(scope))
    return scope


@dataclass(frozen=True)
class ToolCall:
    """A governed call as the tool proxy sees it, for matching against approval outcomes."""

    agent: str
    tool: str
    run_id: str | None
    user: str | None  # the run's verified end user (never a header the agent sent)
    capability: str
    payload_hash: str


class Outcome(TypedDict):
    """What an approval grants, kept (and exported) by request id."""

    request_id: str
    scope: str  # one of SCOPES
    agent: str
    tool: str
    run_id: str | None
    action_id: str | None
    user: str | None  # the run's verified end user
    capability: str | None
    payload_hash: str | None
    ends: float | None  # the window's end (clock seconds)
    used: bool  # a ``once`` outcome, spent


def outcome_for(
    request: Mapping[str, Any], scope: str, user: str | None, payload_hash: str | None, ends: float | None
) -> Outcome:
    """The runtime approval outcome an approved request leaves (kept, and exported, by request id)."""
    return {
        "request_id": request["id"],
        "scope": scope,
        "agent": request.get("agent_id") or request["subject"],
        "tool": request["tool_id"],
        "run_id": request.get("run_id"),
        "action_id": request.get("action_id"),
        "user": user,
        "capability": request.get("capability"),
        "payload_hash": payload_hash,
        "ends": ends,
        "used": False,
    }


def covers(outcome: Outcome, call: ToolCall, now: float, run_open: bool) -> bool:
    """Does ``outcome`` let ``call`` through? ``run_open``: the call's run has not ended."""
    if outcome["agent"] != call.agent or outcome["tool"] != call.tool:
        return False
    scope = outcome["scope"]
    if scope == ONCE:
        return (
            not outcome["used"]
            and outcome["run_id"] == call.run_id
            and outcome.get("payload_hash") in (None, call.payload_hash)
        )
    if scope == RUN:
        return (
            call.run_id is not None
            and outcome["run_id"] == call.run_id
            and run_open
            and outcome.get("capability") in (None, call.capability)
        )
    return outcome["user"] == call.user and outcome["ends"] is not None and now < outcome["ends"]


def well_formed(outcome: object) -> TypeGuard[Outcome]:
    """Is ``outcome`` (from a state file: JSON objects) one that ``covers`` can read?"""
    if not isinstance(outcome, Mapping) or outcome.get("scope") not in SCOPES:
        return False
    texts = all(isinstance(outcome.get(k), str) for k in ("request_id", "agent", "tool"))
    optional = all(
        outcome.get(k) is None or isinstance(outcome.get(k), str)
        for k in ("run_id", "action_id", "user", "capability", "payload_hash")
    )
    ends = outcome.get("ends")
    timed = ends is None or (isinstance(ends, (int, float)) and not isinstance(ends, bool) and math.isfinite(ends))
    return texts and optional and timed and isinstance(outcome.get("used"), bool)
