"""Approval outcomes (what a scoped approval grants) are state: the SQLite state file keeps
them, so a window approved before a restart still lets its user through after it."""

from __future__ import annotations

from reliability_support import AUTH

from mockserver import create_app
from mockserver.services.governance.scopes import ToolCall
from mockserver.services.platform import Platform
from mockserver.surface.persistence import attach_state_file
from mockserver.testkit.state_file import read_store


def test_a_scoped_approval_survives_the_state_file(tmp_path):
    path = tmp_path / "state.db"
    app = create_app({"state_file": path})
    saver = attach_state_file(app, interval=3600)
    client = app.test_client()
    run = client.post("/runs", json={"agent_id": "a", "user_id": "alice"}, headers=AUTH).get_json()
    request = client.post(
        "/governance/requests",
        json={"subject": "a", "agent_id": "a", "tool_id": "t", "run_id": run["id"], "payload_hash": "h"},
        headers=AUTH,
    ).get_json()
    approved = client.post(
        f"/governance/requests/{request['id']}/approve", json={"scope": "agent_user_ttl"}, headers=AUTH
    )
    assert approved.status_code == 200
    saver.store.save()
    assert saver.stop()

    restored = Platform()
    restored.load(read_store(path))
    assert [o["scope"] for o in restored.governance.outcomes.values()] == ["agent_user_ttl"]
    assert restored.governance.covering(ToolCall("a", "t", None, "alice", "any", "other")) is not None
    assert restored.governance.covering(ToolCall("a", "t", None, "bob", "any", "other")) is None
