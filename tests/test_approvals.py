"""/governance/requests: idempotent creation, approval with expiry, rejection, run correlation."""

from __future__ import annotations

import pytest
from api_support import STRIPE_TOOL, error_of

REQUEST = {"subject": "payment-agent-sa", "tool_id": "stripe-api", "agent_id": "payment-agent"}


def create(api, **extra):
    return api.post("/governance/requests", {**REQUEST, **extra})


def test_create_then_idempotent_while_pending(api):
    first = create(api, duration="4h")
    assert first.status_code == 201
    body = first.get_json()
    assert body["status"] == "PENDING" and body["id"].startswith("req-")
    assert "action_id" not in body
    again = create(api, duration="1h")
    assert again.status_code == 200 and again.get_json() == body
    other_tool = create(api, tool_id="github-api")
    assert other_tool.status_code == 201 and other_tool.get_json()["id"] != body["id"]


@pytest.mark.parametrize(
    "body, message",
    [
        ({"tool_id": "t"}, "subject is required"),
        ({"subject": "s"}, "tool_id is required"),
        (
            {"subject": "s", "tool_id": "t", "duration": "forever"},
            "duration must be a duration such as 30m, 4h, 1d or 1h30m",
        ),
        # Each unit at most once, largest first: the form bounds the window (under 2,900 years).
        (
            {"subject": "s", "tool_id": "t", "duration": "30m1h"},
            "duration must be a duration such as 30m, 4h, 1d or 1h30m",
        ),
        (
            {"subject": "s", "tool_id": "t", "duration": "999999d1d"},
            "duration must be a duration such as 30m, 4h, 1d or 1h30m",
        ),
    ],
)
def test_create_validation(api, body, message):
    response = api.post("/governance/requests", body)
    assert response.status_code == 400 and error_of(response) == message


def test_list_defaults_to_pending_and_filters(api):
    pending = create(api).get_json()
    approved = create(api, tool_id="other").get_json()
    api.post(f"/governance/requests/{approved['id']}/approve", {})
    assert [r["id"] for r in api.get("/governance/requests").get_json()] == [pending["id"]]
    assert [r["id"] for r in api.get("/governance/requests?status=APPROVED").get_json()] == [approved["id"]]


def test_get_and_missing(api):
    created = create(api).get_json()
    assert api.get(f"/governance/requests/{created['id']}").get_json()["subject"] == "payment-agent-sa"
    for method, suffix in [("GET", ""), ("POST", "/approve"), ("POST", "/reject")]:
        response = api.request(method, f"/governance/requests/req-missing{suffix}")
        assert response.status_code == 404 and error_of(response) == "request not found"


def test_approve_sets_approver_and_expiry_from_request_duration(api):
    created = create(api, duration="30m").get_json()
    approved = api.post(
        f"/governance/requests/{created['id']}/approve", {}, headers={"X-End-User-ID": "admin@example.com"}
    ).get_json()
    assert approved["status"] == "APPROVED" and approved["approver_id"] == "admin@example.com"
    assert approved["duration"] == "30m"
    assert _seconds_between(approved["updated_at"], approved["expires_at"]) == 30 * 60


def test_expiry_falls_back_to_tool_then_4h(api):
    api.post("/api/tools", STRIPE_TOOL)  # defaultDuration 8h
    window = {"scope": "agent_user_ttl"}
    from_tool = api.post(f"/governance/requests/{create(api).get_json()['id']}/approve", window).get_json()
    assert _seconds_between(from_tool["updated_at"], from_tool["expires_at"]) == 8 * 3600
    plain = create(api, tool_id="no-such-tool").get_json()
    default = api.post(f"/governance/requests/{plain['id']}/approve", window).get_json()
    assert default["duration"] == "4h" and default["approver_id"] == "admin"
    assert _seconds_between(default["updated_at"], default["expires_at"]) == 4 * 3600


def test_sdk_approve_body_with_scope_and_duration(api):
    created = create(api).get_json()
    approved = api.post(
        f"/governance/requests/{created['id']}/approve", {"scope": "agent_user_ttl", "duration": "1d"}
    ).get_json()
    assert approved["duration"] == "1d"
    assert _seconds_between(approved["updated_at"], approved["expires_at"]) == 86400


def test_approved_requests_expire_on_the_clock(api):
    created = create(api, duration="1h").get_json()
    api.post(f"/governance/requests/{created['id']}/approve")
    api.advance(3599)
    assert api.get(f"/governance/requests/{created['id']}").get_json()["status"] == "APPROVED"
    api.advance(2)
    expired = api.get(f"/governance/requests/{created['id']}").get_json()
    assert expired["status"] == "EXPIRED"
    assert [r["id"] for r in api.get("/governance/requests?status=EXPIRED").get_json()] == [created["id"]]
    # An expired request frees the (subject, tool) pair for a new one.
    assert create(api).status_code == 201


