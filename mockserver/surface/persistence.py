"""``--state-file``: a SQLite store (WAL mode) holding the platform's records, saved behind the
request path.

Every change a request makes is noted (``changes.py``); a background thread writes what changed
since its last save, every ``interval`` seconds, in one transaction, outside the platform lock.
A save therefore costs what changed, never the whole state, and requests are answered meanwhile.
SQLite makes each save atomic: after SIGKILL the store holds the last committed save (WAL mode
commits are in the file as soon as they return, so a kill loses at most the last interval).
Choice, measurements and promises: docs/reliability.md, *State survives restarts and crashes*.

Every workspace is saved: rows are (workspace, table, key, index, kind, value, ...), the
default workspace under ``""``; see ``changes.py`` for tables and keys. ``kind`` says how to
read ``value`` back: JSON, JSON kept encoded (bytes), or a list header. A list (a run's event
log) is stored in blocks of up to ``BLOCK_ITEMS`` items, one row each (index = block number),
the items' encodings joined by newlines (compact JSON never holds a raw newline); an append
rewrites only the last block. Each row carries its item count and a CRC-32 of its value, so a
start reads a million events as a few thousand rows and checks them without decoding them.
Stored values are what the backends keep, and they keep no secret; loading redacts them again.
"""

from __future__ import annotations

import fcntl
import functools
import itertools
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..basics.errors import ApiError
from ..basics.jsonhttp import decoded_view
from ..basics.redact import redact_stored
from ..services.budget import event_data_size
from ..services.changes import ALL_KEYS, WHOLE, decode_key, encode_key
from ..services.platform import BACKENDS, PLATFORM_TABLE, Platform
from ..services.state import declared_attributes, persisted
from ..spec.state_check import event_problem, run_event_validator
from ..spec.surfaces import DEFAULT_WORKSPACE

if TYPE_CHECKING:
    from flask import Flask

    from .host import StoreHost

log = logging.getLogger("runagents_mock")

DEFAULT_INTERVAL = 0.25
# 1 was the JSON snapshot (``/_mock/state``'s export), 2 a row per list item: both are
# migrated on first start.
FORMAT = 3
SQLITE_MAGIC = b"SQLite format 3\x00"
JSON_VALUE, ENCODED_VALUE, LIST_HEADER = 0, 1, 2
EVENT_LOGS = "runs.events"  # the lists whose items are run events (sampled on load)
# Items per list block: a save rewrites the last block of each log appended to since the
# last save, at most this many events (~16 KB), however long the log; a start reads a million
# events as ~16,000 rows. (256 loads 20 % faster but a save that touches many runs then writes
# up to 4x more.) A store records the size it was written with.
BLOCK_ITEMS = 64


class StateFileError(Exception):
    """The state file cannot be used; the server refuses to start."""


# workspace, table, key, index, kind, value, position, items, crc, budget charge
Row = tuple[str, str, str, int, int, "bytes | None", int, int, int, int]
FIELDS = 10
# Rows per INSERT statement. One statement for many rows: sqlite3 releases the GIL for each
# statement it steps, and a saver that waits for the GIL once per row would fall behind a busy
# server (each wait can take the interpreter's switch interval, 5 ms).
BATCH_ROWS = 1000


@functools.lru_cache(maxsize=8)
def _upsert(rows: int) -> str:
    """An INSERT of ``rows`` rows. An update keeps the row's position (a dict keeps a replaced
    key where it was); a new key is added at the end, as a dict adds it."""
    values = ", ".join([f"({', '.join('?' * FIELDS)})"] * rows)
    return (
        f"INSERT INTO records VALUES {values} ON CONFLICT (workspace, tbl, k, i) DO UPDATE SET "
        "kind = excluded.kind, v = excluded.v, n = excluded.n, crc = excluded.crc, charge = excluded.charge"
    )


# --- the file ----------------------------------------------------------------------------


def resolve_store_path(path: Path) -> Path:
    """The file to open: symlinks followed (they keep pointing at their target); StateFileError
    when the path cannot hold a store."""
    real = Path(os.path.realpath(path))
    if real.exists() and not real.is_file():
        raise StateFileError(
            f"state file {path} is not a regular file" + (f" (it points at {real})" if real != path.absolute() else "")
        )
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateFileError(f"state file {path}: cannot create its directory: {exc.strerror}") from None
    if not os.access(real.parent, os.W_OK | os.X_OK):
        raise StateFileError(f"state file {path}: directory {real.parent} is not writable")
    if real.exists() and not os.access(real, os.R_OK | os.W_OK):
        raise StateFileError(f"state file {path} is not readable and writable")
    return real


