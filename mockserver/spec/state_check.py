"""Is an exported state (a state file, a PUT /_mock/state body) safe to load?

Every stored record is an API object, so the spec's own component schemas say what a
complete one looks like; event logs must also be numbered 1..n with no gap. The bookkeeping
next to the records (timings, expiries, replies) must have the right types, finite times the
clock can represent, and refer only to records that exist, and each record must have the
bookkeeping its rules need: a state that passes loads and then serves without a 500.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from ..basics.clock import clock_offset_problem
from ..basics.nesting import nesting_problem
from .document import Spec, first_error

# (section, key inside it) -> component schema of the records stored there.
RECORD_SCHEMAS = {
    ("tools", "items"): "Tool",
    ("model_providers", "items"): "ModelProvider",
    ("identity_providers", "items"): "IdentityProvider",
    ("builds", "items"): "Build",
    ("agents", "items"): "Agent",
    ("runs", "runs"): "Run",
    ("runs", "actions"): "BlockedAction",
    ("access_requests", "items"): "AccessRequest",
    ("analyses", "items"): "Analysis",
    ("policies", "policies"): "Policy",
    ("policies", "bindings"): "PolicyBinding",
    ("runtime", "checkpoints"): "Checkpoint",
}


# (section, key, field) -> component schema of the June document that a record's field holds:
# the June spec of a policy written through /api/v1, which February's shape cannot express.
V1_RECORD_PARTS = {
    ("policies", "policies", "v1_spec"): "PolicySpec",
}


def state_problem(spec: Spec, state: Any, v1_spec: Spec | None = None) -> str | None:
    """The first reason ``state`` cannot be loaded, or None. ``v1_spec``, the June document,
    checks what records keep of the June API, and event logs against its ``RunEvent`` (its
    surface logs the event types it added into the same runs)."""
    if not isinstance(state, Mapping):
        return "state must be a JSON object"
    problem = nesting_problem(state, "state")
    if problem:
        return problem
    offset = state.get("clock_offset", 0.0)
    if not _is_number(offset):
        return "clock_offset must be a number"
    problem = clock_offset_problem(offset)
    if problem:
        return f"clock_offset: {problem}"
    for (section, key), schema_name in RECORD_SCHEMAS.items():
        part = state.get(section) or {}
        if not isinstance(part, Mapping):
            return f"{section} must be an object"
        records = part.get(key) or []
        if not isinstance(records, list):
            return f"{section}.{key} must be a list"
        validator = spec.component_validator(schema_name)
        for index, record in enumerate(records):
            message = first_error(validator, record, f"{section}.{key}[{index}]")
            if message:
                return message
    for (section, key, field), schema_name in V1_RECORD_PARTS.items() if v1_spec is not None else ():
        validator = v1_spec.component_validator(schema_name)
        for index, record in enumerate((state.get(section) or {}).get(key) or []):
            if field in record:
                message = first_error(validator, record[field], f"{section}.{key}[{index}].{field}")
                if message:
                    return message
    events = (state.get("runs") or {}).get("events") or {}
    if not isinstance(events, Mapping):
        return "runs.events must be an object"
    validator = run_event_validator(spec, v1_spec)
    for run_id, log in events.items():
        if not isinstance(log, list):
            return f"runs.events.{run_id} must be a list"
        for index, event in enumerate(log):
            message = event_problem(validator, run_id, index, event)
            if message:
                return message
    return _bookkeeping_problem(state)


def run_event_validator(spec: Spec, v1_spec: Spec | None = None) -> Any:
    """What a stored run event must be: the June document's ``RunEvent`` when served (it adds
    event types to the same runs), else February's."""
    return (v1_spec or spec).component_validator("RunEvent")


def event_problem(validator: Any, run_id: str, index: int, event: Any) -> str | None:
    """Why ``event`` cannot be item ``index`` of run ``run_id``'s event log (``validator``:
    the spec's ``RunEvent`` component), or None."""
    message = first_error(validator, event, f"runs.events.{run_id}[{index}]")
    if message:
        return message
    if event["seq"] != index + 1:
        return f"runs.events.{run_id}: seq {event['seq']} where {index + 1} was expected"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _ids(state: Mapping[str, Any], section: str, key: str, field: str) -> set[Any]:
    return {record[field] for record in (state.get(section) or {}).get(key) or []}


