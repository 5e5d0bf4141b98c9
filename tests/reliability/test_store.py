"""The SQLite store behind ``--state-file``: saves cost what changed, failed saves are loud,
JSON state files are migrated, unusable paths stop the start, and a kill during a burst of
concurrent writes keeps every write acknowledged more than a second before it."""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import threading
import time
import zlib
from pathlib import Path

import pytest
import requests
from reliability_support import AUTH, Client, ServedMock, live_mock, write_state_file

from mockserver import create_app
from mockserver.surface import persistence
from mockserver.surface.persistence import (
    BLOCK_ITEMS,
    SQLITE_MAGIC,
    StateFileError,
    attach_state_file,
    restore_state_file,
)
from mockserver.testkit.state_file import read_store

TOOL = {"name": "t", "base_url": "https://x.example.com"}


def _app_on(path: Path):
    return create_app({"state_file": path})


def _client(app):
    return app.test_client()


def _post(app, path: str, body: dict) -> dict:
    answer = _client(app).post(path, json=body, headers=AUTH)
    assert answer.status_code in (200, 201), answer.get_data(as_text=True)
    return answer.get_json()


def _stored_rows(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]
    finally:
        conn.close()


# --- what a save costs ----------------------------------------------------------------------


def _blocks(path: Path, table: str = "runs.events") -> list[int]:
    """The item counts of a list's stored blocks, in order."""
    conn = sqlite3.connect(path)
    try:
        return [n for (n,) in conn.execute("SELECT n FROM records WHERE tbl = ? AND i >= 0 ORDER BY i", (table,))]
    finally:
        conn.close()


def test_a_save_writes_only_what_changed(tmp_path):
    path = tmp_path / "state.db"
    app = _app_on(path)
    saver = attach_state_file(app, interval=3600)  # saves only when asked here
    run_id = _post(app, "/runs", {"agent_id": "a", "user_id": "u"})["id"]
    for _ in range(BLOCK_ITEMS + 10):
        _post(app, f"/runs/{run_id}/events", {"type": "USER_MESSAGE"})
    store = saver.store
    store.save()
    rows_before = _stored_rows(path)
    assert _blocks(path) == [BLOCK_ITEMS, 10]  # the log in blocks, one row each

    _post(app, f"/runs/{run_id}/events", {"type": "USER_MESSAGE"})
    # One new event: its block is rewritten, not the full one before it (and the clock offset
    # is unchanged).
    assert store.save() == 1
    assert _blocks(path) == [BLOCK_ITEMS, 11]
    assert store.save() == 0  # nothing changed since
    _post(app, "/api/tools", TOOL)
    assert store.save() == 1
    assert _stored_rows(path) == rows_before + 1
    assert saver.stop()

    restored = read_store(path)
    assert [json.loads(json.dumps(e))["seq"] for e in restored["runs"]["events"][run_id]] == list(
        range(1, BLOCK_ITEMS + 12)
    )
    assert [t["name"] for t in restored["tools"]["items"]] == ["t"]


def test_reset_and_import_replace_the_stored_state(tmp_path):
    path = tmp_path / "state.db"
    app = _app_on(path)
    saver = attach_state_file(app, interval=3600)
    _post(app, "/api/tools", TOOL)
    exported = _client(app).get("/_mock/state").get_json()
    _client(app).post("/_mock/reset")
    saver.save()
    assert read_store(path)["tools"]["items"] == []
    assert _client(app).put("/_mock/state", json=exported).status_code == 200
    assert saver.stop()
    assert [t["name"] for t in read_store(path)["tools"]["items"]] == ["t"]


# --- failures are loud ----------------------------------------------------------------------


def test_a_failing_save_is_retried_reported_and_logged_once(tmp_path, monkeypatch, caplog):
    path = tmp_path / "state.db"
    app = _app_on(path)
    saver = attach_state_file(app, interval=3600)
    store = saver.store
    real_write = store._write

    def full_disk(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store, "_write", full_disk)
    _post(app, "/api/tools", TOOL)
    with caplog.at_level(logging.ERROR, logger="runagents_mock"):
        assert not saver.save()
        assert not saver.save()
    assert sum("database or disk is full" in r.getMessage() for r in caplog.records) == 1
    health = _client(app).get("/_mock/health").get_json()
    assert health["status"] == "degraded"
    assert health["state_file"]["error"] == "OperationalError: database or disk is full"
    assert health["state_file"]["failed_saves"] == 2

    # The change was kept: the first save that works writes it.
    monkeypatch.setattr(store, "_write", real_write)
    assert saver.save()
    assert _client(app).get("/_mock/health").get_json()["status"] == "ok"
    assert saver.stop()
    assert [t["name"] for t in read_store(path)["tools"]["items"]] == ["t"]


