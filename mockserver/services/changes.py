"""What changed in a platform's state since the store last saved it.

The store (``persistence.py``) saves only what changed, so it has to learn about each change
without scanning the state. ``track()`` swaps every dict and list a backend declares in its
``STATE`` (``state.py``) for a tracked subclass that notes the keys it changes in the platform's
``ChangeSet``; assigning a declared attribute notes it too (``Persistent.__setattr__``), so no
save has to look for what changed. A change set that goes from clean to changed calls its
``on_change`` once (the store keeps the set of workspaces to save: an idle one costs nothing).

The address of a stored value is (table, key, index):
- a dict attribute ``attr`` of the backend exported as ``section`` is table ``section.attr``,
  each entry a key (``json.dumps`` of the dict key);
- any other attribute is a key of table ``section`` (key: the attribute's name);
- a list (an attribute, or a dict entry such as one run's event log) is an append-only log:
  an appended item marks only itself, any other change marks the whole list.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from ..basics.clock import Clock

# A mark's "from" is the 1-based position of the first changed item of a list; WHOLE (0)
# means the whole value changed.
WHOLE = 0
# A key mark on a whole table: every row of the table is rewritten.
ALL_KEYS = object()


class ChangeSet:
    """(table, key) -> where the value changed (see WHOLE), plus a flag for "everything changed"
    (a reset or a load replaced all state)."""

    def __init__(self, on_change: Callable[[], None] | None = None) -> None:
        self.marks: dict[tuple[str, Any], int] = {}
        self.everything = True  # nothing is saved yet
        self.on_change = on_change
        self.dirty = True  # its maker saves it whole: no need to be told

    def _changed(self) -> None:
        if not self.dirty:
            self.dirty = True
            if self.on_change is not None:
                self.on_change()

    def mark(self, table: str, key: Any, from_index: int = WHOLE) -> None:
        address = (table, key)
        known = self.marks.get(address)
        if known is None or from_index < known:
            self.marks[address] = from_index
        if not self.dirty:
            self._changed()

    def mark_everything(self) -> None:
        self.everything = True
        self._changed()

    def take(self) -> tuple[bool, dict[tuple[str, Any], int]]:
        """What changed since the last take (call under the platform lock)."""
        everything, marks = self.everything, self.marks
        self.everything, self.marks, self.dirty = False, {}, False
        return everything, marks

    def give_back(self, everything: bool, marks: dict[tuple[str, Any], int]) -> None:
        """Marks taken for a save that failed: they are saved with the next attempt."""
        if everything:
            self.mark_everything()
        for (table, key), from_index in marks.items():
            self.mark(table, key, from_index)


class TrackedList(list[Any]):
    """A list that notes which of its items changed: appends mark only the new items."""

    __slots__ = ("changes", "table", "key")

    def __init__(self, items: Iterable[Any], changes: ChangeSet, table: str, key: Any):
        super().__init__(items)
        self.changes, self.table, self.key = changes, table, key

    def _whole(self) -> None:
        self.changes.mark(self.table, self.key)

    def append(self, item: Any) -> None:
        self.changes.mark(self.table, self.key, len(self) + 1)
        super().append(item)

    def extend(self, items: Iterable[Any]) -> None:
        self.changes.mark(self.table, self.key, len(self) + 1)
        super().extend(items)

    def __iadd__(self, items: Iterable[Any]) -> TrackedList:  # type: ignore[misc]
        self.extend(items)
        return self

    def __setitem__(self, index: Any, value: Any) -> None:
        self._whole()
        super().__setitem__(index, value)

    def __delitem__(self, index: Any) -> None:
        self._whole()
        super().__delitem__(index)

    def insert(self, index: Any, value: Any) -> None:
        self._whole()
        super().insert(index, value)

    def pop(self, index: Any = -1) -> Any:
        self._whole()
        return super().pop(index)

    def remove(self, value: Any) -> None:
        self._whole()
        super().remove(value)

    def clear(self) -> None:
        self._whole()
        super().clear()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        self._whole()
        super().sort(*args, **kwargs)

    def reverse(self) -> None:
        self._whole()
        super().reverse()


class TrackedDict(dict[Any, Any]):
    """A dict that notes which keys were set or removed; list values become TrackedLists."""

    __slots__ = ("changes", "table")

    def __init__(self, items: Any, changes: ChangeSet, table: str):
        super().__init__()
        self.changes, self.table = changes, table
        for key, value in dict(items).items():
            dict.__setitem__(self, key, self._tracked(key, value))

    def _tracked(self, key: Any, value: Any) -> Any:
        if type(value) is list or (isinstance(value, TrackedList) and value.changes is not self.changes):
            return TrackedList(value, self.changes, self.table, key)
        return value

    def __setitem__(self, key: Any, value: Any) -> None:
        self.changes.mark(self.table, key)
        dict.__setitem__(self, key, self._tracked(key, value))

    def __delitem__(self, key: Any) -> None:
        dict.__delitem__(self, key)
        self.changes.mark(self.table, key)

    def pop(self, key: Any, *default: Any) -> Any:
        if key in self:
            self.changes.mark(self.table, key)
        return dict.pop(self, key, *default)

    def popitem(self) -> tuple[Any, Any]:
        key, value = dict.popitem(self)
        self.changes.mark(self.table, key)
        return key, value

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return dict.__getitem__(self, key)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other: Any) -> TrackedDict:  # type: ignore[misc]
        self.update(other)
        return self

    def clear(self) -> None:
        self.changes.mark(self.table, ALL_KEYS)
        dict.clear(self)


def track_attribute(changes: ChangeSet, backend: Any, name: str, value: Any) -> Any:
    """A declared attribute is being set: the value to keep (a tracked container in place of a
    plain one), the change noted. Before the platform named the backend's section (while it
    is built) nothing is noted: the platform tracks every backend once they are built."""
    section = backend.__dict__.get("_section")
    if section is None:
        return value
    if isinstance(value, dict):
        table = f"{section}.{name}"
        if not (isinstance(value, TrackedDict) and value.changes is changes):
            value = TrackedDict(value, changes, table)
        changes.mark(table, ALL_KEYS)
    elif isinstance(value, list):
        if not (isinstance(value, TrackedList) and value.changes is changes):
            value = TrackedList(value, changes, section, name)
        changes.mark(section, name)
    else:
        changes.mark(section, name)
    return value


def track(changes: ChangeSet, section: str, backend: Any) -> None:
    """Put tracked containers in place of the backend's plain ones (every declared attribute
    is marked changed)."""
    object.__setattr__(backend, "_section", section)
    for name in (f.attr for f in backend.STATE):
        value = getattr(backend, name)
        object.__setattr__(backend, name, track_attribute(changes, backend, name, value))


class WatchedClock(Clock):
    """The platform's clock as the platform hands it out: moving it notes the change (the
    store saves the clock offset). Every call goes to the clock it wraps (shared with others)."""

    def __init__(self, clock: Clock, on_move: Callable[[], None]):  # no super(): it holds no time itself
        self.clock, self._on_move = clock, on_move

    def now(self) -> float:
        return self.clock.now()

    @property
    def offset(self) -> float:
        return self.clock.offset

    def advance(self, seconds: float) -> float:
        offset = self.clock.advance(seconds)
        self._on_move()
        return offset

    def set_offset(self, seconds: float) -> None:
        self.clock.set_offset(seconds)
        self._on_move()

    def reset(self) -> None:
        self.clock.reset()
        self._on_move()


def encode_key(key: Any) -> str:
    """A dict key as stored: JSON (tuple keys become lists, turned back by ``decode_key``)."""
    return json.dumps(list(key) if isinstance(key, tuple) else key, separators=(",", ":"))


def decode_key(text: str) -> Any:
    key = json.loads(text)
    return tuple(key) if isinstance(key, list) else key
