"""``--state-file``: a SQLite store (WAL mode) holding the platform's records, saved behind the
request path.

Every change a request makes is noted (``changes.py``); a background thread writes what changed
since its last save, every ``interval`` seconds, in one transaction, outside the platform lock.
A save therefore costs what changed, never the whole state, and requests are answered meanwhile.
SQLite makes each save atomic: after SIGKILL the store holds the last committed save (WAL mode
commits are in the file as soon as they return, so a kill loses at most the last interval).
Choice, measurements and promises: docs/reliability.md, *State survives restarts and crashes*.

Rows: (workspace, table, key, index, kind, value); see ``changes.py`` for tables and keys.
``kind`` says how to read ``value`` back: JSON, JSON kept encoded (bytes), or a list header.
Stored values are what the backends keep, and they keep no secret.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ..services.changes import ALL_KEYS, WHOLE, TrackedDict, TrackedList, attribute_tables, decode_key, encode_key
from ..basics.jsonhttp import decoded_view
from ..services.platform import BACKENDS, Platform

if TYPE_CHECKING:
    from flask import Flask

    from ..web.app import MockServer

log = logging.getLogger("runagents_mock")

DEFAULT_INTERVAL = 0.25
FORMAT = 2  # 1 was the JSON snapshot (``/_mock/state``'s export), migrated on first start
SQLITE_MAGIC = b"SQLite format 3\x00"
JSON_VALUE, ENCODED_VALUE, LIST_HEADER = 0, 1, 2
PLATFORM_TABLE = "platform"  # the clock offset


class StateFileError(Exception):
    """The state file cannot be used; the server refuses to start."""


Row = tuple[str, str, str, int, int, "bytes | None", int]
# Rows per INSERT statement. One statement for many rows: sqlite3 releases the GIL for each
# statement it steps, and a saver that waits for the GIL once per row would fall behind a busy
# server (each wait can take the interpreter's switch interval, 5 ms).
BATCH_ROWS = 1000


@functools.lru_cache(maxsize=8)
def _upsert(rows: int) -> str:
    """An INSERT of ``rows`` rows. An update keeps the row's position (a dict keeps a replaced
    key where it was); a new key is added at the end, as a dict adds it."""
    values = ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * rows)
    return (f"INSERT INTO records VALUES {values} "
            "ON CONFLICT (workspace, tbl, k, i) DO UPDATE SET kind = excluded.kind, v = excluded.v")


# --- the file ----------------------------------------------------------------------------

def resolve_store_path(path: Path) -> Path:
    """The file to open: symlinks followed (they keep pointing at their target); StateFileError
    when the path cannot hold a store."""
    real = Path(os.path.realpath(path))
    if real.exists() and not real.is_file():
        raise StateFileError(f"state file {path} is not a regular file"
                             + (f" (it points at {real})" if real != path.absolute() else ""))
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


def _connect(real: Path) -> sqlite3.Connection:
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
            PRIMARY KEY (workspace, tbl, k, i)) WITHOUT ROWID;
        INSERT OR IGNORE INTO meta VALUES ('format', '{FORMAT}');
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


def _value_rows(workspace: str, table: str, key: str, value: Any, pos: int, start: int = 0) -> Iterator[Row]:
    """Rows holding ``value`` (at position ``pos`` of its table); for a list, its header and
    its items from index ``start`` on."""
    if isinstance(value, list):
        if start == 0:
            yield workspace, table, key, -1, LIST_HEADER, None, pos
        for offset, item in enumerate(value):
            yield (workspace, table, key, start + offset, *_encode(item), 0)
    else:
        yield (workspace, table, key, -1, *_encode(value), pos)


class Snapshot:
    """What one save writes, taken under the platform lock (references only: stored records
    never change after they are stored), encoded and written outside it."""

    def __init__(self) -> None:
        self.clear_all = False
        # (table, key or None for all keys, only the list items of the key)
        self.deletions: list[tuple[str, str | None, bool]] = []
        self.values: list[tuple[str, str, Any, int]] = []  # table, key, value, first list index

    def __bool__(self) -> bool:
        return self.clear_all or bool(self.deletions or self.values)


def _backend_by_section(platform: Platform) -> dict[str, Any]:
    return {key: getattr(platform, attribute) for attribute, key, _ in BACKENDS}


def _whole_state(platform: Platform, snap: Snapshot) -> None:
    snap.clear_all = True
    for section, backend in _backend_by_section(platform).items():
        for name, value in attribute_tables(section, backend).items():
            if isinstance(value, dict):
                for key, item in value.items():
                    snap.values.append((f"{section}.{name}", encode_key(key), _frozen(item), 0))
            else:
                snap.values.append((section, name, _frozen(value), 0))


def _frozen(value: Any) -> Any:
    """Lists grow in place (event logs): a save takes a copy of the list, not of its items."""
    return list(value) if isinstance(value, list) else value


def _changed_state(platform: Platform, marks: dict[tuple[str, Any], int], snap: Snapshot) -> None:
    backends = _backend_by_section(platform)
    for (table, key), from_index in marks.items():
        section, _, name = table.partition(".")
        backend = backends.get(section)
        if backend is None:
            continue
        if not name:  # an attribute that is a list
            value = getattr(backend, key)
            _add_value(snap, table, key, value, from_index)
            continue
        container = getattr(backend, name)
        if key is ALL_KEYS:
            snap.deletions.append((table, None, False))
            for item_key, item in container.items():
                snap.values.append((table, encode_key(item_key), _frozen(item), 0))
        elif key in container:
            _add_value(snap, table, encode_key(key), container[key], from_index)
        else:
            snap.deletions.append((table, encode_key(key), False))


def _add_value(snap: Snapshot, table: str, key: str, value: Any, from_index: int) -> None:
    if isinstance(value, list) and from_index != WHOLE:
        start = from_index - 1
        snap.values.append((table, key, value[start:], start))
        return
    snap.deletions.append((table, key, True))  # the value replaces any list that was there
    snap.values.append((table, key, _frozen(value), 0))


# --- the store -----------------------------------------------------------------------------

class Store:
    """One state file: restore into a platform, then keep saving what changed."""

    def __init__(self, path: Path, workspace: str = ""):
        self.path = path  # as the user gave it, for messages
        self.real = resolve_store_path(path)
        self.workspace = workspace
        self.conn: sqlite3.Connection | None = None
        self.platform: Platform | None = None  # set by open()
        self._scalars: dict[tuple[str, str], Any] = {}  # last saved plain attributes
        self._pos = itertools.count(1)  # the next row position

    # restore --------------------------------------------------------------------------

    def open(self, server: "MockServer") -> None:
        """Load the store (or migrate a JSON state file) into the server; StateFileError when
        it cannot be used. The file is only ever written once it loaded and validated."""
        _remove_stale(_migration_path(self.real))
        platform = self.platform = server.platform
        try:
            if not self.real.exists():
                # A new store starts with the state the server has (a --seed fixture's).
                self._create_empty()
                self.conn = _connect(self.real)
                platform.track_changes()  # everything is saved with the first save
                return
            if not _is_sqlite(self.real):
                self._migrate(server)
                return
            self.conn = _connect(self.real)
            self._check_format()
            platform.reset()  # the store's state, whatever a fixture put there
            self._load_rows(platform)
        except (ValueError, TypeError) as exc:  # a value that is not what was stored
            self.close()
            raise StateFileError(f"state file {self.path} is inconsistent: {exc}") from None
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StateFileError(f"state file {self.path} cannot be used: {exc}") from None
        except OSError as exc:
            self.close()
            raise StateFileError(f"state file {self.path} cannot be used: {exc.strerror or exc}") from None
        problem = _state_problem(server)
        if problem:
            self.close()
            raise StateFileError(f"state file {self.path} cannot be loaded: {problem}")
        platform.track_changes().take()  # what was just loaded is saved already
        self._remember_scalars(platform)

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

    def _check_format(self) -> None:
        row = self.conn.execute("SELECT v FROM meta WHERE k = 'format'").fetchone()
        if row is None or row[0] != str(FORMAT):
            raise StateFileError(f"state file {self.path} has format {row and row[0]}, "
                                 f"this version reads format {FORMAT}")

    def _load_rows(self, platform: Platform) -> None:
        backends = _backend_by_section(platform)
        restored: dict[str, dict[str, Any]] = {section: {} for section in backends}
        offset = 0.0
        lists: dict[tuple[str, str], list[Any]] = {}
        ws = self.workspace
        last = self.conn.execute("SELECT MAX(pos) FROM records WHERE workspace = ?", (ws,)).fetchone()[0]
        self._pos = itertools.count((last or 0) + 1)
        # Values in the order they were added (as the dicts held them), then list items in order.
        for table, key, kind, value in self.conn.execute(
                "SELECT tbl, k, kind, v FROM records WHERE workspace = ? AND i = -1 ORDER BY pos", (ws,)):
            decoded = [] if kind == LIST_HEADER else _decode(kind, value)
            if kind == LIST_HEADER:
                lists[(table, key)] = decoded
            if table == PLATFORM_TABLE:
                offset = float(decoded)
                continue
            section, _, name = table.partition(".")
            if section not in restored:
                raise StateFileError(f"state file {self.path} holds an unknown table {table}")
            if name:
                restored[section].setdefault(name, {})[decode_key(key)] = decoded
            else:
                restored[section][key] = decoded
        loaded = 0
        where = "WHERE workspace = ? AND tbl = ? AND k = ? AND i >= 0"
        for (table, key), items in lists.items():
            count, first, last, encoded = self.conn.execute(
                f"SELECT COUNT(*), MIN(i), MAX(i), TOTAL(kind = {ENCODED_VALUE}) FROM records {where}",
                (ws, table, key)).fetchone()
            # Indexes are unique (the primary key): first 0 and last n-1 means none is missing.
            if count and (first != 0 or last != count - 1):
                raise StateFileError(f"state file {self.path} is inconsistent: {table} {key} "
                                     f"has items missing from its list")
            if encoded == count:  # event logs: the stored bytes are the kept form
                items.extend([row[0] for row in self.conn.execute(f"SELECT v FROM records {where} ORDER BY i",
                                                                  (ws, table, key))])
            else:
                items.extend([_decode(kind, value) for kind, value in self.conn.execute(
                    f"SELECT kind, v FROM records {where} ORDER BY i", (ws, table, key))])
            loaded += count
        all_items = self.conn.execute("SELECT COUNT(*) FROM records WHERE workspace = ? AND i >= 0", (ws,)).fetchone()[0]
        if all_items != loaded:
            raise StateFileError(f"state file {self.path} is inconsistent: {all_items - loaded} list items "
                                 "belong to no list")
        with platform.lock:
            platform.clock.set_offset(offset)
            for section, attributes in restored.items():
                backend = backends[section]
                for name, value in attributes.items():
                    if name == "platform" or name.startswith("_") or not hasattr(backend, name):
                        raise StateFileError(f"state file {self.path} holds an unknown field {section}.{name}")
                    setattr(backend, name, value)
            # Charged as any loaded state is. Not redacted again: all it holds was redacted on
            # its way in (API writes, state loads, fixtures), and the event logs stay bytes.
            platform.recount_budget()

    def _migrate(self, server: "MockServer") -> None:
        """A JSON state file (format 1): validated, loaded, then replaced by a store holding the
        same state. The JSON file is kept beside it as ``<name>.v1.json``."""
        try:
            state = json.loads(self.real.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise StateFileError(f"state file {self.path} is corrupt (not JSON: {exc}); "
                                 "move it away to start empty") from None
        try:
            server.load_state(state)
        except ValueError as exc:
            raise StateFileError(f"state file {self.path} cannot be loaded: {exc}") from None
        temp = _migration_path(self.real)
        try:
            conn = _connect(temp)
            _create_schema(conn)
            self.conn = conn
            server.platform.track_changes()
            self.save()
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            # Copied, then the store renamed over the JSON file: at any crash, PATH is either
            # the JSON file (migrated again at the next start) or the complete store.
            shutil.copyfile(self.real, self.real.with_name(self.real.name + ".v1.json"))
            os.replace(temp, self.real)
        except (sqlite3.Error, OSError) as exc:
            self.close()
            _remove_stale(temp)
            raise StateFileError(f"state file {self.path} could not be migrated: {exc}") from None
        self.conn = _connect(self.real)
        log.info("state file %s migrated from JSON to the SQLite store (the JSON file is kept as %s)",
                 self.path, self.real.name + ".v1.json")

    def _remember_scalars(self, platform: Platform) -> None:
        self._scalars = {**self._plain_attributes(platform), (PLATFORM_TABLE, "clock_offset"): platform.clock.offset}

    @staticmethod
    def _plain_attributes(platform: Platform) -> dict[tuple[str, str], Any]:
        return {(section, name): value
                for section, backend in _backend_by_section(platform).items()
                for name, value in attribute_tables(section, backend).items()
                if not isinstance(value, (TrackedDict, TrackedList, dict, list))}

    # save -----------------------------------------------------------------------------

    def save(self) -> int:
        """Write what changed since the last save; the number of rows written. On an error the
        changes stay pending (the next save writes them) and the error is raised."""
        platform = self.platform
        with platform.lock:
            platform.retrack()
            everything, marks = platform.changes.take()
            snap = Snapshot()
            if everything:
                _whole_state(platform, snap)
            else:
                _changed_state(platform, marks, snap)
            scalars = {**self._plain_attributes(platform), (PLATFORM_TABLE, "clock_offset"): platform.clock.offset}
        changed_scalars = {k: v for k, v in scalars.items() if everything or self._scalars.get(k, _MISSING) != v}
        if not snap and not changed_scalars:
            return 0
        try:
            written = self._write(snap, changed_scalars)
        except BaseException:
            with platform.lock:
                platform.changes.give_back(everything, marks)
            raise
        self._scalars = scalars
        return written

    def _write(self, snap: Snapshot, scalars: dict[tuple[str, str], Any]) -> int:
        ws = self.workspace
        conn = self.conn
        if conn is None:
            raise sqlite3.OperationalError("the store is closed")
        rows = 0
        conn.execute("BEGIN")
        try:
            if snap.clear_all:
                conn.execute("DELETE FROM records WHERE workspace = ?", (ws,))
            for table, key, items_only in snap.deletions:
                if key is None:
                    conn.execute("DELETE FROM records WHERE workspace = ? AND tbl = ?", (ws, table))
                else:
                    conn.execute("DELETE FROM records WHERE workspace = ? AND tbl = ? AND k = ? AND i >= ?",
                                 (ws, table, key, 0 if items_only else -1))
            pending: list[Any] = []
            for table, key, value, start in snap.values:
                for row in _value_rows(ws, table, key, value, next(self._pos), start):
                    pending.extend(row)
                    if len(pending) >= BATCH_ROWS * 7:
                        rows += self._insert(pending)
            for (table, key), value in scalars.items():
                for row in _value_rows(ws, table, key, value, next(self._pos)):
                    pending.extend(row)
            rows += self._insert(pending)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return rows

    def _insert(self, flat: list[Any]) -> int:
        """Write the rows whose fields ``flat`` holds one after another; empties it."""
        count = len(flat) // 7
        if count:
            self.conn.execute(_upsert(count), flat)
            flat.clear()
        return count

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except sqlite3.Error:
                pass
            self.conn = None

    def reopen(self) -> None:
        """A fresh connection (in a forked worker: a connection must not cross a fork)."""
        self.close()
        self.conn = _connect(self.real)


_MISSING = object()


def _remove_stale(path: Path) -> None:
    """A file an interrupted migration left behind."""
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        try:
            leftover.unlink()
        except FileNotFoundError:
            pass


def _state_problem(server: "MockServer") -> str | None:
    return server.state_problem(decoded_view(server.platform.export_records()))


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

    def start(self) -> "StateSaver":
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

    def _failed(self, exc: BaseException) -> None:
        self.failures += 1
        message = f"{type(exc).__name__}: {exc}"
        self.error = message
        if message not in self._logged_kinds:
            self._logged_kinds.add(message)
            log.error("runagents-mock: cannot save state file %s (%s); retrying, changes are kept in memory",
                      self.store.path, message)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.save()

    def status(self) -> dict[str, Any]:
        """For ``GET /_mock/health``."""
        return {"path": str(self.store.path), "saving": "failing" if self.error else "ok",
                "error": self.error, "failed_saves": self.failures,
                "last_saved_at": self.last_saved_at, "interval_seconds": self.interval}

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


def restore_state_file(app: "Flask") -> Store:
    """Open (and validate, or migrate) the app's state file into its state; StateFileError
    when it cannot be used."""
    server = app.extensions["runagents_mock"]
    store = Store(Path(server.config.state_file))
    store.open(server)
    server.store = store
    return store


def attach_state_file(app: "Flask", store: Store | None = None, interval: float = DEFAULT_INTERVAL) -> StateSaver:
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
