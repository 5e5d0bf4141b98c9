"""``runagents-mock serve --state-file``: state survives a clean stop and a crash, and a bad
file stops the server from starting instead of being replaced by an empty state."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from reliability_support import AUTH, Client, ServedMock, write_state_file

from mockserver import create_app
from mockserver.testkit.state_file import read_store

TOOL_FIELDS = {"name", "namespace", "spec", "status"}
RUN_FIELDS = {"id", "agent_id", "namespace", "user_id", "status", "invoke_url", "created_at", "updated_at"}
EVENT_FIELDS = {"event_id", "run_id", "seq", "type", "timestamp"}


def populate(c: Client) -> None:
    """One of everything, including state machines part-way through."""
    c.ok("POST", "/api/starter-kit")
    c.ok(
        "POST",
        "/api/tools",
        {
            "name": "stripe-api",
            "spec": {
                "connection": {
                    "topology": "External",
                    "baseUrl": "https://api.stripe.com",
                    "port": 443,
                    "scheme": "HTTPS",
                    "authentication": {"type": "APIKey"},
                },
                "governance": {"approval": {"defaultDuration": "2h"}},
            },
            "credentials": {"api_key": "sk_test_not_kept"},
        },
        201,
    )
    c.ok(
        "POST",
        "/api/model-providers",
        {
            "name": "openai",
            "spec": {
                "provider": "openai",
                "endpoint": "https://api.openai.com",
                "models": ["gpt-4o"],
                "auth": {"type": "None"},
            },
        },
        201,
    )
    c.ok("POST", "/api/deploy", {"agent_name": "built", "source_files": {"agent.py": "print(1)\n"}}, 201)
    c.ok("POST", "/api/deploy", {"agent_name": "ready", "image": "registry.example.com/ready:1"}, 201)
    run = c.ok("POST", "/runs", {"agent_id": "ready", "user_id": "alice@example.com"}, 201)
    for kind in ("USER_MESSAGE", "TOOL_REQUEST"):
        c.ok("POST", f"/runs/{run['id']}/events", {"type": kind}, 201)
    c.ok("POST", "/governance/requests", {"subject": "ready-sa", "tool_id": "stripe-api", "run_id": run["id"]}, 201)
    c.ok("POST", "/governance/requests", {"subject": "other-sa", "tool_id": "echo-tool"}, 201)
    c.ok(
        "POST", "/analyze", {"files": {"agent.py": "import requests\nrequests.get('https://api.example.com/x')\n"}}, 201
    )
    c.advance(30)


def check_snapshot(state: dict) -> None:
    """What a snapshot must hold to be usable: complete objects, contiguous event logs."""
    assert state["version"] == 1
    for tool in state["tools"]["items"]:
        assert set(tool) >= TOOL_FIELDS, tool
    runs = state["runs"]["runs"]
    for run in runs:
        assert set(run) >= RUN_FIELDS, run
        events = state["runs"]["events"][run["id"]]
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1)), run["id"]
        for event in events:
            assert set(event) >= EVENT_FIELDS and event["run_id"] == run["id"], event
    assert set(state["runs"]["events"]) == {r["id"] for r in runs}


def check_event_logs_in_store(path: Path) -> None:
    """Read the store as another process would while it is written: each run's event log
    is whole (items 0..n-1)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        logs = conn.execute(
            "SELECT k, COUNT(*), MIN(i), MAX(i) FROM records WHERE tbl = 'runs.events' AND i >= 0 GROUP BY k"
        ).fetchall()
    finally:
        conn.close()
    for run_id, count, first, last in logs:
        assert first == 0 and last == count - 1, (run_id, count, first, last)


