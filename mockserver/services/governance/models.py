"""Just-in-time access requests and the approval outcomes they leave.

    PENDING ──> APPROVED ──(expires_at passes)──> EXPIRED
       └──────> REJECTED

One request per blocked action: a request made with ``run_id`` blocks an action on that run
(a second run waiting on the same tool gets its own request and action); approving it approves
the action, resumes the run and leaves an outcome of the chosen scope (``scopes.py``) that the
tool proxy consults; rejecting it fails the action and the run. An ``agent_user_ttl`` approval
also approves the other PENDING requests it covers (same agent, tool and end user), so exactly
the runs its window covers resume.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...basics.clock import iso, parse_duration
from ...basics.errors import ApiError
from ..state import Field, Owner, Persistent, mapping, records
from .scopes import ONCE, RUN, WINDOW, Outcome, ToolCall, covers, outcome_for, resolve_scope, well_formed

if TYPE_CHECKING:
    from ..ports import PlatformPort

DEFAULT_DURATION = "4h"
DEFAULT_APPROVER = "admin"


def _hashes(value: Any) -> dict[str, str]:
    return {str(k): v for k, v in value.items() if isinstance(v, str)} if isinstance(value, Mapping) else {}


def _outcomes(value: Any) -> dict[str, Outcome]:
    return {o["request_id"]: Outcome(**o) for o in value if well_formed(o)} if isinstance(value, list) else {}


class GovernanceBackend(Persistent):
    # Bookkeeping of a hand-written state that does not fit its request is left out (by the
    # restore here, and by rebuild() for what depends on the requests): an approval without its
    # outcome grants nothing (never more than the state said).
    STATE = (
        records("items", key="id", schema="AccessRequest"),
        mapping("expiry", float, times_of=Owner("items", "id", "access request")),
        Field("hashes", dump=dict, restore=_hashes, default=dict),
        Field("outcomes", dump=lambda outcomes: list(outcomes.values()), restore=_outcomes, default=dict),
    )

    def __init__(self, platform: PlatformPort) -> None:
        self.platform = platform
        self.items: dict[str, dict[str, Any]] = {}
        self.expiry: dict[str, float] = {}  # request id -> clock seconds when APPROVED ends
        self.hashes: dict[str, str] = {}  # request id -> payload hash of the call it blocked
        self.outcomes: dict[str, Outcome] = {}  # request id -> what its approval grants (scopes.py)
        # (ends, request id) for every entry of expiry, soonest first: a read expires what is
        # due without scanning every approval. Derived (the "_" keeps it out of the state file).
        self._due: list[tuple[float, str]] = []

    def create(
        self, body: Mapping[str, Any], event_data: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Returns (request, created). The PENDING request of the same subject, tool and run
        (or of no run) is reused: the page's "same blocked action retried in the same pending
        run context". ``event_data`` goes on the run's APPROVAL_REQUIRED event."""
        with self.platform.lock:
            self._expire_due()
            run_id = body.get("run_id") or None
            for existing in self.items.values():
                if (
                    existing["status"] == "PENDING"
                    and existing["subject"] == body["subject"]
                    and existing["tool_id"] == body["tool_id"]
                    and existing.get("run_id") == run_id
                ):
                    return existing, False
            self.platform.check_capacity("access requests", len(self.items))
            action = None
            if run_id:
                action = self.platform.runs.create_action(
                    run_id, body["tool_id"], body.get("capability"), body.get("payload_hash"), event_data
                )
            now = self.platform.now_iso()
            request = {
                "id": self.platform.new_id("req-"),
                "subject": body["subject"],
                "agent_id": body.get("agent_id"),
                "tool_id": body["tool_id"],
                "status": "PENDING",
                # An empty run_id means no run (as above), so it is not echoed back either.
                "duration": body.get("duration"),
                "run_id": run_id,
                "action_id": action["action_id"] if action else None,
                "capability": body.get("capability"),
                "tool_method": body.get("tool_method"),
                "tool_url": body.get("tool_url"),
                "created_at": now,
                "updated_at": now,
            }
            request = {k: v for k, v in request.items() if v is not None}
            self.items[request["id"]] = request
            if body.get("payload_hash"):
                self.hashes[request["id"]] = body["payload_hash"]
            self.platform.connectors.record(request, "dispatch_succeeded")
            return request, True

    def get(self, request_id: str) -> dict[str, Any]:
        with self.platform.lock:
            self._expire_due()
            try:
                return self.items[request_id]
            except KeyError:
                raise ApiError(404, "request not found") from None

    def rename(self, request_id: str, new_id: str) -> dict[str, Any]:
        """Give a request another id (a fixture keeping a recorded request's id); 409 when it is taken."""
        with self.platform.lock:
            if new_id in self.items:
                raise ApiError(409, f"access request {new_id} already exists")
            request = {**self.items.pop(self.get(request_id)["id"]), "id": new_id}
            self.items[new_id] = request
            if request_id in self.expiry:
                self.expiry[new_id] = self.expiry.pop(request_id)
            if request_id in self.hashes:
                self.hashes[new_id] = self.hashes.pop(request_id)
            if request_id in self.outcomes:
                self.outcomes[new_id] = {**self.outcomes.pop(request_id), "request_id": new_id}
            return request

    def list(self, status: str | None = None, default: str | None = "PENDING") -> list[dict[str, Any]]:
        """Requests in ``status`` (else ``default``; None: every request), oldest first."""
        with self.platform.lock:
            self._expire_due()
            wanted = status or default
            return [r for r in self.items.values() if wanted is None or r["status"] == wanted]

    def approve(
        self, request_id: str, approver: str | None = None, duration: str | None = None, scope: str | None = None
    ) -> dict[str, Any]:
        """Approve with a scope (``scopes.resolve_scope`` picks it when none is sent). The time
        window (``agent_user_ttl``) also approves every other PENDING request it covers."""
        with self.platform.lock:
            request = self._pending(request_id)
            # No scope sent: the window when the approval or the request names a duration
            # (the request "asked for" one: api/approvals.md), else once.
            scope = (
                resolve_scope(scope, duration) if scope or duration else resolve_scope(None, request.get("duration"))
            )
            if scope == RUN and not request.get("run_id"):
                raise ApiError(409, f"scope {RUN} needs a request made for a run (this one has no run_id)")
            approver = approver or DEFAULT_APPROVER
            if scope != WINDOW:
                return self._approve_one(request, approver, scope, None, None)
            agent = request.get("agent_id") or request["subject"]
            duration = (
                duration
                or request.get("duration")
                or self.platform.policies.approval_duration(agent, request["tool_id"])
                or self.platform.tools.approval_duration(request["tool_id"])
                or DEFAULT_DURATION
            )
            try:
                seconds = parse_duration(duration)
            except ValueError as exc:
                raise ApiError(400, str(exc)) from None
            user = self._user_of(request)
            covered = [
                other
                for other in self.items.values()
                if other["status"] == "PENDING"
                and other["id"] != request_id
                and (other.get("agent_id") or other["subject"]) == agent
                and other["tool_id"] == request["tool_id"]
                and self._user_of(other) == user
            ]
            for waiting in (request, *covered):  # every run it resumes has room for its events, or none is changed
                if waiting.get("action_id") and waiting["run_id"] in self.platform.runs.runs:
                    self.platform.runs.ensure_event_room(waiting["run_id"], 2)
            approved = self._approve_one(request, approver, scope, duration, seconds)
            for other in covered:
                self._approve_one(other, approver, scope, duration, seconds)
            # The platform's time-limited binding, shown on /api/policy-bindings until it ends.
            self.platform.policies.grant(agent, request["tool_id"], self.expiry[request_id])
            return approved

    def _approve_one(
        self, request: dict[str, Any], approver: str, scope: str, duration: str | None, seconds: float | None
    ) -> dict[str, Any]:
        if request.get("action_id") and request["run_id"] in self.platform.runs.runs:
            self.platform.runs.ensure_event_room(request["run_id"], 2)
        now = self.platform.clock.now()
        ends = now + seconds if seconds is not None else None
        request = {**request, "status": "APPROVED", "approver_id": approver, "scope": scope, "updated_at": iso(now)}
        if ends is not None:
            request.update(duration=duration, expires_at=iso(ends))
        self.items[request["id"]] = request
        self.outcomes[request["id"]] = outcome_for(request, scope, self._user_of(request), self._hash_of(request), ends)
        if ends is not None:
            self.expiry[request["id"]] = ends
            heapq.heappush(self._due, (ends, request["id"]))
        if request.get("action_id"):
            self._settle_action(request, approve=True, actor=approver)
        self.platform.connectors.record(request, "decision_recorded", "approved")
        return request

    def _user_of(self, request: Mapping[str, Any]) -> str | None:
        """The end user a request was made for: its run's user; without a run, its subject
        when that is not the agent itself (a request the tool proxy made has no user then)."""
        run = self.platform.runs.runs.get(request.get("run_id") or "")
        if run is not None:
            return verified_user(run)
        subject = request["subject"]
        return None if subject == (request.get("agent_id") or subject) else subject

    def _hash_of(self, request: Mapping[str, Any]) -> str | None:
        action = self.platform.runs.actions.get(request.get("action_id") or "")
        return action.get("payload_hash") if action else self.hashes.get(request["id"])

    def approve_for_action(self, action_id: str, approver: str | None) -> None:
        """The action was approved directly: its PENDING access request (if any) is approved
        too, with the default scope (``once``: that action)."""
        with self.platform.lock:
            for request in list(self.items.values()):
                if request.get("action_id") == action_id and request["status"] == "PENDING":
                    self.approve(request["id"], approver)

    def reject(self, request_id: str, reason: str | None = None, actor: str | None = None) -> dict[str, Any]:
        with self.platform.lock:
            request = self._pending(request_id)
            if request.get("action_id") and request["run_id"] in self.platform.runs.runs:
                self.platform.runs.ensure_event_room(request["run_id"], 2)
            request = {**request, "status": "REJECTED", "updated_at": self.platform.now_iso()}
            if reason:
                request["reason"] = reason
            if request.get("action_id"):
                self._settle_action(request, approve=False, actor=actor or DEFAULT_APPROVER)
            self.items[request_id] = request
            self.platform.connectors.record(request, "decision_recorded", "rejected")
            return request

    # --- what the tool proxy asks -----------------------------------------------------

    def covering(self, call: ToolCall) -> Outcome | None:
        """The approval outcome that lets ``call`` through, if any (``spend`` it once the call
        goes to the tool)."""
        with self.platform.lock:
            self._expire_due()
            now = self.platform.clock.now()
            run = self.platform.runs.runs.get(call.run_id or "")
            run_open = run is not None and run["status"] not in ("COMPLETED", "FAILED")
            return next((o for o in self.outcomes.values() if covers(o, call, now, run_open)), None)

    def spend(self, outcome: Outcome) -> None:
        """The call ``outcome`` covered went to the tool: a ``once`` is used up."""
        with self.platform.lock:
            if outcome["scope"] == ONCE and outcome["request_id"] in self.outcomes:
                self.outcomes[outcome["request_id"]] = {**outcome, "used": True}

    def pending_for_run(self, run_id: str, agent: str, tool_name: str) -> dict[str, Any] | None:
        """The PENDING request a paused run waits on for this tool, if any."""
        with self.platform.lock:
            return next(
                (
                    r
                    for r in self.items.values()
                    if r["status"] == "PENDING"
                    and r.get("run_id") == run_id
                    and r["tool_id"] == tool_name
                    and r["subject"] == agent
                ),
                None,
            )

    def rejected_for_run(self, run_id: str, agent: str, tool_name: str) -> bool:
        with self.platform.lock:
            return any(
                r["status"] == "REJECTED"
                and r.get("run_id") == run_id
                and r["tool_id"] == tool_name
                and r["subject"] == agent
                for r in self.items.values()
            )

    def _pending(self, request_id: str) -> dict[str, Any]:
        request = self.get(request_id)
        if request["status"] != "PENDING":
            raise ApiError(409, "request is not pending")
        return request

    def _settle_action(self, request: Mapping[str, Any], approve: bool, actor: str | None = None) -> None:
        runs = self.platform.runs
        run_id, action_id = request["run_id"], request["action_id"]
        if run_id not in runs.runs:
            return
        if approve:
            if runs.get_action(run_id, action_id)["status"] == "BLOCKED":
                # Approving the request is the approval: no payload hash is asked for again.
                runs.approve_action(run_id, action_id, None, approver=actor, check_hash=False)
        else:
            runs.reject_action(run_id, action_id, actor=actor)

    def rebuild(self) -> None:
        for request_id in [k for k in self.hashes if k not in self.items]:
            del self.hashes[request_id]
        for request_id in [k for k in self.outcomes if self.items.get(k, {}).get("status") != "APPROVED"]:
            del self.outcomes[request_id]
        self._due = sorted((ends, request_id) for request_id, ends in self.expiry.items())

    def _expire_due(self) -> None:
        now = self.platform.clock.now()
        while self._due and self._due[0][0] <= now:
            ends, request_id = heapq.heappop(self._due)
            request = self.items[request_id]
            self.items[request_id] = {**request, "status": "EXPIRED", "updated_at": iso(ends)}
            del self.expiry[request_id]
            self.outcomes.pop(request_id, None)

    def settle(self) -> None:
        """Expire the grants whose window has passed (see Platform.export)."""
        self._expire_due()


ANONYMOUS = "anonymous"  # the user_id of a run started with no end-user identity (an API-key invoke)


def verified_user(run: Mapping[str, Any]) -> str | None:
    """The end user the platform vouches for on a run: its ``user_id``, except the anonymous
    placeholder an invoke without identity records (then the tool receives no user)."""
    user = run.get("user_id")
    return None if not user or user == ANONYMOUS else str(user)
