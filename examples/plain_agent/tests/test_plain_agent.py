"""plain_agent against runagents-mock: deployed through the API, given the platform's env, and
driven through invoke, the tool proxy, approval and the resume worker."""

import time

import pytest
from plain_agent import PlainAgent, serve

AGENT = "agent-system/refund-bot"


def api(mock, method, path, **kwargs):
    answer = mock.request(method, path, **kwargs)
    assert answer.status_code < 400, answer.text
    return answer.json()


@pytest.fixture
def agent(runagents_mock):
    api(
        runagents_mock,
        "POST",
        "/api/tools",
        json={
            "name": "orders",
            "spec": {
                "connection": {"baseUrl": "https://orders.example.test"},
                "governance": {"accessControl": {"mode": "Open"}},
            },
        },
    )
    api(
        runagents_mock,
        "POST",
        "/api/tools",
        json={
            "name": "payments",
            "spec": {
                "connection": {"baseUrl": "https://payments.example.test"},
                "governance": {"accessControl": {"mode": "Critical"}, "approval": {"defaultDuration": "30m"}},
                "capabilities": [{"name": "refund", "method": "POST", "path": "/v1/refunds"}],
            },
        },
    )
    api(
        runagents_mock,
        "POST",
        "/api/deploy",
        json={"agent_name": "refund-bot", "image": "example/refund-bot:1", "required_tools": ["orders", "payments"]},
    )
    env = api(runagents_mock, "GET", f"/_mock/agents/{AGENT}/env")
    server = serve(PlainAgent(env))
    api(
        runagents_mock,
        "PUT",
        f"/_mock/agents/{AGENT}/endpoint",
        json={"url": f"http://127.0.0.1:{server.server_address[1]}"},
    )
    yield runagents_mock
    server.shutdown()
    server.server_close()


def invoke(mock, message):
    return api(
        mock,
        "POST",
        f"/api/agents/{AGENT}/invoke",
        json={"message": message},
        headers={"X-End-User-ID": "dana@example.com"},
    )


def only_run(mock):
    # Unfiltered, GET /runs lists RUNNING runs only, so look in every status. A run that moves on
    # between two listings shows up twice: count ids, then read the run as it is now.
    [run_id] = {
        r["id"]
        for status in ("RUNNING", "PAUSED_APPROVAL", "COMPLETED", "FAILED")
        for r in api(mock, "GET", f"/runs?status={status}")
    }
    return api(mock, "GET", f"/runs/{run_id}")


def wait_until_settled(mock, run_id):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run = api(mock, "GET", f"/runs/{run_id}")
        if run["status"] in ("COMPLETED", "FAILED"):
            return run
        time.sleep(0.05)
    return run


def test_open_tool_answers_and_the_run_completes(agent):
    reply = invoke(agent, "look up 42")
    assert reply["tool_answer"]["url"] == "https://orders.example.test/v1/orders/42"
    assert reply["tool_answer"]["headers"]["X-End-User-ID"] == "dana@example.com"
    assert only_run(agent)["status"] == "COMPLETED"


def test_refund_waits_for_approval_then_resumes(agent):
    reply = invoke(agent, "refund 42 15")
    detail = reply["approval_required"]
    run = only_run(agent)
    assert run["status"] == "PAUSED_APPROVAL" and run["blocked_action_id"] == detail["action_id"]
    [request] = api(agent, "GET", "/governance/requests")
    assert (request["subject"], request["tool_id"], request["capability"]) == ("refund-bot", "payments", "refund")

    api(agent, "POST", f"/governance/requests/{request['id']}/approve", json={})
    done = wait_until_settled(agent, run["id"])
    assert done["status"] == "COMPLETED"
    types = [e["type"] for e in api(agent, "GET", f"/runs/{run['id']}/events")]
    # The audit trail: the blocked call is logged before it pauses the run, and the resume too.
    assert types == [
        "USER_MESSAGE",
        "TOOL_REQUEST",
        "APPROVAL_REQUIRED",
        "APPROVED",
        "RESUMED",
        "TOOL_REQUEST",
        "TOOL_RESPONSE",
        "AGENT_MESSAGE",
        "COMPLETED",
    ]


def test_rejected_refund_fails_the_run(agent):
    invoke(agent, "refund 42 15")
    [request] = api(agent, "GET", "/governance/requests")
    api(agent, "POST", f"/governance/requests/{request['id']}/reject", json={"reason": "too much"})
    assert only_run(agent)["status"] == "FAILED"


def test_approval_lasts_until_it_expires_on_the_mock_clock(agent):
    invoke(agent, "refund 42 15")
    [request] = api(agent, "GET", "/governance/requests")
    # No scope approves this one call only (`once`); a time window covers the next calls.
    api(
        agent,
        "POST",
        f"/governance/requests/{request['id']}/approve",
        json={"scope": "agent_user_ttl", "duration": "30m"},
    )
    assert wait_until_settled(agent, only_run(agent)["id"])["status"] == "COMPLETED"
    covered = invoke(agent, "refund 43 5")
    assert covered["response"] == "done", covered  # the window covers it
    agent.advance(31 * 60)
    expired = invoke(agent, "refund 44 5")
    assert "approval_required" in expired, expired
