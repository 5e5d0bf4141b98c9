"""Fixture keys beyond the create bodies, which a recorded session (``proxy --record``) needs:
runs and access requests keep their ids and statuses. Each refusal names the item and changes
nothing."""

from __future__ import annotations

from api_support import error_of

RECORDED = """
runs:
  - {agent_id: a, user_id: u, id: 00000000-0000-4000-8000-00000000000a, status: COMPLETED, events: [{type: USER_MESSAGE}]}
  - {agent_id: a, user_id: v, id: 00000000-0000-4000-8000-00000000000b}
access_requests:
  - {subject: s1, tool_id: t, id: req-approved, status: APPROVED, approver_id: carol}
  - {subject: s2, tool_id: t, id: req-rejected, status: REJECTED, reason: not needed}
  - {subject: s3, tool_id: t, id: req-pending, status: PENDING}
"""


def test_ids_and_statuses_come_back(api):
    assert api.request("POST", "/_mock/seed", data=RECORDED).status_code == 200
    run = api.get("/runs/00000000-0000-4000-8000-00000000000a").get_json()
    assert run["status"] == "COMPLETED"
    assert [
        (e["run_id"], e["type"]) for e in api.get("/runs/00000000-0000-4000-8000-00000000000a/events").get_json()
    ] == [("00000000-0000-4000-8000-00000000000a", "USER_MESSAGE")]
    assert api.get("/runs/00000000-0000-4000-8000-00000000000b").get_json()["status"] == "RUNNING"
    approved = api.get("/governance/requests/req-approved").get_json()
    assert (approved["status"], approved["approver_id"]) == ("APPROVED", "carol")
    rejected = api.get("/governance/requests/req-rejected").get_json()
    assert (rejected["status"], rejected["reason"]) == ("REJECTED", "not needed")
    assert api.get("/governance/requests/req-pending").get_json()["status"] == "PENDING"


def _refused(api, fixture: str) -> str:
    before = api.get("/_mock/state").get_json()
    response = api.request("POST", "/_mock/seed", data=fixture)
    assert response.status_code == 400
    after = api.get("/_mock/state").get_json()
    assert after["runs"] == before["runs"] and after["access_requests"] == before["access_requests"]
    return error_of(response)


def test_a_taken_id_is_refused(api):
    api.request(
        "POST", "/_mock/seed", data="runs: [{agent_id: a, user_id: u, id: 00000000-0000-4000-8000-000000000001}]"
    )
    assert (
        _refused(api, "runs: [{agent_id: a, user_id: u, id: 00000000-0000-4000-8000-000000000001}]")
        == "runs[0]: run 00000000-0000-4000-8000-000000000001 already exists"
    )
    api.request("POST", "/_mock/seed", data="access_requests: [{subject: s, tool_id: t, id: req-1}]")
    assert (
        _refused(api, "access_requests: [{subject: x, tool_id: t, id: req-1}]")
        == "access_requests[0]: access request req-1 already exists"
    )


def test_bad_ids_and_statuses_are_refused(api):
    assert _refused(api, "runs: [{agent_id: a, user_id: u, id: ''}]") == "runs[0]: id must be a non-empty string"
    assert _refused(api, "runs: [{agent_id: a, user_id: u, id: run-1}]") == "runs[0]: id must be a valid uuid"
    assert (
        _refused(api, "access_requests: [{subject: s, tool_id: t, status: EXPIRED}]")
        == "access_requests[0]: status must be one of PENDING, APPROVED, REJECTED (got 'EXPIRED')"
    )
    assert (
        _refused(api, "runs: [{agent_id: a, user_id: u, status: SLEEPING}]")
        == "runs[0]: status must be one of: RUNNING, PAUSED_APPROVAL, COMPLETED, FAILED"
    )
    assert _refused(api, "runs: [{agent_id: a, user_id: u, events: {type: X}}]") == "runs[0]: events must be a list"