def test_a_shutdown_that_cannot_save_says_so(tmp_path, monkeypatch):
    app = _app_on(tmp_path / "state.db")
    saver = attach_state_file(app, interval=3600)
    monkeypatch.setattr(saver.store, "_write", lambda *a: (_ for _ in ()).throw(OSError(28, "No space left")))
    monkeypatch.setattr(time, "sleep", lambda s: None)  # the retries' pauses
    _post(app, "/api/tools", TOOL)
    assert saver.stop() is False


def test_a_locked_store_fails_the_shutdown_with_a_non_zero_exit(tmp_path):
    # Another program holds the store locked: saves fail, the health endpoint says so, and the
    # server that stops without saving exits non-zero.
    path = tmp_path / "state.db"
    with ServedMock("--state-file", path) as served:
        c = served.client()
        c.ok("POST", "/api/tools", TOOL, 201)
        locker = sqlite3.connect(path, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            c.ok("POST", "/api/tools", {**TOOL, "name": "t2"}, 201)
            deadline = time.monotonic() + 10
            while c.control("GET", "/_mock/health").json()["status"] != "degraded":
                assert time.monotonic() < deadline, "the failing save was never reported"
                time.sleep(0.1)
            assert "locked" in c.control("GET", "/_mock/health").json()["state_file"]["error"]
            code = served.terminate(timeout=30)
        finally:
            locker.execute("ROLLBACK")
            locker.close()
    assert code != 0
    assert f"state file {path}: the last changes could not be saved" in served.stderr
    assert served.stderr.count("database is locked") == 1, served.stderr  # logged once per kind


# --- the format of older versions ----------------------------------------------------------


def _json_state() -> dict:
    app = create_app()
    _post(app, "/api/tools", TOOL)
    run_id = _post(app, "/runs", {"agent_id": "a", "user_id": "u"})["id"]
    _post(app, f"/runs/{run_id}/events", {"type": "USER_MESSAGE"})
    return app.extensions["runagents_mock"].platform.export()


def test_a_json_state_file_is_migrated_on_first_start(tmp_path):
    path = tmp_path / "state.json"
    state = _json_state()
    write_state_file(path, state)
    original = path.read_bytes()

    app = _app_on(path)
    store = restore_state_file(app)
    store.close()
    assert path.read_bytes().startswith(SQLITE_MAGIC)
    assert (tmp_path / "state.json.v1.json").read_bytes() == original  # kept for the user
    assert not (tmp_path / "state.json.migrating").exists()
    assert app.extensions["runagents_mock"].platform.export() == state
    assert read_store(path) == state  # and it loads as a store from now on


# --- paths that cannot hold a store ------------------------------------------------------


def _refused(path: Path) -> str:
    with pytest.raises(StateFileError) as error:
        restore_state_file(_app_on(path))
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"state file {path}")
    return message


def test_a_directory_in_place_of_the_store_stops_the_start(tmp_path):
    (tmp_path / "state.db").mkdir()
    assert "not a regular file" in _refused(tmp_path / "state.db")


def test_a_symlink_to_a_directory_stops_the_start(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "state.db").symlink_to(tmp_path / "elsewhere")
    assert f"points at {tmp_path / 'elsewhere'}" in _refused(tmp_path / "state.db")


def test_a_path_that_cannot_be_written_stops_the_start(tmp_path):
    # /proc refuses new files even to root; a read-only directory only to other users.
    _refused(Path(f"/proc/{os.getpid()}/state.db"))
    if os.geteuid() != 0:
        locked = tmp_path / "ro"
        locked.mkdir()
        locked.chmod(0o500)
        assert "not writable" in _refused(locked / "state.db")


def _forge(block: bytes, old: bytes, new: bytes) -> tuple[bytes, int]:
    """A block edited by hand, with a checksum that matches the edit."""
    edited = block.replace(old, new, 1)
    assert edited != block
    return edited, zlib.crc32(edited)


