"""Ids a backend hands out come from its data: a restart from ``--state-file`` or a state load
(even one whose logs were trimmed) never makes an id repeat."""

from __future__ import annotations

import uuid

from reliability_support import AUTH

from mockserver import create_app
from mockserver.surface.persistence import attach_state_file

WS_KEY = {"X-RunAgents-API-Key": "ra_ws_ids"}


def _connector_and_requests(app, count: int) -> list[str]:
    """A connector, then ``count`` access requests (one delivery activity each); the ids of
    the activity entries, oldest first."""
    client = app.test_client()
    if not client.get("/api/v1/approval-connectors", headers=WS_KEY).get_json():
        created = client.post(
            "/api/v1/approval-connectors", headers=WS_KEY, json={"name": "hook", "endpoint": "https://hook.example"}
        )
        assert created.status_code == 201, created.get_data(as_text=True)
    for _ in range(count):
        answer = client.post(
            "/governance/requests", headers=AUTH, json={"subject": f"s-{uuid.uuid4()}", "tool_id": "t"}
        )
        assert answer.status_code in (200, 201), answer.get_data(as_text=True)
    activity = client.get("/api/v1/approval-connectors/activity", headers=WS_KEY).get_json()
    return [entry["id"] for entry in reversed(activity)]


def test_activity_ids_do_not_repeat_after_a_restart(tmp_path):
    path = tmp_path / "state.db"
    first = create_app({"state_file": path})
    saver = attach_state_file(first, interval=3600)
    before = _connector_and_requests(first, 3)
    assert len(set(before)) == 3
    assert saver.stop()

    second = create_app({"state_file": path})
    saver = attach_state_file(second, interval=3600)
    after = _connector_and_requests(second, 1)
    assert after[:3] == before
    assert after[3] not in before
    assert saver.stop()


def test_activity_ids_do_not_repeat_after_loading_a_trimmed_log():
    app = create_app()
    ids = _connector_and_requests(app, 5)
    client = app.test_client()
    state = client.get("/_mock/state").get_json()
    activity = state["approval_connectors"]["activity"]
    state["approval_connectors"]["activity"] = activity[-2:]  # the newest two kept
    assert client.put("/_mock/state", json=state).status_code == 200
    after = _connector_and_requests(app, 1)
    assert after[:2] == ids[-2:]
    assert after[2] not in ids
