"""What a backend keeps, declared once: ``STATE``, a tuple of ``Field``s, one per persisted
attribute. Everything that handles state is derived from it:

- the export and ``PUT /_mock/state`` (``Persistent.export()``/``load()``),
- the ``--state-file`` store (``persistence.py`` saves and restores exactly these attributes,
  and ``changes.py`` tracks exactly these),
- the state check (``spec/state_check.py`` gets each field's schema and reference rules),
- the byte budget's recount after a load (``charge``).

An attribute named ``_...`` is derived: it is not saved, and ``rebuild()`` works it out from the
persisted ones after any load, restart or reset (never keep a counter there that data could
contradict: derive it). Adding a persisted field is one line in the backend's ``STATE``
(it starts empty unless ``__init__`` sets it)::

    STATE = (records("items", key="id", schema="Thing", charge="things"),
             mapping("expiry", float, times_of=Owner("items", "id", "thing")),
             mapping("grants", dict))  # <- the new field
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .budget import StoreBudget, event_data_size, stored_size
from .changes import track_attribute

if TYPE_CHECKING:
    from .ports import PlatformPort


def as_is(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Owner:
    """The records a map's keys refer to: ``section.key`` records, by their ``id_field``; the
    noun names one in messages. With ``every``, each record needs an entry."""

    key: str
    id_field: str
    noun: str
    every: bool = False


@dataclass(frozen=True)
class Field:
    """One persisted attribute of a backend, and how it is exported, checked and charged."""

    attr: str
    dump: Callable[[Any], Any]  # the attribute -> its exported (JSON) form
    restore: Callable[..., Any]  # the exported form (and, with ``cleans``, the cleaner) -> the attribute
    export_key: str = ""  # its key in the backend's section of an export (default: attr)
    schema: str | None = None  # each exported record is this component of the API document
    v1_parts: tuple[tuple[str, str], ...] = ()  # (record field, June component) it may hold
    times_of: Owner | None = None  # a map of record id -> clock seconds
    charge: str | None = None  # each entry is charged to the byte budget under (charge, key)
    measure: Callable[[Any], int] = stored_size  # the charge of one entry
    check: Callable[[Any, Mapping[str, Any]], str | None] | None = None  # (value, whole export) -> problem
    shape: str = ""  # "list" or "object": what the exported value must be ("" any)
    event_log: bool = False  # run id -> run events (checked against the document's RunEvent)
    # restore() takes the load's cleaner and applies it item by item (records, event logs): a
    # large import is never copied whole to be cleaned.
    cleans: bool = False
    # What the attribute starts as, when the backend's __init__ does not set it (a field
    # declared here alone starts empty).
    default: Callable[[], Any] | None = None

    @property
    def key(self) -> str:
        return self.export_key or self.attr


# --- the kinds of field ------------------------------------------------------------------


def _key_function(key: str | tuple[str, ...] | Callable[[Mapping[str, Any]], Hashable]) -> Callable[[Any], Hashable]:
    if callable(key):
        return key
    if isinstance(key, tuple):
        return lambda record: tuple(record[part] for part in key)
    return lambda record: record[key]


def records(
    attr: str,
    key: str | tuple[str, ...] | Callable[[Mapping[str, Any]], Hashable],
    *,
    schema: str | None = None,
    charge: str | None = None,
    export_as: str = "",
    v1_parts: tuple[tuple[str, str], ...] = (),
) -> Field:
    """A dict of records keyed by their ``key`` field(s), exported as the list of records."""
    key_of = _key_function(key)

    def restore(listed: Any, clean: Callable[[Any], Any]) -> dict[Hashable, Any]:
        return {key_of(r): dict(r) for r in map(clean, listed)}

    return Field(
        attr,
        dump=lambda items: list(items.values()),
        restore=restore,
        export_key=export_as,
        schema=schema,
        v1_parts=v1_parts,
        charge=charge,
        shape="list",
        cleans=True,
        default=dict,
    )


def mapping(
    attr: str,
    value: Callable[[Any], Any] = as_is,
    *,
    times_of: Owner | None = None,
    check: Callable[[Any, Mapping[str, Any]], str | None] | None = None,
    charge: str | None = None,
    measure: Callable[[Any], int] = stored_size,
    dump_value: Callable[[Any], Any] | None = None,
) -> Field:
    """A dict with string keys, exported as an object (each value passed through ``value`` on load)."""
    if dump_value is None:
        dump: Callable[[Any], Any] = dict
    else:
        dump = lambda items: {k: dump_value(v) for k, v in items.items()}  # noqa: E731
    return Field(
        attr,
        dump=dump,
        restore=lambda items: {str(k): value(v) for k, v in items.items()},
        times_of=times_of,
        check=check,
        charge=charge,
        measure=measure,
        shape="object",
        default=dict,
    )


def pairs(
    attr: str,
    value: Callable[[Any], Any] = as_is,
    *,
    charge: str | None = None,
    check: Callable[[Any, Mapping[str, Any]], str | None] | None = None,
) -> Field:
    """A dict keyed by (namespace, name), exported as a list of ``[namespace, name, value]``."""
    return Field(
        attr,
        dump=lambda items: [[ns, n, v] for (ns, n), v in items.items()],
        restore=lambda listed: {(ns, n): value(v) for ns, n, v in listed},
        charge=charge,
        check=check,
        shape="list",
        default=dict,
    )


def log(attr: str, check: Callable[[Any, Mapping[str, Any]], str | None] | None = None) -> Field:
    """A list, oldest first."""
    return Field(attr, dump=list, restore=list, check=check, shape="list", default=list)


def scalar(attr: str, kind: Callable[[Any], Any], default: Any = None, export_as: str = "") -> Field:
    """A plain value (a number, a text, a flag)."""
    return Field(
        attr, dump=as_is, restore=kind, export_key=export_as, default=None if default is None else lambda: default
    )


def encoded_logs(
    attr: str, *, charge: str, check: Callable[[Any, Mapping[str, Any]], str | None] | None = None
) -> Field:
    """Run id -> its event log, each event kept as its JSON bytes. A log already held that way
    (a streamed import encodes and cleans each event as it reads it) is taken as it is."""

    def restore(logs: Mapping[str, Any], clean: Callable[[Any], Any]) -> dict[str, list[bytes]]:
        return {
            run_id: events
            if events and type(events[0]) is bytes
            else [json.dumps(e, separators=(",", ":")).encode() for e in cleaned(clean, run_id, events)]
            for run_id, events in logs.items()
        }

    return Field(
        attr,
        dump=lambda logs: {k: list(v) for k, v in logs.items()},
        restore=restore,
        charge=charge,
        measure=lambda events: sum(map(event_data_size, events)),
        shape="object",
        event_log=True,
        check=check,
        cleans=True,
        default=dict,
    )


def cleaned(clean: Callable[[Any], Any], key: str, value: Any) -> Any:
    """``value`` cleaned as it would be inside an object under ``key`` (the redaction rule
    also reads field names)."""
    return value if clean is as_is else clean({key: value})[key]


# --- backends ----------------------------------------------------------------------------


class Persistent:
    """A backend whose persisted state is its ``STATE``. Assigning a declared attribute while
    a store tracks the platform notes the change (``changes.py``)."""

    STATE: ClassVar[tuple[Field, ...]] = ()
    platform: PlatformPort

    def export(self) -> dict[str, Any]:
        return {f.key: f.dump(getattr(self, f.attr)) for f in self.STATE}

    def load(self, data: Mapping[str, Any], clean: Callable[[Any], Any] = as_is) -> None:
        """Replace the declared attributes with an export's (an absent one keeps its default),
        each value passed through ``clean`` (the redaction rule) as it is restored. The
        platform calls ``rebuild()`` once every backend is loaded."""
        data = self.upgrade(data)
        for f in self.STATE:
            if f.key in data:
                value = data[f.key]
                restored = f.restore(value, clean) if f.cleans else f.restore(cleaned(clean, f.key, value))
                setattr(self, f.attr, restored)

    def upgrade(self, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """An export written by an older version, in this version's form (the default: as is)."""
        return data

    def fill_defaults(self) -> None:
        """Give each declared attribute that ``__init__`` did not set its declared default."""
        for f in self.STATE:
            if f.default is not None and f.attr not in self.__dict__:
                setattr(self, f.attr, f.default())

    def rebuild(self) -> None:
        """Work out the derived (``_``) attributes from the persisted ones: after a load, a
        restore from the store, or a reset."""

    def __setattr__(self, name: str, value: Any) -> None:
        platform = self.__dict__.get("platform")
        changes = getattr(platform, "changes", None)
        if changes is not None and name in declared_attributes(type(self)):
            value = track_attribute(changes, self, name, value)
        object.__setattr__(self, name, value)


_DECLARED: dict[type, frozenset[str]] = {}


def declared_attributes(backend_class: type) -> frozenset[str]:
    names = _DECLARED.get(backend_class)
    if names is None:
        names = _DECLARED[backend_class] = frozenset(f.attr for f in getattr(backend_class, "STATE", ()))
    return names


def persisted(backend: Any) -> dict[str, Any]:
    """The backend's persisted attributes by name (what the store saves)."""
    return {f.attr: getattr(backend, f.attr) for f in backend.STATE}


def budget_key(charge: str, key: Hashable) -> Hashable:
    return (charge, *key) if isinstance(key, tuple) else (charge, key)


def recount(
    budget: StoreBudget, backends: Iterable[Any], measured: Mapping[str, Mapping[Hashable, int]] | None = None
) -> None:
    """Charge what the backends hold, as declared. ``measured``: charges already known, by
    ``charge`` and key (a store keeps each event log's), used instead of measuring."""
    for backend in backends:
        for f in backend.STATE:
            if f.charge is None:
                continue
            known = (measured or {}).get(f.charge, {})
            for key, value in getattr(backend, f.attr).items():
                size = known.get(key)
                budget.count(budget_key(f.charge, key), f.measure(value) if size is None else size)
