"""A bare approvals list on /api/v1 holds every request (issue 27.8): the June page and the
vendor contract name `status` a filter only; the February list stays PENDING unless filtered."""

from __future__ import annotations

import requests

V1 = {"X-RunAgents-API-Key": "ra_ws_k"}
FEB = {"Authorization": "Bearer k"}


def test_bare_v1_list_is_every_request_oldest_first_and_february_stays_pending(runagents_mock):
    base = runagents_mock.url + "/api/v1/approvals/requests"
    ids = [
        requests.post(base, json={"subject": f"bot-{n}", "tool_id": "echo-tool"}, headers=V1, timeout=10).json()["id"]
        for n in range(3)
    ]
    assert requests.post(f"{base}/{ids[0]}/reject", json={}, headers=V1, timeout=10).status_code == 200
    assert requests.post(f"{base}/{ids[1]}/approve", json={}, headers=V1, timeout=10).status_code == 200

    bare = requests.get(base, headers=V1, timeout=10).json()
    assert [(r["id"], r["status"]) for r in bare] == [(ids[0], "REJECTED"), (ids[1], "APPROVED"), (ids[2], "PENDING")]
    assert [r["id"] for r in requests.get(base, params={"status": "APPROVED"}, headers=V1, timeout=10).json()] == [
        ids[1]
    ]
    assert requests.get(base, params={"status": "nope"}, headers=V1, timeout=10).status_code == 400

    february = requests.get(runagents_mock.url + "/governance/requests", headers=FEB, timeout=10).json()
    assert [r["id"] for r in february] == [ids[2]]
