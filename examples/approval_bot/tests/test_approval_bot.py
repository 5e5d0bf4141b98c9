"""approval_bot against runagents-mock: every test gets a fresh, empty mock API."""

import pytest
from approval_bot import ApiError, ApprovalBot, RunAgentsApi


@pytest.fixture
def bot(runagents_mock):
    api = RunAgentsApi(runagents_mock.url, runagents_mock.api_key, max_wait_seconds=0.2)
    return ApprovalBot(api, allowed_tools={"echo-tool"})


def test_start_run_logs_the_user_message(bot, runagents_mock):
    run = bot.start_run("support-agent", "alice@example.com", "refund order 42")

    assert run["status"] == "RUNNING"
    [event] = bot.events(run["id"])
    assert (event["seq"], event["type"], event["actor"]) == (1, "USER_MESSAGE", "alice@example.com")
    assert event["data"] == {"content": "refund order 42"}
    runagents_mock.assert_called("POST", "/runs", times=1)
    runagents_mock.assert_called("POST", f"/runs/{run['id']}/events", times=1)


def test_blocked_action_pauses_the_run_until_approved(bot):
    run = bot.start_run("support-agent", "alice@example.com", "refund order 42")

    action = bot.block_action(run["id"], "stripe-api", "create-refund", "sha256:abc")
    paused = bot.run(run["id"])
    assert paused["status"] == "PAUSED_APPROVAL"
    assert paused["blocked_action_id"] == action["action_id"]

    bot.approve_action(run["id"], action["action_id"], "sha256:abc")
    assert bot.run(run["id"])["status"] == "RUNNING"
    assert [e["type"] for e in bot.events(run["id"])] == ["USER_MESSAGE", "APPROVAL_REQUIRED", "APPROVED", "RESUMED"]


def test_approving_with_another_payload_is_refused(bot):
    run = bot.start_run("support-agent", "alice@example.com", "refund order 42")
    action = bot.block_action(run["id"], "stripe-api", "create-refund", "sha256:abc")

    with pytest.raises(ApiError) as refused:
        bot.approve_action(run["id"], action["action_id"], "sha256:tampered")
    assert (refused.value.status, refused.value.message) == (409, "payload_hash mismatch")


@pytest.mark.runagents_seed("fixtures/pending_requests.yaml")
def test_review_approves_allowed_tools_and_rejects_the_rest(bot, runagents_mock):
    decisions = bot.review_pending()

    assert {(d.tool_id, d.approved) for d in decisions} == {("echo-tool", True), ("stripe-api", False)}
    assert bot.requests_with_status("PENDING") == []
    [approved] = bot.requests_with_status("APPROVED")
    assert approved["approver_id"] == "approval-bot"
    [rejected] = bot.requests_with_status("REJECTED")
    assert rejected["reason"] == "stripe-api is not on the allow list"
    runagents_mock.assert_called("POST", "/governance/requests/*/approve", times=1)
    runagents_mock.assert_called("POST", "/governance/requests/*/reject", times=1)


def test_review_resumes_or_fails_the_runs_waiting_for_access(bot):
    allowed = bot.start_run("support-agent", "alice@example.com", "echo hello")
    refused = bot.start_run("support-agent", "bob@example.com", "charge my card")
    bot.request_tool(allowed["id"], "support-agent", "echo-tool", "echo")
    bot.request_tool(refused["id"], "billing-agent", "stripe-api", "create-charge")
    assert bot.run(allowed["id"])["status"] == "PAUSED_APPROVAL"

    bot.review_pending()

    assert bot.run(allowed["id"])["status"] == "RUNNING"
    assert bot.run(refused["id"])["status"] == "FAILED"
    assert bot.finish(allowed["id"], "hello")["status"] == "COMPLETED"


def test_review_with_nothing_pending_decides_nothing(bot, runagents_mock):
    assert bot.review_pending() == []
    runagents_mock.assert_not_called("POST", "/governance/requests/*")


@pytest.mark.runagents_seed("fixtures/pending_requests.yaml")
def test_a_brief_outage_is_retried_once(bot, runagents_mock):
    runagents_mock.faults.add(method="GET", path="/governance/requests", status=503, times=1)

    assert len(bot.review_pending()) == 2
    runagents_mock.assert_called("GET", "/governance/requests", times=2)


def test_a_long_outage_is_reported(bot, runagents_mock):
    runagents_mock.faults.add(method="GET", path="/governance/requests", status=503, error="maintenance")

    with pytest.raises(ApiError) as failed:
        bot.review_pending()
    assert (failed.value.status, failed.value.message) == (503, "maintenance")
    runagents_mock.assert_called("GET", "/governance/requests", times=2)  # one retry, then give up


def test_a_rate_limit_longer_than_we_wait_is_reported(bot, runagents_mock):
    runagents_mock.set_rate_limit(1)
    bot.review_pending()

    with pytest.raises(ApiError) as limited:
        bot.review_pending()
    assert limited.value.status == 429


@pytest.mark.runagents_seed("fixtures/pending_requests.yaml")
def test_approved_access_ends_after_the_default_four_hours(bot, runagents_mock):
    bot.review_pending()

    runagents_mock.advance(4 * 3600 - 60)
    assert len(bot.requests_with_status("APPROVED")) == 1
    runagents_mock.advance(60)
    assert [r["tool_id"] for r in bot.requests_with_status("EXPIRED")] == ["echo-tool"]
