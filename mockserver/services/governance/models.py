"""Just-in-time access requests.

    PENDING ──> APPROVED ──(expires_at passes)──> EXPIRED
       └──────> REJECTED

A request made with ``run_id`` blocks an action on that run; approving the request approves
the action and resumes the run, rejecting it fails the action and the run.
"""

from __future__ import annotations

import heapq
from typing import Any, Mapping

from ...basics.clock import iso, parse_duration
from ...basics.errors import ApiError

DEFAULT_DURATION = "4h"
DEFAULT_APPROVER = "admin"


class GovernanceBackend:
    def __init__(self, platform):
        self.platform = platform
        self.items: dict[str, dict[str, Any]] = {}
        self.expiry: dict[str, float] = {}  # request id -> clock seconds when APPROVED ends
        # (ends, request id) for every entry of expiry, soonest first: a read expires what is
        # due without scanning every approval. Derived (the "_" keeps it out of the state file).
        self._due: list[tuple[float, str]] = []

    def create(self, body: Mapping[str, Any],
               event_data: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], bool]:
        """Returns (request, created). A PENDING request for the same subject and tool is reused.
        ``event_data`` goes on the run's APPROVAL_REQUIRED event (the tool proxy's details)."""
        with self.platform.lock:
            self._expire_due()
            for existing in self.items.values():
                if (existing["status"] == "PENDING" and existing["subject"] == body["subject"]
                        and existing["tool_id"] == body["tool_id"]):
                    return existing, False
            self.platform.check_capacity("access requests", len(self.items))
            action = None
            if body.get("run_id"):
                action = self.platform.runs.create_action(body["run_id"], body["tool_id"],
                                                          body.get("capability"), body.get("payload_hash"),
                                                          event_data)
            now = self.platform.now_iso()
            request = {
                "id": self.platform.new_id("req-"), "subject": body["subject"],
                "agent_id": body.get("agent_id"), "tool_id": body["tool_id"], "status": "PENDING",
                # An empty run_id means no run (as above), so it is not echoed back either.
                "duration": body.get("duration"), "run_id": body.get("run_id") or None,
                "action_id": action["action_id"] if action else None,
                "capability": body.get("capability"), "tool_method": body.get("tool_method"),
                "tool_url": body.get("tool_url"), "created_at": now, "updated_at": now,
            }
            request = {k: v for k, v in request.items() if v is not None}
            self.items[request["id"]] = request
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
            return request

    def list(self, status: str | None = None, default: str | None = "PENDING") -> list[dict[str, Any]]:
        """Requests in ``status`` (else ``default``; None: every request), oldest first."""
        with self.platform.lock:
            self._expire_due()
            wanted = status or default
            return [r for r in self.items.values() if wanted is None or r["status"] == wanted]

    def approve(self, request_id: str, approver: str | None = None,
                duration: str | None = None, scope: str | None = None) -> dict[str, Any]:
        """``scope`` (once, run, agent_user_ttl) is recorded; the mock grants the same either way."""
        with self.platform.lock:
            request = self._pending(request_id)
            agent = request.get("agent_id") or request["subject"]
            duration = (duration or request.get("duration")
                        or self.platform.policies.approval_duration(agent, request["tool_id"])
                        or self.platform.tools.approval_duration(request["tool_id"]) or DEFAULT_DURATION)
            try:
                seconds = parse_duration(duration)
            except ValueError as exc:
                raise ApiError(400, str(exc)) from None
            if request.get("action_id") and request["run_id"] in self.platform.runs.runs:
                self.platform.runs.ensure_event_room(request["run_id"])
            now = self.platform.clock.now()
            approver = approver or DEFAULT_APPROVER
            request = {**request, "status": "APPROVED", "approver_id": approver, "duration": duration,
                       "expires_at": iso(now + seconds), "updated_at": iso(now)}
            if scope:
                request["scope"] = scope
            if request.get("action_id"):
                self._settle_action(request, approve=True, actor=approver)
            self.items[request_id] = request
            self.expiry[request_id] = now + seconds
            heapq.heappush(self._due, (now + seconds, request_id))
            self.platform.connectors.record(request, "decision_recorded", "approved")
            # The platform's time-limited binding: the agent may call the tool until expiry.
            self.platform.policies.grant(agent, request["tool_id"], now + seconds)
            return request

    def approve_for_action(self, action_id: str, approver: str | None) -> None:
        """The action was approved directly: its PENDING access request (if any) is approved too,
        which grants the agent the tool as an approval of the request would."""
        with self.platform.lock:
            for request in list(self.items.values()):
                if request.get("action_id") == action_id and request["status"] == "PENDING":
                    self.approve(request["id"], approver)

    def reject(self, request_id: str, reason: str | None = None) -> dict[str, Any]:
        with self.platform.lock:
            request = self._pending(request_id)
            if request.get("action_id") and request["run_id"] in self.platform.runs.runs:
                self.platform.runs.ensure_event_room(request["run_id"])
            request = {**request, "status": "REJECTED", "updated_at": self.platform.now_iso()}
            if reason:
                request["reason"] = reason
            if request.get("action_id"):
                self._settle_action(request, approve=False)
            self.items[request_id] = request
            self.platform.connectors.record(request, "decision_recorded", "rejected")
            return request

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
            runs.reject_action(run_id, action_id)

    def _expire_due(self) -> None:
        if len(self._due) != len(self.expiry):  # after a load: rebuilt once
            self._due = sorted((ends, request_id) for request_id, ends in self.expiry.items())
        now = self.platform.clock.now()
        while self._due and self._due[0][0] <= now:
            ends, request_id = heapq.heappop(self._due)
            request = self.items[request_id]
            self.items[request_id] = {**request, "status": "EXPIRED", "updated_at": iso(ends)}
            del self.expiry[request_id]

    def settle(self) -> None:
        """Expire the grants whose window has passed (see Platform.export)."""
        self._expire_due()

    def export(self) -> dict[str, Any]:
        return {"items": list(self.items.values()), "expiry": dict(self.expiry)}

    def load(self, data: Mapping[str, Any]) -> None:
        self.items = {r["id"]: dict(r) for r in data.get("items", [])}
        self.expiry = {k: float(v) for k, v in data.get("expiry", {}).items()}
