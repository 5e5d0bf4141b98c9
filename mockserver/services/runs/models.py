"""Runs, their event log, and blocked actions: the run state machine.

    RUNNING ──> PAUSED_APPROVAL ──> RUNNING
       │               └──────────> FAILED
       ├──> COMPLETED
       └──> FAILED

Creating a blocked action pauses the run and logs APPROVAL_REQUIRED; approving it logs
APPROVED and RESUMED and resumes the run (the platform's resume worker does this on the real
service); rejecting it logs REJECTED, then FAILED as the run fails.

Events are kept as their JSON bytes, the one form that is answered, exported and stored: a
million events would otherwise cost ~1 KB each as dicts (bench/README.md, *Scale*).
"""

from __future__ import annotations

import builtins
import json
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ...basics.errors import ApiError
from ...basics.redact import redact_stored
from ..common import DEFAULT_NAMESPACE
from ..state import Persistent, encoded_logs, records

if TYPE_CHECKING:
    from ..ports import PlatformPort

# The actor of the events the platform logs itself (APPROVAL_REQUIRED, RESUMED: the CLI page's
# `runs events` example shows "governance").
PLATFORM_ACTOR = "governance"

TRANSITIONS: dict[str, frozenset[str]] = {
    "RUNNING": frozenset({"PAUSED_APPROVAL", "COMPLETED", "FAILED"}),
    "PAUSED_APPROVAL": frozenset({"RUNNING", "FAILED"}),
    "COMPLETED": frozenset(),
    "FAILED": frozenset(),
}


def invoke_url_for(agent_id: str, namespace: str) -> str:
    """Where the platform would reach the agent inside its cluster. Names are quoted, so any
    agent_id gives a well-formed URL (``a]b`` would make URL parsers fail on the whole body)."""
    return f"http://{quote(agent_id, safe='')}.{quote(namespace, safe='')}.svc.cluster.local:8080/invoke"


def _last_shown(log: list[bytes], limit: int | None, shown_types: frozenset[str]) -> list[bytes]:
    """The last ``limit`` events (all when None) whose type is in ``shown_types``, in order."""
    shown: list[bytes] = []
    for encoded in reversed(log):
        if json.loads(encoded)["type"] in shown_types:
            shown.append(encoded)
            if limit and len(shown) == limit:
                break
    shown.reverse()
    return shown


def _without_none(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if v is not None}


def _finished_in_order(runs: Mapping[str, dict[str, Any]]) -> OrderedDict[str, None]:
    """Finished runs, the one finished longest ago first: a finished run's ``updated_at`` is
    when it finished (it never changes again)."""
    finished = [run for run in runs.values() if not TRANSITIONS[run["status"]]]
    finished.sort(key=lambda run: run["updated_at"])  # stable: ties keep the stored order
    return OrderedDict.fromkeys(run["id"] for run in finished)


def _actions_by_run(actions: Mapping[str, dict[str, Any]]) -> dict[str, list[str]]:
    by_run: dict[str, list[str]] = {}
    for action_id, action in actions.items():
        by_run.setdefault(action["run_id"], []).append(action_id)
    return by_run


class _Derived:
    """An index derived from one of the backend's stored containers. Built from it when first
    used and whenever the container was replaced (a state load, a store restore, change
    tracking), kept up to date in place otherwise. Not stored: persistence skips ``_`` names."""

    def __init__(self, build: Callable[[Any], Any]):
        self.build, self.source, self.value = build, None, None

    def of(self, source: Any) -> Any:
        if source is not self.source:
            self.value, self.source = self.build(source), source
        return self.value

    def invalidate(self) -> None:
        self.source = None


def _actions_problem(actions: Any, state: Mapping[str, Any]) -> str | None:
    runs = {run["id"] for run in (state.get("runs") or {}).get("runs") or []}
    for index, action in enumerate(actions):
        if action.get("run_id") not in runs:
            return f"runs.actions[{index}].run_id refers to a run that is not in the state"
    return None


