"""Is an exported state (a state file, a PUT /_mock/state body) safe to load?

Every stored record is an API object, so the spec's own component schemas say what a
complete one looks like; event logs must also be numbered 1..n with no gap. The bookkeeping
next to the records (timings, expiries, replies) must have the right types, finite times the
clock can represent, and refer only to records that exist, and each record must have the
bookkeeping its rules need: a state that passes loads and then serves without a 500.

What each section holds is not listed here: each backend declares it once (its ``STATE``,
``services/state.py``) and the caller passes those declarations in (``Platform.state_sections``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from ..basics.clock import clock_offset_problem
from ..basics.nesting import nesting_problem
from .document import Spec, first_error


class Owner(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def id_field(self) -> str: ...
    @property
    def noun(self) -> str: ...
    @property
    def every(self) -> bool: ...


class DeclaredField(Protocol):
    """What the check reads of a declared field (``services/state.py`` ``Field``)."""

    @property
    def key(self) -> str: ...
    @property
    def schema(self) -> str | None: ...
    @property
    def v1_parts(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def times_of(self) -> Owner | None: ...
    @property
    def shape(self) -> str: ...
    @property
    def event_log(self) -> bool: ...
    @property
    def check(self) -> Callable[[Any, Mapping[str, Any]], str | None] | None: ...


Sections = Iterable[tuple[str, Iterable[DeclaredField]]]


def state_problem(spec: Spec, state: Any, v1_spec: Spec | None = None, sections: Sections = ()) -> str | None:
    """The first reason ``state`` cannot be loaded, or None. ``sections``: each section of an
    export and its declared fields. ``v1_spec``, the June document, checks what records keep
    of the June API, and event logs against its ``RunEvent`` (its surface logs the event types
    it added into the same runs)."""
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
    declared = [(section, list(fields)) for section, fields in sections]
    for section, _ in declared:
        if not isinstance(state.get(section) or {}, Mapping):
            return f"{section} must be an object"
    for section, fields in declared:  # the records, against the document's schemas
        for f in fields:
            if f.schema is None:
                continue
            records = (state.get(section) or {}).get(f.key) or []
            if not isinstance(records, list):
                return f"{section}.{f.key} must be a list"
            validator = spec.component_validator(f.schema)
            for index, record in enumerate(records):
                message = first_error(validator, record, f"{section}.{f.key}[{index}]")
                if message:
                    return message
    problem = _v1_parts_problem(v1_spec, state, declared) if v1_spec is not None else None
    if problem:
        return problem
    for section, fields in declared:
        for f in fields:
            if f.event_log:
                problem = _event_logs_problem(
                    spec, v1_spec, section, f.key, (state.get(section) or {}).get(f.key) or {}
                )
                if problem:
                    return problem
    for section, fields in declared:  # the bookkeeping beside the records
        for f in fields:
            problem = _field_problem(state, section, f)
            if problem:
                return problem
    return None


def _v1_parts_problem(
    v1_spec: Spec, state: Mapping[str, Any], declared: list[tuple[str, list[DeclaredField]]]
) -> str | None:
    """What records keep of the June API (a policy's June spec), against the June document."""
    for section, fields in declared:
        for f in fields:
            for part, schema_name in f.v1_parts:
                validator = v1_spec.component_validator(schema_name)
                for index, record in enumerate((state.get(section) or {}).get(f.key) or []):
                    if part in record:
                        message = first_error(validator, record[part], f"{section}.{f.key}[{index}].{part}")
                        if message:
                            return message
    return None


def _event_logs_problem(spec: Spec, v1_spec: Spec | None, section: str, key: str, events: Any) -> str | None:
    if not isinstance(events, Mapping):
        return f"{section}.{key} must be an object"
    validator = run_event_validator(spec, v1_spec)
    for run_id, log in events.items():
        if not isinstance(log, list):
            return f"{section}.{key}.{run_id} must be a list"
        for index, event in enumerate(log):
            message = event_problem(validator, run_id, index, event)
            if message:
                return message
    return None


def _field_problem(state: Mapping[str, Any], section: str, f: DeclaredField) -> str | None:
    part = state.get(section) or {}
    if f.times_of is not None:
        owner = f.times_of
        owners = {record[owner.id_field] for record in part.get(owner.key) or []}
        return _times_problem(state, section, f.key, owners, owner.noun, owner.every)
    if f.key not in part:
        return None
    value = part[f.key]
    if f.check is not None:
        problem = f.check(value, state)
        if problem:
            return problem
    if f.shape == "list" and not isinstance(value, list):
        return f"{section}.{f.key} must be a list"
    if f.shape == "object" and not isinstance(value, Mapping):
        return f"{section}.{f.key} must be an object"
    return None


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


def _times_problem(
    state: Mapping[str, Any], section: str, key: str, owners: set[Any], owner: str, every_owner: bool = False
) -> str | None:
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
