"""Is an exported state (a state file, a PUT /_mock/state body) safe to load?

Every stored record is an API object, so the spec's own component schemas say what a
complete one looks like; event logs must also be numbered 1..n with no gap.
"""

from __future__ import annotations

from typing import Any, Mapping

from .spec import Spec, first_error

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


def state_problem(spec: Spec, state: Any) -> str | None:
    """The first reason ``state`` cannot be loaded, or None."""
    if not isinstance(state, Mapping):
        return "state must be a JSON object"
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
    events = (state.get("runs") or {}).get("events") or {}
    if not isinstance(events, Mapping):
        return "runs.events must be an object"
    validator = spec.component_validator("RunEvent")
    for run_id, log in events.items():
        if not isinstance(log, list):
            return f"runs.events.{run_id} must be a list"
        for index, event in enumerate(log):
            message = first_error(validator, event, f"runs.events.{run_id}[{index}]")
            if message:
                return message
            if event["seq"] != index + 1:
                return f"runs.events.{run_id}: seq {event['seq']} where {index + 1} was expected"
    return None