DAMAGES = {
    "a block missing": ("DELETE FROM records WHERE tbl = 'runs.events' AND i = 1", None, "is inconsistent"),
    "a block that does not match its checksum": (
        "UPDATE records SET v = v || X'20' WHERE tbl = 'runs.events' AND i = 0",
        None,
        "checksum",
    ),
    "a block with fewer items than it says": (
        "UPDATE records SET n = 2 WHERE tbl = 'runs.events' AND i = 2",
        None,
        "holds 1 items, not 2",
    ),
    "an edited block with a gap in the log": (
        "UPDATE records SET v = ?, crc = ? WHERE tbl = 'runs.events' AND i = 1",
        (b'"seq":3', b'"seq":4'),
        "seq 4 where 3 was expected",
    ),
    "an edited block with an unknown event type": (
        "UPDATE records SET v = ?, crc = ? WHERE tbl = 'runs.events' AND i = 1",
        (b'"seq":4,"type":"USER_MESSAGE"', b'"seq":4,"type":"NOT_A_TYPE"'),
        "runs.events.",
    ),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_store_stops_the_start_and_is_left_alone(tmp_path, monkeypatch, damage):
    monkeypatch.setattr(persistence, "BLOCK_ITEMS", 2)  # five events: blocks of 2, 2 and 1
    path = tmp_path / "state.db"
    app = _app_on(path)
    saver = attach_state_file(app, interval=3600)
    run_id = _post(app, "/runs", {"agent_id": "a", "user_id": "u"})["id"]
    for _ in range(5):
        _post(app, f"/runs/{run_id}/events", {"type": "USER_MESSAGE"})
    assert saver.stop()
    assert _blocks(path) == [2, 2, 1]
    statement, edit, expected = DAMAGES[damage]
    conn = sqlite3.connect(path)
    if edit is None:
        conn.execute(statement)
    else:
        block = conn.execute("SELECT v FROM records WHERE tbl = 'runs.events' AND i = 1").fetchone()[0]
        conn.execute(statement, _forge(block, *edit))
    conn.commit()
    conn.close()
    damaged = path.read_bytes()
    assert expected in _refused(path)
    assert path.read_bytes() == damaged


def test_the_cli_refuses_an_unusable_store_with_one_line(tmp_path):
    (tmp_path / "state.db").mkdir()
    served = ServedMock("--state-file", tmp_path / "state.db")
    assert served.refuses_to_start() == 2
    assert served.stderr.strip() == f"runagents-mock: state file {tmp_path / 'state.db'} is not a regular file"


def test_a_symlinked_store_keeps_pointing_at_its_target(tmp_path):
    target = tmp_path / "data" / "real.db"
    target.parent.mkdir()
    link = tmp_path / "state.db"
    link.symlink_to(target)
    for name in ("a", "b"):  # created through the link, then reopened and saved again
        app = _app_on(link)
        saver = attach_state_file(app, interval=3600)
        _post(app, "/api/tools", {**TOOL, "name": name})
        assert saver.stop()
    assert link.is_symlink() and link.resolve() == target
    assert target.read_bytes().startswith(SQLITE_MAGIC)
    assert [t["name"] for t in read_store(link)["tools"]["items"]] == ["a", "b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "state.db"]  # nothing left beside it


# --- export and import of any size -----------------------------------------------------------


def test_an_export_larger_than_the_body_limit_loads_back():
    with live_mock({"max_body_bytes": 4096}) as live:
        c = Client(live.url)
        run_id = c.ok("POST", "/runs", {"agent_id": "a", "user_id": "u"}, 201)["id"]
        for index in range(60):
            c.ok("POST", f"/runs/{run_id}/events", {"type": "USER_MESSAGE", "data": {"n": index}}, 201)
        answer = c.control("GET", "/_mock/state")
        assert "Content-Length" not in answer.headers  # streamed
        exported = answer.content
        assert len(exported) > 4096
        c.reset()
        put = requests.put(
            live.url + "/_mock/state", data=exported, timeout=10, headers={"Content-Type": "application/json"}
        )
        assert put.status_code == 200, put.text
        assert c.state_bytes() == exported


# --- a kill during a burst -----------------------------------------------------------------


def _worker_pids(pid: int) -> list[int]:
    """The children of ``pid`` (granian's worker), from each process's parent id in /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # ended while we looked
            continue
        if int(text[text.rfind(")") + 2 :].split()[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def test_a_kill_during_a_burst_keeps_every_write_acknowledged_a_second_before(tmp_path):
    path = tmp_path / "state.db"
    acked: list[tuple[float, str]] = []  # (when, tool name or "event:<seq>")
    stop = threading.Event()
    with ServedMock("--state-file", path) as served:
        run_id = served.client().ok("POST", "/runs", {"agent_id": "a", "user_id": "u"}, 201)["id"]

        def write(worker: int) -> None:
            c, i = served.client(), 0
            while not stop.is_set() and i < 5000:
                try:
                    if worker % 2:
                        answer = c.post(
                            "/api/tools", {"name": f"tool-{worker}-{i}", **{"base_url": TOOL["base_url"]}}, timeout=3
                        )
                        if answer.status_code == 201:
                            acked.append((time.monotonic(), f"tool-{worker}-{i}"))
                    else:
                        answer = c.post(f"/runs/{run_id}/events", {"type": "USER_MESSAGE"}, timeout=3)
                        if answer.status_code == 201:
                            acked.append((time.monotonic(), f"event:{answer.json()['seq']}"))
                except requests.RequestException:
                    return
                i += 1

        threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        time.sleep(2.5)
        # Kill the process that holds the state (granian's worker) and its parent, at once.
        for pid in _worker_pids(served.proc.pid) + [served.proc.pid]:
            os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        served.proc.wait(timeout=10)
        stop.set()
        for t in threads:
            t.join(timeout=10)

    old = [name for when, name in acked if when < killed_at - 1.0]
    assert len(old) > 50, "too few writes before the kill to tell anything"
    state = read_store(path)
    tools = {t["name"] for t in state["tools"]["items"]}
    events = len(state["runs"]["events"][run_id])
    missing = [n for n in old if (n not in tools if not n.startswith("event:") else int(n[6:]) > events)]
    assert not missing, f"{len(missing)} writes acknowledged over 1 s before the kill were lost: {missing[:5]}"


# --- older stores ---------------------------------------------------------------------------


def _write_format_2_store(path: Path, app) -> None:
    """The platform's state as a format 2 store wrote it: one row per list item."""
    from mockserver.services.changes import encode_key
    from mockserver.services.platform import BACKENDS
    from mockserver.services.state import persisted

    platform = app.extensions["runagents_mock"].platform
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
        CREATE TABLE records (workspace TEXT NOT NULL, tbl TEXT NOT NULL, k TEXT NOT NULL, i INTEGER NOT NULL,
            kind INTEGER NOT NULL, v BLOB, pos INTEGER NOT NULL, PRIMARY KEY (workspace, tbl, k, i)) WITHOUT ROWID;
        INSERT INTO meta VALUES ('format', '2');""")
    rows = []

    def add(table, key, value):
        if isinstance(value, list):
            rows.append(("", table, key, -1, 2, None, len(rows)))
            for index, item in enumerate(value):
                encoded = item if type(item) is bytes else json.dumps(item).encode()
                rows.append(("", table, key, index, 1 if type(item) is bytes else 0, encoded, 0))
        else:
            rows.append(("", table, key, -1, 0, json.dumps(value).encode(), len(rows)))

    for attribute, section, _ in BACKENDS:
        for name, value in persisted(getattr(platform, attribute)).items():
            if isinstance(value, dict):
                for key, item in value.items():
                    add(f"{section}.{name}", encode_key(key), item)
            else:
                add(section, name, value)
    add("platform", "clock_offset", platform.clock.offset)
    conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()


def test_a_format_2_store_is_migrated_on_first_start(tmp_path):
    source = create_app({})
    _post(source, "/api/tools", TOOL)
    run_id = _post(source, "/runs", {"agent_id": "a", "user_id": "u"})["id"]
    for index in range(5):
        _post(source, f"/runs/{run_id}/events", {"type": "USER_MESSAGE", "data": {"n": index}})
    state = source.extensions["runagents_mock"].platform.export()
    path = tmp_path / "state.db"
    _write_format_2_store(path, source)
    rows = _stored_rows(path)

    assert read_store(path) == state
    kept = tmp_path / "state.db.v2.sqlite"  # kept for the user, as it was
    assert _stored_rows(kept) == rows and sqlite3.connect(kept).execute("SELECT v FROM meta").fetchone() == ("2",)
    assert not (tmp_path / "state.db.migrating").exists()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT v FROM meta WHERE k = 'format'").fetchone()[0] == str(persistence.FORMAT)
    conn.close()
    assert _blocks(path) == [5]
    assert read_store(path) == state  # and it loads as a store of this format from now on


def test_a_damaged_format_2_store_is_refused_and_left_alone(tmp_path):
    source = create_app({})
    run_id = _post(source, "/runs", {"agent_id": "a", "user_id": "u"})["id"]
    for _ in range(3):
        _post(source, f"/runs/{run_id}/events", {"type": "USER_MESSAGE"})
    path = tmp_path / "state.db"
    _write_format_2_store(path, source)
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM records WHERE tbl = 'runs.events' AND i = 1")  # a gap in the log
    conn.commit()
    conn.close()
    damaged = path.read_bytes()
    assert "inconsistent" in _refused(path)
    assert path.read_bytes() == damaged and not (tmp_path / "state.db.v2.sqlite").exists()
