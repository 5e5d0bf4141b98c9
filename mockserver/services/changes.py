"""What changed in a platform's state since the store last saved it.

The store (``persistence.py``) saves only what changed, so it has to learn about each change
without scanning the state. ``track()`` swaps every dict and list a backend keeps for a tracked
subclass that notes the keys it changes in the platform's ``ChangeSet``: any backend listed in
``platform.BACKENDS`` is covered without naming its fields anywhere.

The address of a stored value is (table, key, index):
- a dict attribute ``attr`` of the backend exported as ``section`` is table ``section.attr``,
  each entry a key (``json.dumps`` of the dict key);
- any other attribute is a key of table ``section`` (key: the attribute's name);
- a list (an attribute, or a dict entry such as one run's event log) is an append-only log:
  an appended item marks only itself, any other change marks the whole list.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

# A mark's "from" is the 1-based position of the first changed item of a list; WHOLE (0)
# means the whole value changed.
WHOLE = 0
# A key mark on a whole table: every row of the table is rewritten.
ALL_KEYS = object()


class ChangeSet:
    """(table, key) -> where the value changed (see WHOLE), plus a flag for "everything changed"
    (a reset or a load replaced all state)."""

    def __init__(self) -> None:
        self.marks: dict[tuple[str, Any], int] = {}
        self.everything = True  # nothing is saved yet

    def mark(self, table: str, key: Any, from_index: int = WHOLE) -> None:
        address = (table, key)
        known = self.marks.get(address)
        if known is None or from_index < known:
            self.marks[address] = from_index

    def take(self) -> tuple[bool, dict[tuple[str, Any], int]]:
        """What changed since the last take (call under the platform lock)."""
        everything, marks = self.everything, self.marks
        self.everything, self.marks = False, {}
        return everything, marks

    def give_back(self, everything: bool, marks: dict[tuple[str, Any], int]) -> None:
        """Marks taken for a save that failed: they are saved with the next attempt."""
        self.everything = self.everything or everything
        for (table, key), from_index in marks.items():
            self.mark(table, key, from_index)


class TrackedList(list):
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

    def __iadd__(self, items: Iterable[Any]) -> "TrackedList":
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


class TrackedDict(dict):
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

    def __ior__(self, other: Any) -> "TrackedDict":
        self.update(other)
        return self

    def clear(self) -> None:
        self.changes.mark(self.table, ALL_KEYS)
        dict.clear(self)


def attribute_tables(section: str, backend: Any) -> dict[str, Any]:
    """The backend's persisted attributes: all but its link to the platform and those named
    ``_...``, which hold what is derived from the others (indexes, caches)."""
    return {name: value for name, value in vars(backend).items()
            if name != "platform" and not name.startswith("_")}


def track(changes: ChangeSet, section: str, backend: Any) -> bool:
    """Put tracked containers in place of the backend's plain ones; True if any was plain
    (then the whole backend is marked changed: something replaced a container wholesale)."""
    replaced = False
    for name, value in attribute_tables(section, backend).items():
        if isinstance(value, dict) and not (isinstance(value, TrackedDict) and value.changes is changes):
            table = f"{section}.{name}"
            setattr(backend, name, TrackedDict(value, changes, table))
            changes.mark(table, ALL_KEYS)
            replaced = True
        elif isinstance(value, list) and not (isinstance(value, TrackedList) and value.changes is changes):
            setattr(backend, name, TrackedList(value, changes, section, name))
            changes.mark(section, name)
            replaced = True
    return replaced


def encode_key(key: Any) -> str:
    """A dict key as stored: JSON (tuple keys become lists, turned back by ``decode_key``)."""
    return json.dumps(list(key) if isinstance(key, tuple) else key, separators=(",", ":"))


def decode_key(text: str) -> Any:
    key = json.loads(text)
    return tuple(key) if isinstance(key, list) else key