def test_sigterm_then_restart_restores_everything(tmp_path):
    state_file = tmp_path / "state.json"
    with ServedMock("--state-file", state_file) as first:
        c = first.client()
        populate(c)
        # Acknowledged just before the signal: must not depend on the interval saver.
        c.ok("POST", "/api/tools", {"name": "last-write", "base_url": "https://last.example.com"}, 201)
        before = c.state()
        assert first.terminate() == 0
    assert "runagents-mock stopped" in first.stdout
    check_snapshot(read_store(state_file))

    with ServedMock("--state-file", state_file) as second:
        c = second.client()
        assert c.state() == before
        assert c.ok("GET", "/api/tools/last-write")["spec"]["connection"]["baseUrl"] == "https://last.example.com"
        # Time-driven state carried over: the clock offset, and the build finishing from it.
        assert c.control("GET", "/_mock/clock").json()["offset_seconds"] == pytest.approx(30)
        assert c.ok("GET", "/api/agents/agent-system/built")["status"]["phase"] == "Running"
        # And the restored state is live: logs continue where they stopped.
        run_id = before["runs"]["runs"][0]["id"]
        assert c.ok("POST", f"/runs/{run_id}/events", {"type": "USER_MESSAGE"}, 201)["seq"] == 4


def test_sigkill_under_load_leaves_a_consistent_snapshot_that_loads(tmp_path):
    state_file = tmp_path / "state.json"
    acknowledged: set[str] = set()
    attempted: set[str] = set()
    stop = threading.Event()
    errors: list[str] = []

    with ServedMock("--state-file", state_file) as served:
        c = served.client()
        run_id = c.ok("POST", "/runs", {"agent_id": "a", "user_id": "u"}, 201)["id"]

        def create_tools(worker: int) -> None:
            w, i = served.client(), 0
            while not stop.is_set() and i < 2000:
                name = f"tool-{worker}-{i}"
                attempted.add(name)
                try:
                    if (
                        w.post("/api/tools", {"name": name, "base_url": "https://x.example.com"}, timeout=3).status_code
                        == 201
                    ):
                        acknowledged.add(name)
                except Exception:  # the server is killed under our feet: expected
                    return
                i += 1

        def append_events() -> None:
            w, i = served.client(), 0
            while not stop.is_set() and i < 4000:
                try:
                    w.post(f"/runs/{run_id}/events", {"type": "USER_MESSAGE"}, timeout=3)
                except Exception:
                    return
                i += 1

        def read_file_while_saving() -> None:
            # Saves are atomic: whatever a reader finds is a whole save (contiguous event logs).
            deadline = time.monotonic() + 5
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    check_event_logs_in_store(state_file)
                except Exception as exc:
                    errors.append(f"torn snapshot: {exc!r}")
                    return
                time.sleep(0.01)

        workers = [threading.Thread(target=create_tools, args=(n,)) for n in range(3)]
        workers += [threading.Thread(target=append_events), threading.Thread(target=read_file_while_saving)]
        for t in workers:
            t.start()
        # Let the interval saver (every 0.5 s) write a few snapshots under load, then crash.
        deadline = time.monotonic() + 10
        while len(acknowledged) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.2)
        served.proc.kill()
        served.proc.wait(timeout=10)
        stop.set()
        for t in workers:
            t.join(timeout=10)

    assert not errors, errors
    assert acknowledged, "no write was acknowledged before the crash"
    snapshot = read_store(state_file)
    check_snapshot(snapshot)
    saved_tools = {t["name"] for t in snapshot["tools"]["items"]}
    assert saved_tools, "the interval saver never saved"
    assert saved_tools <= attempted, "the snapshot holds tools nobody created"
    saved_events = len(snapshot["runs"]["events"][run_id])

    with ServedMock("--state-file", state_file) as restarted:
        c = restarted.client()
        assert {t["name"] for t in c.ok("GET", "/api/tools")} == saved_tools
        events = c.ok("GET", f"/runs/{run_id}/events")
        assert [e["seq"] for e in events] == list(range(1, saved_events + 1))
        assert c.ok("POST", f"/runs/{run_id}/events", {"type": "USER_MESSAGE"}, 201)["seq"] == saved_events + 1


