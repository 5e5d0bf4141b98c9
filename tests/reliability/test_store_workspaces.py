"""``--state-file`` keeps every workspace, not only the default one: named workspaces written
through ``/api/v1/workspaces/<ws>`` come back after a restart (and after SIGKILL), a reset
workspace is dropped from the store, and values are redacted again whenever a store loads."""

from __future__ import annotations

import json
import sqlite3
import time
import zlib
from pathlib import Path

from reliability_support import AUTH, ServedMock

from mockserver import create_app
from mockserver.surface.persistence import attach_state_file
from mockserver.testkit.state_file import read_store

WS = {"X-RunAgents-API-Key": "ra_ws_test"}


def _started(path: Path):
    app = create_app({"state_file": path})
    return app, attach_state_file(app, interval=3600)  # saves when stopped (or asked)


def _ok(answer, status: int = 201):
    assert answer.status_code == status, answer.get_data(as_text=True)
    return answer.get_json()


def _write_named_workspace(c) -> str:
    _ok(c.post("/api/v1/workspaces/team-a/tools", json={"name": "only-a", "base_url": "https://a.example"}, headers=WS))
    _ok(c.post("/api/tools", json={"name": "only-default", "base_url": "https://d.example"}, headers=AUTH))
    run = _ok(c.post("/api/v1/workspaces/team-a/runs", json={"agent_id": "a", "user_id": "u"}, headers=WS))
    # RUN_CREATED is a June event type: the store checks logs against the document that has it.
    for kind in ("RUN_CREATED", "USER_MESSAGE", "INVOKE_COMPLETED"):
        _ok(c.post(f"/api/v1/workspaces/team-a/runs/{run['id']}/events", json={"type": kind}, headers=WS))
    return run["id"]


def test_named_workspaces_survive_a_restart_and_a_reset_one_is_dropped(tmp_path):
    path = tmp_path / "state.db"
    app, saver = _started(path)
    c = app.test_client()
    run_id = _write_named_workspace(c)
    named_before = _ok(c.get("/_mock/workspaces/team-a/state"), 200)
    default_before = _ok(c.get("/_mock/state"), 200)
    assert saver.stop()

    app, saver = _started(path)
    c = app.test_client()
    assert _ok(c.get("/_mock/workspaces"), 200)["workspaces"] == ["default", "team-a"]
    assert _ok(c.get("/_mock/workspaces/team-a/state"), 200) == named_before
    assert _ok(c.get("/_mock/state"), 200) == default_before  # the default workspace, as before
    assert [t["name"] for t in _ok(c.get("/api/v1/workspaces/team-a/tools", headers=WS), 200)] == ["only-a"]
    assert [t["name"] for t in _ok(c.get("/api/v1/tools", headers=WS), 200)] == ["only-default"]
    events = _ok(c.get(f"/api/v1/workspaces/team-a/runs/{run_id}/events", headers=WS), 200)
    assert [(e["seq"], e["type"]) for e in events] == [(1, "RUN_CREATED"), (2, "USER_MESSAGE"), (3, "INVOKE_COMPLETED")]
    # A write after the restart is saved too, then the workspace is reset: gone from the store.
    _ok(c.post(f"/api/v1/workspaces/team-a/runs/{run_id}/events", json={"type": "COMPLETED"}, headers=WS))
    saver.save()
    assert len(read_store(path, "team-a")["runs"]["events"][run_id]) == 4
    _ok(c.post("/_mock/workspaces/team-a/reset"), 200)
    assert saver.stop()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT COUNT(*) FROM records WHERE workspace = 'team-a'").fetchone()[0] == 0
    conn.close()
    app, saver = _started(path)
    assert _ok(app.test_client().get("/_mock/workspaces"), 200)["workspaces"] == ["default"]
    assert saver.stop()


def test_a_named_workspace_written_a_second_before_sigkill_is_there_after_restart(tmp_path):
    path = tmp_path / "state.db"
    with ServedMock("--state-file", path) as served:
        c = served.client(headers=WS)
        c.ok("POST", "/api/v1/workspaces/team-b/tools", {"name": "kept", "base_url": "https://b.example"}, 201)
        time.sleep(1.2)  # more than one save interval
        served.proc.kill()
        served.wait_exit()
    assert [t["name"] for t in read_store(path, "team-b")["tools"]["items"]] == ["kept"]
    assert read_store(path)["tools"]["items"] == []


def _edit_stored_tool(path: Path, workspace: str, edit) -> None:
    """Change a stored tool record by hand (with a checksum that matches the edit)."""
    conn = sqlite3.connect(path)
    key, value = conn.execute(
        "SELECT k, v FROM records WHERE workspace = ? AND tbl = 'tools.items'", (workspace,)
    ).fetchone()
    record = edit(json.loads(value))
    encoded = json.dumps(record, separators=(",", ":")).encode()
    conn.execute(
        "UPDATE records SET v = ?, crc = ? WHERE workspace = ? AND tbl = 'tools.items' AND k = ?",
        (encoded, zlib.crc32(encoded), workspace, key),
    )
    conn.commit()
    conn.close()


def test_a_store_edited_by_hand_never_serves_a_secret(tmp_path):
    path = tmp_path / "state.db"
    app, saver = _started(path)
    c = app.test_client()
    _ok(c.post("/api/v1/workspaces/team-a/tools", json={"name": "only-a", "base_url": "https://a.example"}, headers=WS))
    assert saver.stop()
    _edit_stored_tool(
        path,
        "team-a",
        lambda tool: {**tool, "apiKey": "sk-live-hand-edited", "base_url": "https://user:hunter2@a.example"},
    )

    app, saver = _started(path)
    c = app.test_client()
    served = c.get("/_mock/workspaces/team-a/state").get_data(as_text=True)
    served += c.get("/api/v1/workspaces/team-a/tools", headers=WS).get_data(as_text=True)
    assert "sk-live-hand-edited" not in served and "hunter2" not in served
    assert '"apiKey":"***"' in served.replace(" ", "")
    assert saver.stop()  # ... and the store now holds the redacted record
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("state.db"))
    assert b"sk-live-hand-edited" not in stored and b"hunter2" not in stored


def test_an_export_with_june_event_types_loads_back(tmp_path):
    c = create_app({}).test_client()
    run = _ok(c.post("/api/v1/runs", json={"agent_id": "a", "user_id": "u"}, headers=WS))
    _ok(c.post(f"/api/v1/runs/{run['id']}/events", json={"type": "INVOKE_REQUESTED"}, headers=WS))
    state = _ok(c.get("/_mock/state"), 200)
    assert _ok(c.put("/_mock/state", json=state), 200) is not None
    assert _ok(c.get("/_mock/state"), 200) == state


def test_a_json_state_file_edited_by_hand_is_migrated_redacted(tmp_path):
    source = create_app({}).test_client()
    _ok(source.post("/api/tools", json={"name": "t", "base_url": "https://x.example"}, headers=AUTH))
    state = _ok(source.get("/_mock/state"), 200)
    state["tools"]["items"][0]["spec"]["password"] = "json-hand-edited-SECRET"
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))

    app, saver = _started(path)
    served = app.test_client().get("/api/tools", headers=AUTH).get_data(as_text=True)
    assert "json-hand-edited-SECRET" not in served and '"password":"***"' in served.replace(" ", "")
    assert saver.stop()
    assert b"json-hand-edited-SECRET" not in path.read_bytes()  # the store; PATH.v1.json is the user's file
