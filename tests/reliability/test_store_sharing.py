"""One state file, one server; one byte budget for the whole process; a saver that does not
visit idle workspaces; and an import that is saved before it is acknowledged."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid

import pytest
from reliability_support import API_KEY, AUTH, ServedMock

from mockserver import create_app
from mockserver.services.changes import ChangeSet
from mockserver.surface.persistence import attach_state_file, lock_file
from mockserver.testkit.state_file import read_store

WS = {"X-RunAgents-API-Key": "ra_ws_test"}
LIMIT_MESSAGE = "limit of {} stored bytes reached"


def _tool(name: str, size: int = 0) -> dict:
    return {"name": name, "base_url": "https://x.example", "description": "d" * size}


# --- one byte budget for every workspace ----------------------------------------------------


def test_every_workspace_draws_from_one_byte_budget():
    limit = 20_000
    client = create_app({"max_stored_bytes": limit}).test_client()
    stored = 0
    while True:  # workspace a fills the process's budget
        answer = client.post("/api/v1/workspaces/team-a/tools", json=_tool(f"t{stored}", 2_000), headers=WS)
        if answer.status_code == 409:
            break
        assert answer.status_code == 201, answer.get_data(as_text=True)
        stored += 1
    assert stored >= 5 and answer.get_json() == {"error": LIMIT_MESSAGE.format(limit)}
    # ... so neither another workspace nor the default one can store that much more.
    for path in ("/api/v1/workspaces/team-b/tools", "/api/v1/tools"):
        answer = client.post(path, json=_tool("other", 2_000), headers=WS)
        assert answer.status_code == 409 and answer.get_json() == {"error": LIMIT_MESSAGE.format(limit)}
    assert client.get("/api/v1/workspaces/team-b/tools", headers=WS).get_json() == []
    # Resetting workspace a gives its bytes back to every workspace.
    assert client.post("/_mock/workspaces/team-a/reset").status_code == 200
    answer = client.post("/api/v1/workspaces/team-b/tools", json=_tool("other", 2_000), headers=WS)
    assert answer.status_code == 201, answer.get_data(as_text=True)


def test_a_state_load_into_one_workspace_counts_against_the_shared_budget():
    limit = 20_000
    client = create_app({"max_stored_bytes": limit}).test_client()
    assert client.post("/api/v1/workspaces/team-a/tools", json=_tool("big", 15_000), headers=WS).status_code == 201
    exported = client.get("/_mock/workspaces/team-a/state").get_json()
    assert client.put("/_mock/workspaces/team-b/state", json=exported).status_code == 200  # loads over the limit
    answer = client.post("/api/v1/workspaces/team-c/tools", json=_tool("small", 10), headers=WS)
    assert answer.status_code == 409 and answer.get_json() == {"error": LIMIT_MESSAGE.format(limit)}
    assert client.post("/_mock/workspaces/team-b/reset").status_code == 200
    assert client.post("/api/v1/workspaces/team-c/tools", json=_tool("small", 10), headers=WS).status_code == 201


# --- the saver does not visit idle workspaces -----------------------------------------------


def test_a_save_visits_only_the_workspaces_that_changed(tmp_path, monkeypatch):
    app = create_app({"state_file": tmp_path / "state.db"})
    saver = attach_state_file(app, interval=3600)  # saves only when asked here
    client = app.test_client()
    for index in range(200):  # 200 workspaces, each created by a request that names it
        assert client.get(f"/api/v1/workspaces/w{index}/tools", headers=WS).status_code == 200
    assert saver.store.save() > 0  # the new workspaces, whole

    taken = []
    real_take = ChangeSet.take
    monkeypatch.setattr(ChangeSet, "take", lambda self: taken.append(self) or real_take(self))
    assert saver.store.save() == 0 and taken == []  # idle: no workspace is looked at
    client.post("/api/v1/workspaces/w7/tools", json=_tool("t"), headers=WS)
    client.post("/_mock/workspaces/w9/clock/advance", json={"seconds": 60})
    assert saver.store.save() == 2  # the tool's row and w9's clock offset
    assert len(taken) == 2
    assert saver.store.save() == 0 and len(taken) == 2
    assert saver.stop()
    assert [t["name"] for t in read_store(tmp_path / "state.db", "w7")["tools"]["items"]] == ["t"]
    assert read_store(tmp_path / "state.db", "w9")["clock_offset"] == 60


def test_a_backend_attribute_set_whole_is_saved(tmp_path):
    """Plain values and containers a backend replaces (not changes in place) are noted when set."""
    path = tmp_path / "state.db"
    app = create_app({"state_file": path})
    saver = attach_state_file(app, interval=3600)
    client = app.test_client()
    saver.store.save()
    answer = client.put("/api/v1/approval-connectors/defaults", json={"default_delivery_mode": "all"}, headers=WS)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert saver.store.save() == 5  # the defaults' entries, one row each
    assert saver.stop()
    assert read_store(path)["approval_connectors"]["defaults"]["default_delivery_mode"] == "all"


# --- one server per state file --------------------------------------------------------------


@pytest.mark.parametrize("server", ["waitress", "granian"])
def test_a_second_server_on_the_same_state_file_refuses_to_start(tmp_path, server):
    path = tmp_path / "state.db"
    with ServedMock("--state-file", path, "--api-key", API_KEY, "--server", server) as first:
        first.client().ok("POST", "/api/tools", {"name": "first", "base_url": "https://x.example"}, 201)
        second = ServedMock("--state-file", path, "--server", server)
        assert second.refuses_to_start(timeout=30) == 2  # a start on a loaded machine can be slow
        assert second.stderr.strip().splitlines() == [
            f"runagents-mock: state file {path} is in use by another runagents-mock (pid {first.proc.pid}); "
            "stop it or choose another --state-file"
        ]
        # The first one goes on serving and saving.
        first.client().ok("POST", "/api/tools", {"name": "after", "base_url": "https://x.example"}, 201)
        assert first.terminate() == 0
    assert lock_file(path).exists()  # left behind, unlocked: the next server takes it
    with ServedMock("--state-file", path, "--api-key", API_KEY, "--server", server) as third:
        names = [t["name"] for t in third.client().ok("GET", "/api/tools", None, 200)]
        assert names == ["first", "after"]


# --- an import is durable when acknowledged -------------------------------------------------


def _large_state(runs: int, events: int) -> dict:
    state = create_app().extensions["runagents_mock"].platform.export()
    ts = "2026-01-01T00:00:00Z"
    ids = [str(uuid.uuid4()) for _ in range(runs)]
    state["runs"]["runs"] = [
        {
            "id": run_id,
            "agent_id": "a",
            "namespace": "agent-system",
            "user_id": "u",
            "status": "RUNNING",
            "invoke_url": "http://a.agent-system.svc.cluster.local:8080/invoke",
            "created_at": ts,
            "updated_at": ts,
        }
        for run_id in ids
    ]
    state["runs"]["events"] = {
        run_id: [
            {
                "event_id": str(uuid.uuid4()),
                "run_id": run_id,
                "seq": seq,
                "type": "USER_MESSAGE",
                "data": {"text": "x" * 200},
                "timestamp": ts,
            }
            for seq in range(1, events + 1)
        ]
        for run_id in ids
    }
    return state


def test_an_import_is_saved_before_it_is_acknowledged_and_later_writes_survive_sigkill(tmp_path):
    path = tmp_path / "state.db"
    state = _large_state(20, 300)
    with ServedMock("--state-file", path, "--api-key", API_KEY) as served:
        client = served.client()
        answer = client.session.put(
            served.url + "/_mock/state",
            data=json.dumps(state),
            headers={**AUTH, "Content-Type": "application/json"},
            timeout=120,
        )
        assert answer.status_code == 200 and answer.json() == {"status": "loaded", "durable": True}
        # Killed right after the answer: the import is in the store already.
        served.proc.kill()
        served.wait_exit()
    stored = read_store(path)
    assert len(stored["runs"]["runs"]) == 20 and sum(map(len, stored["runs"]["events"].values())) == 20 * 300

    with ServedMock("--state-file", path, "--api-key", API_KEY) as served:
        client = served.client()
        client.ok("POST", "/api/tools", {"name": "after-import", "base_url": "https://x.example"}, 201)
        time.sleep(1.2)  # the promise: a write acknowledged over a second before a SIGKILL is kept
        served.proc.kill()
        served.wait_exit()
    stored = read_store(path)
    assert [t["name"] for t in stored["tools"]["items"]] == ["after-import"]
    assert len(stored["runs"]["runs"]) == 20


def test_an_import_whose_save_fails_says_it_is_not_durable(tmp_path, monkeypatch):
    app = create_app({"state_file": tmp_path / "state.db"})
    saver = attach_state_file(app, interval=3600)
    monkeypatch.setattr(
        saver.store, "_write", lambda *a: (_ for _ in ()).throw(sqlite3.OperationalError("database or disk is full"))
    )
    client = app.test_client()
    exported = client.get("/_mock/state").get_json()
    answer = client.put("/_mock/state", json=exported)
    assert answer.status_code == 200
    assert answer.get_json() == {
        "status": "loaded",
        "durable": False,
        "error": "not saved yet, retrying: OperationalError: database or disk is full",
    }
    monkeypatch.undo()
    assert saver.stop()