def test_not_pending_is_409(api):
    created = create(api).get_json()
    api.post(f"/governance/requests/{created['id']}/reject", {"reason": "no"})
    for action in ("approve", "reject"):
        response = api.post(f"/governance/requests/{created['id']}/{action}")
        assert response.status_code == 409 and error_of(response) == "request is not pending"


def test_reject_with_and_without_reason(api):
    with_reason = create(api).get_json()
    rejected = api.post(
        f"/governance/requests/{with_reason['id']}/reject", {"reason": "Not authorized for production Stripe access"}
    ).get_json()
    assert rejected["status"] == "REJECTED"
    assert rejected["reason"] == "Not authorized for production Stripe access"
    bare = create(api).get_json()
    response = api.post(
        f"/governance/requests/{bare['id']}/reject", data=b"", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200 and "reason" not in response.get_json()


def new_run(api):
    return api.post("/runs", {"agent_id": "payment-agent", "user_id": "u@example.com"}).get_json()["id"]


def test_run_correlation_blocks_and_approval_resumes(api):
    run_id = new_run(api)
    created = create(api, run_id=run_id, capability="create-charge", payload_hash="sha256:abc").get_json()
    action_id = created["action_id"]
    run = api.get(f"/runs/{run_id}").get_json()
    assert run["status"] == "PAUSED_APPROVAL" and run["blocked_action_id"] == action_id
    action = api.get(f"/runs/{run_id}/actions/{action_id}").get_json()
    assert action["status"] == "BLOCKED" and action["payload_hash"] == "sha256:abc"
    api.post(f"/governance/requests/{created['id']}/approve", {"approver_id": "lead@example.com"})
    assert api.get(f"/runs/{run_id}/actions/{action_id}").get_json()["status"] == "APPROVED"
    assert api.get(f"/runs/{run_id}").get_json()["status"] == "RUNNING"
    events = api.get(f"/runs/{run_id}/events").get_json()
    assert [e["type"] for e in events] == ["APPROVAL_REQUIRED", "APPROVED", "RESUMED"]
    assert events[1]["actor"] == "lead@example.com"


def test_run_correlation_rejection_fails_the_run(api):
    run_id = new_run(api)
    created = create(api, run_id=run_id).get_json()
    api.post(f"/governance/requests/{created['id']}/reject", {"reason": "no"})
    assert api.get(f"/runs/{run_id}/actions/{created['action_id']}").get_json()["status"] == "FAILED"
    assert api.get(f"/runs/{run_id}").get_json()["status"] == "FAILED"
    assert [e["type"] for e in api.get(f"/runs/{run_id}/events").get_json()] == [
        "APPROVAL_REQUIRED",
        "REJECTED",
        "FAILED",
    ]


def test_run_correlation_errors_change_nothing(api):
    response = create(api, run_id="nope")
    assert response.status_code == 404 and error_of(response) == "run nope not found"
    run_id = new_run(api)
    api.patch(f"/runs/{run_id}", {"status": "COMPLETED"})
    response = create(api, run_id=run_id)
    assert response.status_code == 409
    assert error_of(response) == "run is COMPLETED, must be RUNNING to create actions"
    assert api.get("/governance/requests").get_json() == []


def _seconds_between(start: str, end: str) -> int:
    from datetime import datetime

    parse = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
    return int((parse(end) - parse(start)).total_seconds())


def test_approve_accepts_the_longest_duration_the_spec_allows(api):
    # The bound is the spec's Duration form, not a second limit in code (issue 12).
    created = create(api, duration="999999d999999h999999m999999s").get_json()
    response = api.post(f"/governance/requests/{created['id']}/approve")
    assert response.status_code == 200
    approved = response.get_json()
    assert _seconds_between(approved["updated_at"], approved["expires_at"]) == 999999 * (86400 + 3600 + 60 + 1)


def test_an_empty_run_id_means_no_run_and_is_not_echoed(api):
    # Echoing "" would hand clients (and schemathesis' links) an id no URL can hold (issue 12).
    created = create(api, run_id="").get_json()
    assert "run_id" not in created and "action_id" not in created
    assert "run_id" not in api.get(f"/governance/requests/{created['id']}").get_json()


@pytest.mark.parametrize(
    "body, status, message",
    [
        # The body is schema-valid; the request's state forbids the scope: a conflict, not a bad body.
        ({"scope": "run"}, 409, "scope run needs a request made for a run (this one has no run_id)"),
        # The document itself says a duration goes with the window only (allOf/if in the schema).
        ({"scope": "once", "duration": "1h"}, 400, "duration applies to scope agent_user_ttl only, not once"),
        ({"scope": "run", "duration": "1h"}, 400, "duration applies to scope agent_user_ttl only, not run"),
    ],
)
def test_approve_scope_refusals_leave_the_request_pending(api, body, status, message):
    created = create(api).get_json()
    refused = api.post(f"/governance/requests/{created['id']}/approve", body)
    assert (refused.status_code, error_of(refused)) == (status, message)
    assert api.get(f"/governance/requests/{created['id']}").get_json()["status"] == "PENDING"