def _valid_state() -> dict:
    """A small real export (one tool, one run with two events) to damage in different ways."""
    app = create_app()
    client = app.test_client()
    client.post("/api/tools", json={"name": "t", "base_url": "https://x.example.com"}, headers=AUTH)
    run_id = client.post("/runs", json={"agent_id": "a", "user_id": "u"}, headers=AUTH).get_json()["id"]
    for _ in range(2):
        client.post(f"/runs/{run_id}/events", json={"type": "USER_MESSAGE"}, headers=AUTH)
    return app.extensions["runagents_mock"].platform.export()


def _damaged(kind: str) -> str:
    state = _valid_state()
    text = json.dumps(state)
    if kind == "truncated":
        return text[: len(text) // 2]
    if kind == "garbage":
        return "\x00\x01\x02 not json at all \xff"
    if kind == "empty":
        return ""
    if kind == "not an object":
        return "[1, 2, 3]"
    if kind == "unknown version":
        return json.dumps({**state, "version": 99})
    if kind == "clock offset null":
        return json.dumps({**state, "clock_offset": None})
    if kind == "section of the wrong type":
        return json.dumps({**state, "tools": ["t"]})
    if kind == "record missing fields":
        state["tools"]["items"][0] = {"name": "t"}  # no namespace, spec or status
        return json.dumps(state)
    if kind == "event log with a gap":
        run_id = state["runs"]["runs"][0]["id"]
        state["runs"]["events"][run_id][1]["seq"] = 3
        return json.dumps(state)
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "truncated",
        "garbage",
        "empty",
        "not an object",
        "unknown version",
        "clock offset null",
        "section of the wrong type",
        "record missing fields",
        "event log with a gap",
    ],
)
def test_bad_state_file_stops_the_start_with_a_clear_error(tmp_path, kind):
    state_file = tmp_path / "state.json"
    write_state_file(state_file, _damaged(kind))
    original = state_file.read_bytes()

    served = ServedMock("--state-file", state_file)
    code = served.refuses_to_start(timeout=10)
    assert code != 0, f"exit 0 on a {kind} state file:\n{served.output}"
    # One readable line naming the file, not a traceback.
    assert "Traceback" not in served.stderr, served.stderr
    assert f"runagents-mock: state file {state_file}" in served.stderr, served.stderr
    # The bad file is left for the user to inspect, not overwritten with an empty state.
    assert state_file.read_bytes() == original


def test_valid_state_file_used_by_the_corruption_cases_does_load(tmp_path):
    # Guards the test above: its files fail for the damage done, not for a bad base.
    state_file = tmp_path / "state.json"
    state = _valid_state()
    write_state_file(state_file, state)
    with ServedMock("--state-file", state_file) as served:
        c = served.client()
        assert [t["name"] for t in c.ok("GET", "/api/tools")] == ["t"]
        run_id = state["runs"]["runs"][0]["id"]
        assert [e["seq"] for e in c.ok("GET", f"/runs/{run_id}/events")] == [1, 2]


def test_missing_state_file_starts_empty_and_is_created(tmp_path):
    state_file = tmp_path / "sub" / "state.json"
    with ServedMock("--state-file", state_file) as served:
        served.client().ok("POST", "/api/tools", {"name": "t", "base_url": "https://x.example.com"}, 201)
        assert served.terminate() == 0
    assert [t["name"] for t in read_store(state_file)["tools"]["items"]] == ["t"]


def test_crash_leftovers_do_not_stop_a_restart(tmp_path: Path):
    # A crash in the middle of a save leaves the temporary file next to the state file.
    state_file = tmp_path / "state.json"
    write_state_file(state_file, _valid_state())
    (tmp_path / ".state.json.crashed").write_text('{"version": 1, "tools": {"ite')
    with ServedMock("--state-file", state_file) as served:
        assert [t["name"] for t in served.client().ok("GET", "/api/tools")] == ["t"]