def _events_problem(events: Any, state: Mapping[str, Any]) -> str | None:
    runs = {run["id"] for run in (state.get("runs") or {}).get("runs") or []}
    for run_id in events:
        if run_id not in runs:
            return f"runs.events.{run_id} refers to a run that is not in the state"
    return None


class RunsBackend(Persistent):
    STATE = (
        records("runs", key="id", schema="Run"),
        encoded_logs("events", charge="events", check=_events_problem),  # checked against RunEvent, numbered 1..n
        records("actions", key="action_id", schema="BlockedAction"),
    )

    def __init__(self, platform: PlatformPort) -> None:
        self.platform = platform
        self.runs: dict[str, dict[str, Any]] = {}
        self.events: dict[str, list[bytes]] = {}  # run id -> its events, JSON-encoded
        # Every event type logged (derived, so not persisted: worked out when first needed).
        self._event_types: set[str] | None = None
        self.actions: dict[str, dict[str, Any]] = {}
        # For eviction at the run limit in O(1): finished run ids in the order they finished,
        # and each run's blocked actions.
        self._finished = _Derived(_finished_in_order)
        self._run_actions = _Derived(_actions_by_run)

    # --- runs -------------------------------------------------------------------------

    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        now = self.platform.now_iso()
        namespace = body.get("namespace") or DEFAULT_NAMESPACE
        run = _without_none(
            {
                "id": self.platform.new_id(),
                "conversation_id": body.get("conversation_id"),
                "agent_id": body["agent_id"],
                "namespace": namespace,
                "user_id": body["user_id"],
                "status": "RUNNING",
                "invoke_url": body.get("invoke_url") or invoke_url_for(body["agent_id"], namespace),
                "created_at": now,
                "updated_at": now,
            }
        )
        with self.platform.lock:
            if len(self.runs) >= self.platform.config.max_objects_per_kind:
                self._evict_oldest_finished()
            self.platform.check_capacity("runs", len(self.runs))
            self.runs[run["id"]] = run
            self.events[run["id"]] = []
        return run

    def _evict_oldest_finished(self) -> None:
        """Make room for a run in a long-lived mock: drop the run that finished (COMPLETED or
        FAILED) longest ago, with its events and blocked actions; O(1). A run in progress is
        never dropped: when every run is in progress, the create is refused (409) as before."""
        finished = self._finished.of(self.runs)
        if not finished:
            return
        oldest, _ = finished.popitem(last=False)
        del self.runs[oldest], self.events[oldest]
        self.platform.budget.release(("events", oldest))
        self.platform.runtime.forget_run(oldest)
        for action_id in self._run_actions.of(self.actions).pop(oldest, ()):
            del self.actions[action_id]

    def get(self, run_id: str) -> dict[str, Any]:
        try:
            return self.runs[run_id]
        except KeyError:
            raise ApiError(404, f"run {run_id} not found") from None

    def list(self, agent_id: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """With no filter at all, only RUNNING runs (as documented)."""
        if agent_id is None and status is None:
            status = "RUNNING"
        with self.platform.lock:
            runs = list(self.runs.values())
        return [
            r
            for r in runs
            if (agent_id is None or r["agent_id"] == agent_id) and (status is None or r["status"] == status)
        ]

    def transition(self, run_id: str, new_status: str, blocked_action_id: str | None = None) -> dict[str, Any]:
        with self.platform.lock:
            run = self.get(run_id)
            current = run["status"]
            if new_status not in TRANSITIONS[current]:
                raise ApiError(409, f"invalid transition from {current} to {new_status}")
            updated = {k: v for k, v in run.items() if k != "blocked_action_id"}
            updated.update(status=new_status, updated_at=self.platform.now_iso())
            if new_status == "PAUSED_APPROVAL" and blocked_action_id:
                updated["blocked_action_id"] = blocked_action_id
            finished = self._finished.of(self.runs)  # built before the change, so it is added once
            self.runs[run_id] = updated
            if not TRANSITIONS[new_status]:
                finished[run_id] = None
            return updated

    # --- events -----------------------------------------------------------------------

    def ensure_event_room(self, run_id: str, events: int = 1) -> None:
        """Fail before a change that will log ``events`` events on a run whose log is (nearly) full."""
        self.platform.check_capacity("events in this run", len(self.events[run_id]) + events - 1)

    def add_event(
        self, run_id: str, event_type: str, actor: str | None = None, payload_hash: str | None = None, data: Any = None
    ) -> bytes:
        """Log an event; the event as stored (JSON bytes)."""
        with self.platform.lock:
            self.get(run_id)
            log = self.events[run_id]
            self.ensure_event_room(run_id)
            data = redact_stored(data) if data is not None else None
            self.platform.budget.charge(("events", run_id), data, add=True)
            event = _without_none(
                {
                    "event_id": self.platform.new_id(),
                    "run_id": run_id,
                    "seq": len(log) + 1,
                    "type": event_type,
                    "actor": actor,
                    "payload_hash": payload_hash,
                    "data": data,
                    "timestamp": self.platform.now_iso(),
                }
            )
            encoded = json.dumps(event, separators=(",", ":")).encode()
            log.append(encoded)
            if self._event_types is not None:
                self._event_types.add(event_type)
            return encoded

    def _logged_types(self) -> set[str]:
        if self._event_types is None:
            self._event_types = {json.loads(e)["type"] for log in self.events.values() for e in log}
        return self._event_types

    def list_events(
        self,
        run_id: str,
        limit: int | None = None,
        after_seq: int | None = None,
        shown_types: frozenset[str] | None = None,
    ) -> builtins.list[bytes]:
        """The run's events, each as JSON bytes: with ``after_seq`` the first ``limit`` events
        after it (paging forward), otherwise the last ``limit`` ones; O(limit).

        ``shown_types``: the event types the reader's release knows; events of other types (a
        later release's) are left out, and ``limit`` counts the events shown."""
        with self.platform.lock:
            self.get(run_id)
            log = self.events[run_id]
            if shown_types is not None and not self._logged_types() <= shown_types:
                if after_seq is not None:
                    page = [e for e in log[after_seq:] if json.loads(e)["type"] in shown_types]
                    return page[:limit] if limit else page
                return _last_shown(log, limit, shown_types)
            if after_seq is not None:  # seq n is at index n - 1: no gaps
                return log[after_seq : after_seq + limit] if limit else log[after_seq:]
            return log[-limit:] if limit else list(log)

    # --- blocked actions --------------------------------------------------------------

    def create_action(
        self,
        run_id: str,
        tool_id: str,
        capability: str | None = None,
        payload_hash: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        with self.platform.lock:
            run = self.get(run_id)
            if run["status"] != "RUNNING":
                raise ApiError(409, f"run is {run['status']}, must be RUNNING to create actions")
            self.platform.check_capacity("actions", len(self.actions))
            self.ensure_event_room(run_id)
            now = self.platform.now_iso()
            action = _without_none(
                {
                    "action_id": self.platform.new_id(),
                    "run_id": run_id,
                    "tool_id": tool_id,
                    "capability": capability,
                    "payload_hash": payload_hash,
                    "status": "BLOCKED",
                    "created_at": now,
                    "updated_at": now,
                }
            )
            self._run_actions.of(self.actions).setdefault(run_id, []).append(action["action_id"])
            self.actions[action["action_id"]] = action
            self.transition(run_id, "PAUSED_APPROVAL", blocked_action_id=action["action_id"])
            self.add_event(run_id, "APPROVAL_REQUIRED", actor=PLATFORM_ACTOR, data=dict(data) if data else None)
            return action

    def get_action(self, run_id: str, action_id: str) -> dict[str, Any]:
        action = self.actions.get(action_id)
        if action is None or action["run_id"] != run_id:
            raise ApiError(404, f"action {action_id} not found")
        return action

    def approve_action(
        self,
        run_id: str,
        action_id: str,
        payload_hash: str | None,
        approver: str | None = None,
        check_hash: bool = True,
    ) -> dict[str, Any]:
        """BLOCKED -> APPROVED, log APPROVED, and resume the run if it waits for this action."""
        with self.platform.lock:
            action = self.get_action(run_id, action_id)
            if action["status"] != "BLOCKED":
                raise ApiError(409, f"action is {action['status']}, must be BLOCKED to approve")
            if check_hash and action.get("payload_hash") and payload_hash != action["payload_hash"]:
                raise ApiError(409, "payload_hash mismatch")
            self.ensure_event_room(run_id, 2)  # APPROVED, RESUMED
            action = self.set_action_status(action, "APPROVED")
            self.add_event(run_id, "APPROVED", actor=approver)
            if self._waits_for(run_id, action_id):
                self.transition(run_id, "RUNNING")
                self.add_event(run_id, "RESUMED", actor=PLATFORM_ACTOR, data={"action_id": action_id})
                self.platform.runtime.queue_resume(run_id, action_id)
            if check_hash:  # approved here, not through its access request: that request is approved too
                self.platform.governance.approve_for_action(action_id, approver)
            return action

    def reject_action(self, run_id: str, action_id: str, actor: str | None = None) -> None:
        """A refused approval: the action fails, REJECTED is logged and the waiting run fails."""
        with self.platform.lock:
            action = self.get_action(run_id, action_id)
            if action["status"] != "BLOCKED":
                return
            self.ensure_event_room(run_id, 2)  # REJECTED, FAILED
            self.set_action_status(action, "FAILED")
            self.add_event(run_id, "REJECTED", actor=actor, data={"action_id": action_id})
            if self._waits_for(run_id, action_id):
                self.transition(run_id, "FAILED")
                self.add_event(run_id, "FAILED", actor=PLATFORM_ACTOR, data={"reason": "approval rejected"})

    def _waits_for(self, run_id: str, action_id: str) -> bool:
        run = self.runs[run_id]
        return run["status"] == "PAUSED_APPROVAL" and run.get("blocked_action_id") == action_id

    def set_action_status(self, action: dict[str, Any], status: str) -> dict[str, Any]:
        action = {**action, "status": status, "updated_at": self.platform.now_iso()}
        self.actions[action["action_id"]] = action
        return action

    def rename(self, run_id: str, new_id: str) -> dict[str, Any]:
        """Give a run another id (a fixture keeping a recorded run's id); 409 when it is taken."""
        with self.platform.lock:
            if new_id in self.runs:
                raise ApiError(409, f"run {new_id} already exists")
            run = {**self.runs.pop(self.get(run_id)["id"]), "id": new_id}
            self.runs[new_id] = run
            self.events[new_id] = [
                json.dumps({**json.loads(event), "run_id": new_id}, separators=(",", ":")).encode()
                for event in self.events.pop(run_id)
            ]
            for action_id, action in list(self.actions.items()):
                if action["run_id"] == run_id:
                    self.actions[action_id] = {**action, "run_id": new_id}
            self._finished.invalidate()  # rare (fixtures): rebuilt when next needed
            self._run_actions.invalidate()
            return run

    # --- state ------------------------------------------------------------------------

    def rebuild(self) -> None:
        """Every run has an event log (and only runs have one); the indexes are rebuilt."""
        for run_id in [run_id for run_id in self.events if run_id not in self.runs]:
            del self.events[run_id]
        for run_id in self.runs:
            if run_id not in self.events:
                self.events[run_id] = []
        self._event_types = None
        self._finished.invalidate()
        self._run_actions.invalidate()
