"""Issue 23 item 13: ``PUT /_mock/state`` reads the export as a stream, in bounded extra memory.

A large-ish export (a few MB of run events) loads and round-trips byte for byte, also sent
chunked to both servers and over ``--max-body-bytes`` (also a workspace's import, which granian
held to that limit before); a malformed stream (cut short, bad JSON late in the events, a bad event
after thousands of good ones, data after the document) is a 400 and changes nothing; the run
events it loads are redacted as before; and the load holds about the state it loads, not the
body, its text and its parsed form at once.
"""

from __future__ import annotations

import functools
import io
import json
import tracemalloc
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from reliability_support import API_KEY, AUTH, ServedMock

from mockserver import create_app

RUNS, EVENTS_PER_RUN = 20, 1_000  # 20,000 events, ~6 MB of export
STAMP = "2026-01-01T00:00:00Z"


@functools.cache
def _export(runs: int = RUNS, events: int = EVENTS_PER_RUN, secret: bool = False) -> bytes:
    """An export of an empty mock plus ``runs`` finished runs of ``events`` events each."""
    state = json.loads(create_app({}).test_client().get("/_mock/state").get_data())
    for number in range(runs):
        run_id = str(uuid.UUID(int=number + 1))
        state["runs"]["runs"].append(
            {
                "id": run_id,
                "agent_id": "bot",
                "namespace": "agent-system",
                "user_id": f"user{number}@example.com",
                "status": "COMPLETED",
                "invoke_url": "http://bot.agent-system.svc.cluster.local:8080/invoke",
                "created_at": STAMP,
                "updated_at": STAMP,
            }
        )
        state["runs"]["events"][run_id] = [
            {
                "event_id": str(uuid.UUID(int=(number + 1) * 1_000_000 + seq)),
                "run_id": run_id,
                "seq": seq,
                "type": "AGENT_MESSAGE",
                "actor": "bot",
                "data": {
                    "content": f"answer {seq} of an ordinary length",
                    **({"password": "hunter2"} if secret else {}),
                },
                "timestamp": STAMP,
            }
            for seq in range(1, events + 1)
        ]
    return json.dumps(state, separators=(",", ":")).encode()


@pytest.fixture
def client():
    return create_app({"api_keys": (API_KEY,)}).test_client()


def _put(client: Any, body: bytes) -> Any:
    return client.put("/_mock/state", data=body, headers={**AUTH, "Content-Type": "application/json"})


def test_a_large_import_loads_and_round_trips(client):
    export = _export()
    assert len(export) > 4_000_000
    answer = _put(client, export)
    assert (answer.status_code, answer.get_json()) == (200, {"status": "loaded"})
    assert client.get("/_mock/state", headers=AUTH).get_data() == export
    run_id = str(uuid.UUID(int=RUNS))
    events = client.get(f"/runs/{run_id}/events", headers=AUTH).get_json()
    assert [e["seq"] for e in events][-3:] == [998, 999, 1000]


def test_imported_events_are_redacted_as_they_load(client):
    answer = _put(client, _export(runs=2, events=3, secret=True))
    assert answer.status_code == 200, answer.get_json()
    exported = client.get("/_mock/state", headers=AUTH).get_data()
    assert b"hunter2" not in exported
    assert json.loads(exported)["runs"]["events"][str(uuid.UUID(int=1))][0]["data"]["password"] == "***"


def _cut(export: bytes) -> bytes:
    return export[: len(export) * 3 // 4]


def _bad_json_late(export: bytes) -> bytes:
    at = export.rindex(b'"seq":')
    return export[:at] + b'"seq":,' + export[at + 6 :]


def _bad_event_late(export: bytes) -> bytes:
    at = export.rindex(b'"seq":1000,')  # a gap in the last run's log, at its last event
    return export[:at] + b'"seq":1001,' + export[at + 11 :]


@pytest.mark.parametrize(
    ("damage", "error"),
    [
        (_cut, "request body is not valid JSON"),
        (_bad_json_late, "request body is not valid JSON"),
        (lambda e: e + b" {}", "request body is not valid JSON"),
        (lambda e: e.replace(b'"version":1', b'"version":NaN', 1), "request body is not valid JSON"),
        (lambda e: b"\xff" + e, "request body is not valid JSON"),
        (_bad_event_late, f"runs.events.{uuid.UUID(int=5)}: seq 1001 where 1000 was expected"),
    ],
    ids=["cut short", "bad JSON in the last event", "data after the document", "NaN", "not UTF-8", "seq gap"],
)
def test_a_malformed_stream_is_a_400_and_changes_nothing(client, damage, error):
    assert _put(client, _export(runs=2, events=10)).status_code == 200
    before = client.get("/_mock/state", headers=AUTH).get_data()
    refused = _put(client, damage(_export(runs=5)))  # 1.5 MB: the damage is past the first read
    assert (refused.status_code, refused.get_json()) == (400, {"error": error})
    assert client.get("/_mock/state", headers=AUTH).get_data() == before


def _chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("server", ["granian", "waitress"])
def test_a_chunked_import_over_the_body_limit_loads_on_both_servers(server):
    export = _export(runs=4)  # 1.2 MB, twelve times --max-body-bytes
    with ServedMock("--server", server, "--api-key", API_KEY, "--max-body-bytes", "100000") as served:
        for path in ("/_mock/state", "/_mock/workspaces/acme/state"):
            answer = requests.put(
                served.url + path,
                data=_chunks(export),  # no Content-Length: sent chunked
                headers={**AUTH, "Content-Type": "application/json"},
                timeout=120,
            )
            assert (answer.status_code, answer.json()) == (200, {"status": "loaded"}), path
            assert requests.get(served.url + path, headers=AUTH, timeout=120).content == export


def test_the_load_holds_about_the_state_not_three_copies_of_the_body():
    """Peak memory traced while the control service loads an export from a stream: the
    streamed load holds the loaded state (run events as their JSON bytes, ~1.2 times the body)
    and a read-ahead (1.75 times the body in all, here); parsing the whole body at once held
    its parsed form too (5.3 times the body, on top of the body itself)."""
    app = create_app({})
    control = app.extensions["runagents_mock"].control
    export = _export(runs=10)  # 2.3 MB: the reader's read-ahead (256 KiB) and the check's blocks stay small beside it
    stream = io.BytesIO(export)
    tracemalloc.start()
    try:
        control.load_state_stream(stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert app.test_client().get("/_mock/state").get_data() == export
    assert peak < 2 * len(export), f"peak {peak} bytes for a {len(export)}-byte export"