def _times_problem(state: Mapping[str, Any], section: str, key: str, owners: set[Any], owner: str,
                   every_owner: bool = False) -> str | None:
    """``state[section][key]`` maps record ids to clock seconds (finite, representable)."""
    times = (state.get(section) or {}).get(key) or {}
    where = f"{section}.{key}"
    if not isinstance(times, Mapping):
        return f"{where} must be an object"
    for name, value in times.items():
        if name not in owners:
            return f"{where}.{name} refers to a {owner} that is not in the state"
        if not _is_number(value) or clock_offset_problem(value, absolute=True):
            return f"{where}.{name} must be a time the clock can represent (seconds since 1970)"
    if every_owner:
        missing = sorted(owners - set(times))
        if missing:
            return f"{where} has no entry for {owner} {missing[0]}"
    return None


# Sections that hold no records, only bookkeeping.
_OTHER_SECTIONS = ("gateway",)


def _bookkeeping_problem(state: Mapping[str, Any]) -> str | None:
    for section in _OTHER_SECTIONS:
        if not isinstance(state.get(section) or {}, Mapping):
            return f"{section} must be an object"
    builds = _ids(state, "builds", "items", "id")
    timing = (state.get("builds") or {}).get("timing") or {}
    if not isinstance(timing, Mapping):
        return "builds.timing must be an object"
    for build_id in builds:
        entry = timing.get(build_id)
        if not isinstance(entry, Mapping) or not _is_number(entry.get("started")) or "error" not in entry \
                or not (entry["error"] is None or isinstance(entry["error"], str)):
            return f"builds.timing.{build_id} must be {{started: seconds, error: null or text}}"
    dangling = sorted(set(timing) - builds)
    if dangling:
        return f"builds.timing.{dangling[0]} refers to a build that is not in the state"
    problem = (_times_problem(state, "access_requests", "expiry", _ids(state, "access_requests", "items", "id"),
                              "access request")
               or _times_problem(state, "analyses", "stored_at", _ids(state, "analyses", "items", "id"),
                                 "analysis", every_owner=True)
               or _times_problem(state, "model_providers", "created_at",
                                 _ids(state, "model_providers", "items", "name"), "model provider"))
    if problem:
        return problem
    runs = _ids(state, "runs", "runs", "id")
    for index, action in enumerate((state.get("runs") or {}).get("actions") or []):
        if action.get("run_id") not in runs:
            return f"runs.actions[{index}].run_id refers to a run that is not in the state"
    for run_id in (state.get("runs") or {}).get("events") or {}:
        if run_id not in runs:
            return f"runs.events.{run_id} refers to a run that is not in the state"
    replies = (state.get("gateway") or {}).get("replies") or {}
    if not isinstance(replies, Mapping) or not all(isinstance(v, str) for v in replies.values()):
        return 'gateway.replies must map a model name (or "*") to a reply text'
    agents = state.get("agents") or {}
    if not isinstance(agents.get("replies") or {}, Mapping) or not all("/" in k for k in agents.get("replies") or {}):
        return 'agents.replies must map "namespace/name" to the JSON reply'
    build_of = agents.get("build_of") or []
    if not isinstance(build_of, list) or not all(
            isinstance(entry, list) and len(entry) == 3 and all(isinstance(part, str) for part in entry)
            for entry in build_of):
        return "agents.build_of must be a list of [namespace, name, build id]"
    agent_keys = {(agent["namespace"], agent["name"]) for agent in agents.get("items") or []}
    for namespace, name, build_id in build_of:
        if (namespace, name) not in agent_keys:
            return f"agents.build_of: agent {namespace}/{name} is not in the state"
        if build_id not in builds:
            return f"agents.build_of: build {build_id} of agent {namespace}/{name} is not in the state"
    if not isinstance(agents.get("invocations") or [], list):
        return "agents.invocations must be a list"
    fields = (state.get("tools") or {}).get("credential_fields") or {}
    if not isinstance(fields, Mapping) or not all(
            isinstance(names, list) and all(isinstance(n, str) for n in names) for names in fields.values()):
        return "tools.credential_fields must map a tool name to a list of field names"
    return None