def _migration_path(real: Path) -> Path:
    return real.with_name(real.name + ".migrating")


def _connect(real: Path, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        return sqlite3.connect(f"{real.as_uri()}?mode=ro", uri=True, timeout=1.0, check_same_thread=False)
    # A save that waits over a second for a lock (another program has the file open) fails
    # loudly and is retried, rather than stalling the saver.
    conn = sqlite3.connect(real, timeout=1.0, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a commit survives a killed process (it is in the WAL file); a power
    # cut may lose the last commits, never the store.
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def _create_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(f"""
        BEGIN;
        CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS records (
            workspace TEXT NOT NULL, tbl TEXT NOT NULL, k TEXT NOT NULL, i INTEGER NOT NULL,
            kind INTEGER NOT NULL, v BLOB, pos INTEGER NOT NULL,
            n INTEGER NOT NULL, crc INTEGER NOT NULL, charge INTEGER NOT NULL,
            PRIMARY KEY (workspace, tbl, k, i)) WITHOUT ROWID;
        INSERT OR IGNORE INTO meta VALUES ('format', '{FORMAT}');
        INSERT OR IGNORE INTO meta VALUES ('block_items', '{BLOCK_ITEMS}');
        COMMIT;""")


def _is_sqlite(real: Path) -> bool:
    with open(real, "rb") as fh:
        return fh.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC


# --- rows <-> values ---------------------------------------------------------------------


def _encode(value: Any) -> tuple[int, bytes]:
    if type(value) is bytes:
        return ENCODED_VALUE, value
    return JSON_VALUE, json.dumps(value, separators=(",", ":")).encode()


def _decode(kind: int, value: bytes) -> Any:
    return value if kind == ENCODED_VALUE else json.loads(value)


def _block_row(workspace: str, table: str, key: str, number: int, items: list[Any]) -> Row:
    """One block of a list: its items' encodings joined by newlines. Encoded items (run events)
    also carry what the byte budget charges for them, so a start need not measure them."""
    if type(items[0]) is bytes:
        kind, value, charge = ENCODED_VALUE, b"\n".join(items), sum(map(event_data_size, items))
    else:
        kind, charge = JSON_VALUE, 0
        value = b"\n".join([json.dumps(item, separators=(",", ":")).encode() for item in items])
    return workspace, table, key, number, kind, value, 0, len(items), zlib.crc32(value), charge


def _value_rows(
    workspace: str, table: str, key: str, value: Any, pos: int, block: int, first: int = 0, whole: bool = True
) -> Iterator[Row]:
    """Rows holding ``value`` (at position ``pos`` of its table); for a list, its header (when
    it is written whole) and its blocks of ``block`` items from item ``first`` (the first item
    of a block) on."""
    if not isinstance(value, list):
        kind, encoded = _encode(value)
        yield workspace, table, key, -1, kind, encoded, pos, 1, zlib.crc32(encoded), 0
        return
    if whole:
        yield workspace, table, key, -1, LIST_HEADER, None, pos, 0, 0, 0
    for offset in range(0, len(value), block):
        yield _block_row(workspace, table, key, (first + offset) // block, value[offset : offset + block])


def _block_items(kind: int, value: bytes, legacy: bool) -> list[Any]:
    """The items one stored block holds (a format 2 row holds one item)."""
    if legacy:
        return [_decode(kind, value)]
    if kind == ENCODED_VALUE:
        return value.split(b"\n")
    return json.loads(b"[" + value.replace(b"\n", b",") + b"]")


class Snapshot:
    """What one save writes of one workspace, taken under its platform's lock (references
    only: stored records never change after they are stored), encoded and written outside it."""

    def __init__(self) -> None:
        self.clear_all = False
        # (table, key or None for all keys, only the list items of the key)
        self.deletions: list[tuple[str, str | None, bool]] = []
        # table, key, value, first list item written, whether a list is written whole
        self.values: list[tuple[str, str, Any, int, bool]] = []

    def __bool__(self) -> bool:
        return self.clear_all or bool(self.deletions or self.values)


def _backend_by_section(platform: Platform) -> dict[str, Any]:
    return {key: getattr(platform, attribute) for attribute, key, _ in BACKENDS}


def _whole_state(platform: Platform, snap: Snapshot) -> None:
    snap.clear_all = True
    snap.values.append((PLATFORM_TABLE, "clock_offset", platform.clock.offset, 0, True))
    for section, backend in _backend_by_section(platform).items():
        for name, value in persisted(backend).items():
            if isinstance(value, dict):
                for key, item in value.items():
                    snap.values.append((f"{section}.{name}", encode_key(key), _frozen(item), 0, True))
            else:
                snap.values.append((section, name, _frozen(value), 0, True))


def _frozen(value: Any) -> Any:
    """Lists grow in place (event logs): a save takes a copy of the list, not of its items."""
    return list(value) if isinstance(value, list) else value


def _changed_state(platform: Platform, marks: dict[tuple[str, Any], int], snap: Snapshot, block: int) -> None:
    backends = _backend_by_section(platform)
    for (table, key), from_index in marks.items():
        if table == PLATFORM_TABLE:
            snap.values.append((PLATFORM_TABLE, "clock_offset", platform.clock.offset, 0, True))
            continue
        section, _, name = table.partition(".")
        backend = backends.get(section)
        if backend is None:
            continue
        if not name:  # an attribute that is not a dict
            _add_value(snap, table, key, getattr(backend, key), from_index, block)
            continue
        container = getattr(backend, name)
        if key is ALL_KEYS:
            snap.deletions.append((table, None, False))
            for item_key, item in container.items():
                snap.values.append((table, encode_key(item_key), _frozen(item), 0, True))
        elif key in container:
            _add_value(snap, table, encode_key(key), container[key], from_index, block)
        else:
            snap.deletions.append((table, encode_key(key), False))


def _add_value(snap: Snapshot, table: str, key: str, value: Any, from_index: int, block: int) -> None:
    if isinstance(value, list) and from_index != WHOLE:
        first = (from_index - 1) // block * block  # the block holding the first new item, on
        snap.values.append((table, key, value[first:], first, False))
        return
    snap.deletions.append((table, key, True))  # the value replaces any list that was there
    snap.values.append((table, key, _frozen(value), 0, True))


def _store_name(workspace: str) -> str:
    """A workspace's name in the store's rows: the default workspace is ``""``."""
    return "" if workspace == DEFAULT_WORKSPACE else workspace


def _matches(value: Any, crc: int) -> bool:
    return type(value) is bytes and zlib.crc32(value) == crc


def _holds_encoded(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and type(value[0]) is bytes


# --- the store -----------------------------------------------------------------------------


class Store:
    """One state file holding every workspace: restore into a server, then keep saving what
    changed."""

    def __init__(self, path: Path):
        self.path = path  # as the user gave it, for messages
        self.real = resolve_store_path(path)
        self.conn: sqlite3.Connection | None = None
        self.server: StoreHost | None = None  # set by open()
        self.block_items = BLOCK_ITEMS  # what this store was written with
        self._saved: dict[str, Platform] = {}  # store name -> the platform its rows hold
        self._seen_version = -1  # the workspaces' version when _saved was taken
        # The workspaces changed since the last save: each platform's change set adds its name
        # when it goes from saved to changed, so a save never visits an idle workspace.
        self._dirty: set[str] = set()
        self._dirty_lock = threading.Lock()
        self._pos = itertools.count(1)  # the next row position
        self._lock_fd: int | None = None  # the lock that keeps a second server off this file

    # restore --------------------------------------------------------------------------

    def open(self, server: StoreHost) -> None:
        """Load the store (or migrate a JSON state file or an older store) into the server;
        StateFileError when it cannot be used. The file is only ever written once it loaded
        and validated."""
        self._take_lock()
        _remove_stale(_migration_path(self.real))
        self.server = server
        try:
            if not self.real.exists():
                # A new store starts with the state the server has (a --seed fixture's): every
                # workspace is written whole by the first save.
                self._create_empty()
                self.conn = _connect(self.real)
                return
            if not _is_sqlite(self.real):
                self._migrate_json(server)
                return
            # Read through a read-only connection: a store that is refused is left byte for
            # byte as it was (a read-write one would already switch it to WAL mode). Unless its
            # WAL has no shared-memory file beside it: SQLite must write one to read that WAL.
            needs_recovery = Path(f"{self.real}-wal").exists() and not Path(f"{self.real}-shm").exists()
            self.conn = _connect(self.real, read_only=not needs_recovery)
            if self._read_format() == 2:
                self._migrate_v2(server)
            else:
                self._load(server)
                self.reopen()
        except StateFileError:
            self.close()
            raise
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:  # not what was stored
            self.close()
            raise StateFileError(f"state file {self.path} is inconsistent: {exc}") from None
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StateFileError(f"state file {self.path} cannot be used: {exc}") from None
        except OSError as exc:
            self.close()
            raise StateFileError(f"state file {self.path} cannot be used: {exc.strerror or exc}") from None

    def _create_empty(self) -> None:
        """A new store, made beside the path and renamed into place: a crash never leaves a
        half-made (or empty) file under the path."""
        temp = _migration_path(self.real)
        try:
            conn = _connect(temp)
            _create_schema(conn)
            conn.close()
            os.replace(temp, self.real)
        finally:
            _remove_stale(temp)

    def _read_format(self) -> int:
        meta = dict(self.conn.execute("SELECT k, v FROM meta").fetchall())
        if meta.get("format") not in ("2", str(FORMAT)):
            raise StateFileError(
                f"state file {self.path} has format {meta.get('format')}, this version reads formats 2 and {FORMAT}"
            )
        if meta["format"] == str(FORMAT):
            block = meta.get("block_items", "")
            if not block.isdigit() or int(block) < 1:
                raise StateFileError(f"state file {self.path} is inconsistent: block_items {block!r}")
            self.block_items = int(block)
        return int(meta["format"])

    def _inconsistent(self, what: str) -> StateFileError:
        return StateFileError(f"state file {self.path} is inconsistent: {what}")

    def _read(self, server: StoreHost, legacy: bool = False) -> dict[str, tuple[Platform, list[tuple[str, Any]]]]:
        """Every workspace's rows into its platform (a named one is created); per workspace,
        the values that were redacted again (to be saved redacted). Checks the rows' shape,
        checksums and the run events' first and last of each block, not the whole state."""
        server.workspaces.reset_all()  # the store's state, whatever a fixture put there
        self._seen_version = -1
        last = self.conn.execute("SELECT MAX(pos) FROM records").fetchone()[0]
        self._pos = itertools.count((last or 0) + 1)
        loaded = {}
        for (name,) in self.conn.execute("SELECT DISTINCT workspace FROM records").fetchall():
            platform = self._platform_for(server, name)
            loaded[name] = (platform, self._load_rows(server, platform, name, legacy))
        return loaded

    def _platform_for(self, server: StoreHost, name: str) -> Platform:
        if name == "":
            return server.platform
        try:
            return server.workspaces.get(name)
        except ApiError as exc:
            raise StateFileError(f"state file {self.path} holds workspace {name!r}: {exc.message}") from None

    def _load_rows(self, server: StoreHost, platform: Platform, ws: str, legacy: bool) -> list[tuple[str, Any]]:
        backends = _backend_by_section(platform)
        restored: dict[str, dict[str, Any]] = {section: {} for section in backends}
        offset = 0.0
        lists: dict[tuple[str, str], list[Any]] = {}
        crc_column, n_column, charge_column = ("NULL", "1", "NULL") if legacy else ("crc", "n", "charge")
        # Values in the order they were added (as the dicts held them), then list items in order.
        for table, key, kind, value, crc in self.conn.execute(
            f"SELECT tbl, k, kind, v, {crc_column} FROM records WHERE workspace = ? AND i = -1 ORDER BY pos", (ws,)
        ):
            if kind == LIST_HEADER:
                decoded = lists[(table, key)] = []
            else:
                if crc is not None and not _matches(value, crc):
                    raise self._inconsistent(f"{table} {key} does not match its checksum")
                decoded = _decode(kind, value)
            if table == PLATFORM_TABLE:
                offset = float(decoded)
                continue
            section, _, name = table.partition(".")
            if section not in restored:
                raise StateFileError(f"state file {self.path} holds an unknown table {table}")
            attribute = name or key
            if attribute not in declared_attributes(type(backends[section])):
                raise StateFileError(f"state file {self.path} holds an unknown field {section}.{attribute}")
            if name:
                restored[section].setdefault(name, {})[decode_key(key)] = decoded
            else:
                restored[section][key] = decoded
        charges = self._load_blocks(server, ws, lists, legacy, f"{n_column}, {crc_column}, {charge_column}")
        redacted = _redact_restored(restored)
        with platform.lock:
            platform.clock.set_offset(offset)
            for section, attributes in restored.items():
                backend = backends[section]
                for name, value in attributes.items():
                    setattr(backend, name, value)
            # Derived state rebuilt and the budget charged as after any load; event logs by the
            # charge stored with each block.
            platform.restored(None if charges is None else {"events": charges})
        return redacted

    def _load_blocks(
        self, server: StoreHost, ws: str, lists: dict[tuple[str, str], list[Any]], legacy: bool, columns: str
    ) -> dict[str, int] | None:
        """Fill the lists from their blocks; the budget charge of each run's events (None for
        a format 2 store, which has none). Blocks must be numbered 0..n-1, all full but the
        last, match their checksum and item count; a run event log's first and last event of
        each block must be valid and numbered where they are (the checksum says the rest are
        the bytes the mock wrote, each checked on its way in)."""
        block = 1 if legacy else self.block_items
        charges: dict[str, int] | None = None if legacy else {}
        validator = run_event_validator(server.spec, server.v1_spec)
        current: tuple[str, str] | None = None
        items: list[Any] = []
        expected = previous = 0
        for table, key, number, kind, value, n, crc, charge in self.conn.execute(
            f"SELECT tbl, k, i, kind, v, {columns} FROM records WHERE workspace = ? AND i >= 0 ORDER BY tbl, k, i",
            (ws,),
        ):
            if (table, key) != current:
                current, expected, previous = (table, key), 0, block
                if current not in lists:
                    raise self._inconsistent(f"{table} {key}: list items that belong to no list")
                items = lists[current]
            if number != expected or previous != block:
                raise self._inconsistent(f"{table} {key} has items missing from its list")
            expected, previous = expected + 1, n
            if crc is not None and not _matches(value, crc):
                raise self._inconsistent(f"{table} {key}: block {number} does not match its checksum")
            part = _block_items(kind, value, legacy)
            if len(part) != n or not 0 < n <= block:
                raise self._inconsistent(f"{table} {key}: block {number} holds {len(part)} items, not {n}")
            if table == EVENT_LOGS and charges is not None:
                run_id = decode_key(key)
                for index in {0, n - 1}:
                    problem = event_problem(validator, run_id, number * block + index, json.loads(part[index]))
                    if problem:
                        raise StateFileError(f"state file {self.path} cannot be loaded: {problem}")
                charges[run_id] = charges.get(run_id, 0) + charge
            items.extend(part)
        return charges

    def _load(self, server: StoreHost) -> None:
        """A store of this format: read, checked (the whole state but the event logs, which
        the blocks' checks cover), then tracked for saving."""
        loaded = self._read(server)
        self._check(server, loaded, events_checked=True)
        for name, (platform, redacted) in loaded.items():
            with platform.lock:
                platform.track_changes(self._noter(name)).take()  # what was just loaded is saved already
                for table, key in redacted:  # ... but for values redacted again: saved redacted
                    platform.changes.mark(table, key)
            self._saved[name] = platform

    def _check(self, server: StoreHost, loaded: dict[str, tuple[Platform, Any]], events_checked: bool) -> None:
        for name, (platform, _) in loaded.items():
            problem = _state_problem(server, platform, events_checked)
            if problem:
                where = f"workspace {name}: " if name else ""
                raise StateFileError(f"state file {self.path} cannot be loaded: {where}{problem}")

    def _migrate_v2(self, server: StoreHost) -> None:
        """A format 2 store (one row per list item): read and checked as a ``PUT /_mock/state``
        (every event decoded), then written into a new store put in place of it. The old file
        is kept beside it as ``<name>.v2.sqlite``."""
        self._check(server, self._read(server, legacy=True), events_checked=False)
        # Its WAL merged into it and removed (a WAL left beside the new store would be read into it).
        self.reopen()
        self.conn.execute("PRAGMA journal_mode=DELETE")
        self._replace_with_new_store(".v2.sqlite")
        log.info(
            "state file %s migrated to store format %d (the old store is kept as %s)",
            self.path,
            FORMAT,
            self.real.name + ".v2.sqlite",
        )

    def _migrate_json(self, server: StoreHost) -> None:
        """A JSON state file (format 1): validated, loaded, then replaced by a store holding the
        same state. The JSON file is kept beside it as ``<name>.v1.json``."""
        try:
            state = json.loads(self.real.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise StateFileError(
                f"state file {self.path} is corrupt (not JSON: {exc}); move it away to start empty"
            ) from None
        try:
            server.load_state(state)
        except ValueError as exc:
            raise StateFileError(f"state file {self.path} cannot be loaded: {exc}") from None
        self._replace_with_new_store(".v1.json")
        log.info(
            "state file %s migrated from JSON to the SQLite store (the JSON file is kept as %s)",
            self.path,
            self.real.name + ".v1.json",
        )

    def _replace_with_new_store(self, keep_as: str) -> None:
        """Write the server's state into a new store beside the path, then rename it over the
        file it replaces, which is kept as ``<name><keep_as>``: at any crash, PATH is either the
        old file (migrated again at the next start) or the complete new store."""
        temp = _migration_path(self.real)
        self.close(keep_lock=True)
        try:
            conn = self.conn = _connect(temp)
            _create_schema(conn)
            self.block_items, self._saved, self._seen_version = BLOCK_ITEMS, {}, -1
            self.save()  # every workspace, whole
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.close(keep_lock=True)
            _keep_copy(self.real, self.real.with_name(self.real.name + keep_as))
            os.replace(temp, self.real)
        except (sqlite3.Error, OSError) as exc:
            self.close(keep_lock=True)
            _remove_stale(temp)
            raise StateFileError(f"state file {self.path} could not be migrated: {exc}") from None
        self.conn = _connect(self.real)

    # save -----------------------------------------------------------------------------

    def _noter(self, name: str) -> Any:
        """What a workspace's change set calls when it goes from saved to changed."""

        def changed() -> None:
            with self._dirty_lock:
                self._dirty.add(name)

        return changed

    def save(self) -> int:
        """Write what changed in every workspace since the last save; the number of rows
        written. Only workspaces that changed are visited (an idle one costs nothing); one new
        since then (or recreated by a reset) is written whole, a dropped one deleted. On an
        error the changes stay pending (the next save writes them) and the error is raised."""
        workspaces = self.server.workspaces
        with self._dirty_lock:
            dirty, self._dirty = self._dirty, set()
        version = workspaces.version
        current, dropped = self._saved, []
        if version != self._seen_version:  # a workspace was created or dropped: list them
            current = {_store_name(name): platform for name, platform in workspaces.platforms()}
            dirty.update(name for name, platform in current.items() if self._saved.get(name) is not platform)
            dropped = [name for name in self._saved if name not in current]
        taken = []
        for name in sorted(dirty):
            platform = current.get(name)
            if platform is None:
                continue  # dropped since it changed
            with platform.lock:
                if self._saved.get(name) is not platform or platform.changes is None:
                    platform.track_changes(self._noter(name))  # not saved yet: everything is written
                everything, marks = platform.changes.take()
                snap = Snapshot()
                if everything:
                    _whole_state(platform, snap)
                else:
                    _changed_state(platform, marks, snap, self.block_items)
            taken.append((name, platform, everything, marks, snap))
        if not dropped and not any(snap for *_, snap in taken):
            self._saved, self._seen_version = current, version
            return 0
        try:
            written = self._write(taken, dropped)
        except BaseException:
            for _, platform, everything, marks, _ in taken:
                with platform.lock:
                    platform.changes.give_back(everything, marks)  # noted dirty again
            raise
        self._saved, self._seen_version = current, version
        return written

    def _write(self, taken: list[tuple[Any, ...]], dropped: list[str]) -> int:
        conn = self.conn
        if conn is None:
            raise sqlite3.OperationalError("the store is closed")
        rows = 0
        pending: list[Any] = []
        conn.execute("BEGIN")
        try:
            for ws in dropped:
                conn.execute("DELETE FROM records WHERE workspace = ?", (ws,))
            for ws, _, _, _, snap in taken:
                if snap.clear_all:
                    conn.execute("DELETE FROM records WHERE workspace = ?", (ws,))
                for table, key, items_only in snap.deletions:
                    if key is None:
                        conn.execute("DELETE FROM records WHERE workspace = ? AND tbl = ?", (ws, table))
                    else:
                        conn.execute(
                            "DELETE FROM records WHERE workspace = ? AND tbl = ? AND k = ? AND i >= ?",
                            (ws, table, key, 0 if items_only else -1),
                        )
                for table, key, value, first, whole in snap.values:
                    for row in _value_rows(ws, table, key, value, next(self._pos), self.block_items, first, whole):
                        pending.extend(row)
                        if len(pending) >= BATCH_ROWS * FIELDS:
                            rows += self._insert(pending)
            rows += self._insert(pending)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return rows

    def _insert(self, flat: list[Any]) -> int:
        """Write the rows whose fields ``flat`` holds one after another; empties it."""
        count = len(flat) // FIELDS
        if count:
            self.conn.execute(_upsert(count), flat)
            flat.clear()
        return count

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def close(self, keep_lock: bool = False) -> None:
        """Close the connection; and, unless ``keep_lock`` (the process goes on using the
        file: a forked worker reopens it), let another server have the file."""
        if self.conn is not None:
            try:
                self.conn.close()
            except sqlite3.Error:
                pass
            self.conn = None
        if not keep_lock:
            self._release_lock()

    def reopen(self) -> None:
        """A fresh connection (in a forked worker: a connection must not cross a fork)."""
        self.close(keep_lock=True)
        self._take_lock()
        self.conn = _connect(self.real)

    # the lock ---------------------------------------------------------------------------

    def _take_lock(self) -> None:
        """Hold ``<file>.lock`` for as long as this server uses the file: a second server on
        the same file would overwrite the first one's saves, so it is refused (StateFileError
        naming the process that holds it). A forked worker shares its parent's lock; the
        process holding the lock, and a worker it started afresh, may open the file again."""
        if self._lock_fd is not None:
            return
        lock_path = lock_file(self.real)
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StateFileError(
                f"state file {self.path}: cannot create its lock file {lock_path}: {exc.strerror}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _lock_holder(fd)
            os.close(fd)
            if holder is not None and holder in (os.getpid(), os.getppid()):
                # This process (a test reading the store it serves) or our own server's worker
                # started afresh: the lock is held for them already.
                return
            who = f"pid {holder}" if holder else "a process that did not say its pid"
            raise StateFileError(
                f"state file {self.path} is in use by another runagents-mock ({who}); "
                "stop it or choose another --state-file"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            # Closed, not unlocked: a forked worker shares the lock, which holds until every
            # process sharing it closed it.
            os.close(self._lock_fd)
            self._lock_fd = None


def lock_file(real: Path) -> Path:
    """The lock file beside a store (``<name>.lock``)."""
    return real.with_name(real.name + ".lock")


def _lock_holder(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _redact_restored(restored: dict[str, dict[str, Any]]) -> list[tuple[str, Any]]:
    """Pass restored values through the redaction rule again (a store edited by hand must not
    serve a secret); the (table, key) of each value it changed. Event logs are left as they
    are: their blocks' checksums say they are the bytes the mock wrote, redacted on the way in."""
    changed: list[tuple[str, Any]] = []
    for section, attributes in restored.items():
        for name, value in attributes.items():
            if isinstance(value, dict):
                for key, item in value.items():
                    if not _holds_encoded(item):
                        clean = redact_stored(item)
                        if clean != item:
                            value[key] = clean
                            changed.append((f"{section}.{name}", key))
            elif not _holds_encoded(value):
                clean = redact_stored(value)
                if clean != value:
                    attributes[name] = clean
                    changed.append((section, name))
    return changed


def _keep_copy(source: Path, copy: Path) -> None:
    """``copy`` holds what ``source`` holds now (a hard link when the file system allows it)."""
    _remove_stale(copy)
    try:
        os.link(source, copy)
    except OSError:
        shutil.copyfile(source, copy)


def _remove_stale(path: Path) -> None:
    """A file an interrupted migration left behind."""
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        try:
            leftover.unlink()
        except FileNotFoundError:
            pass


def _state_problem(server: StoreHost, platform: Platform, events_checked: bool = False) -> str | None:
    """What ``PUT /_mock/state`` would say of the platform's state; with ``events_checked``
    the event logs' contents are not looked at again (the store checked them)."""
    records = platform.export_records()
    if events_checked:
        runs = records["runs"]
        records["runs"] = {**runs, "events": dict.fromkeys(runs["events"], [])}
    return server.state_problem(decoded_view(records))


# --- saving in the background ----------------------------------------------------------


class StateSaver:
    """Saves what changed every ``interval`` seconds on a thread; loud when saving fails."""

    def __init__(self, store: Store, interval: float = DEFAULT_INTERVAL):
        self.store = store
        self.interval = interval
        self.last_saved_at: float | None = None
        self.failures = 0
        self.error: str | None = None
        self._logged_kinds: set[str] = set()
        self._stop = threading.Event()
        self._save_lock = threading.Lock()
        self._stopped: bool | None = None  # stop()'s answer, once stopped
        self._thread = threading.Thread(target=self._run, name="state-saver", daemon=True)

    def start(self) -> StateSaver:
        self._thread.start()
        return self

    def save(self) -> bool:
        """One save; False (and the error noted, logged once per kind) when it failed."""
        with self._save_lock:
            try:
                self.store.save()
            except (sqlite3.Error, OSError) as exc:
                self._failed(exc)
                return False
            if self.error is not None:
                log.warning("state file %s: saving works again", self.store.path)
            self.error = None
            self.last_saved_at = time.time()
            return True

    def save_import(self) -> dict[str, Any]:
        """Save now, for ``PUT /_mock/state``: an import is saved before it is acknowledged
        (a large one would otherwise be written by the background saver while the writes
        that follow it wait for that save). What the answer adds: ``durable`` and, when the
        save failed (it is retried in the background), the error."""
        if self.save():
            return {"durable": True}
        return {"durable": False, "error": f"not saved yet, retrying: {self.error}"}

    def _failed(self, exc: BaseException) -> None:
        self.failures += 1
        message = f"{type(exc).__name__}: {exc}"
        self.error = message
        if message not in self._logged_kinds:
            self._logged_kinds.add(message)
            log.error(
                "runagents-mock: cannot save state file %s (%s); retrying, changes are kept in memory",
                self.store.path,
                message,
            )

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.save()

    def status(self) -> dict[str, Any]:
        """For ``GET /_mock/health``."""
        return {
            "path": str(self.store.path),
            "saving": "failing" if self.error else "ok",
            "error": self.error,
            "failed_saves": self.failures,
            "last_saved_at": self.last_saved_at,
            "interval_seconds": self.interval,
        }

    def stop(self, attempts: int = 3) -> bool:
        """Stop the thread and save the rest (retried); False when it could not be saved."""
        if self._stopped is not None:
            return self._stopped
        self._stopped = self._stop_and_save(attempts)
        return self._stopped

    def _stop_and_save(self, attempts: int) -> bool:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        for attempt in range(attempts):
            if self.save():
                try:
                    self.store.set_meta("last_stop", "clean")
                except sqlite3.Error:
                    pass
                self.store.close()
                return True
            time.sleep(0.2 * (attempt + 1))
        self.store.close()  # the caller reports it (serve exits non-zero)
        return False


def restore_state_file(app: Flask) -> Store:
    """Open (and validate, or migrate) the app's state file into its state; StateFileError
    when it cannot be used."""
    server = app.extensions["runagents_mock"]
    store = Store(Path(server.config.state_file))
    store.open(server)
    server.store = store
    return store


def attach_state_file(app: Flask, store: Store | None = None, interval: float = DEFAULT_INTERVAL) -> StateSaver:
    """Keep saving the app's state to its (restored) store; ``stop()`` the saver for the last
    save. The saver's status is served by ``GET /_mock/health``."""
    server = app.extensions["runagents_mock"]
    if store is None:
        store = restore_state_file(app)
    else:
        store.reopen()
    store.set_meta("last_stop", "running")
    saver = StateSaver(store, interval).start()
    server.state_saver = saver
    return saver


def store_files(path: Path) -> Iterable[Path]:
    """The files a store is kept in (the database and SQLite's write-ahead log)."""
    real = Path(os.path.realpath(path))
    return [p for p in (real, Path(f"{real}-wal"), Path(f"{real}-shm")) if p.exists()]


def stopped_cleanly(path: Path) -> bool:
    """Whether the last server on this store saved everything when it stopped (the granian
    worker's saver runs in another process; ``serve`` asks the store)."""
    try:
        conn = sqlite3.connect(f"file:{os.path.realpath(path)}?mode=rw", uri=True)
        try:
            row = conn.execute("SELECT v FROM meta WHERE k = 'last_stop'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return row is not None and row[0] == "clean"
