"""/_mock/ui in a real browser: it shows state live and acts through the documented API."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from playwright.sync_api import expect

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "console.png"
PAYLOAD = "<img src=x onerror=window.__xss=1><script>window.__xss=2</script>"  # no quote: JSON shows it as is

APPROVAL_FIXTURE = """
tools: [{name: stripe-api, base_url: https://api.stripe.com, auth_type: APIKey}]
agents: [{agent_name: payment-agent, image: registry.example.com/payment-agent:1}]
access_requests:
  - {subject: payment-agent-sa, tool_id: stripe-api, agent_id: payment-agent}
  - {subject: support-agent-sa, tool_id: stripe-api}
"""


def open_console(page, site, key=None):
    page.goto(site.url + "/_mock/ui")
    if key:
        page.fill("#admin-key", key)
        page.locator("#login-form button").click()
    expect(page.locator("#app")).to_be_visible()
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads


def decide_on_the_page(page, site, request_id: str, decision: str, text: str):
    """Open the console, type into the request's duration (approve) or reason (reject) field
    and click the button; returns the request's row."""
    open_console(page, site)
    row = page.locator(f'#pending-requests tr[data-id="{request_id}"]')
    row.locator("input.duration" if decision == "approve" else "input.reason").fill(text)
    row.locator(f"button.{decision}").click()
    return row


def still_same_document(page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def test_a_seeded_runs_timeline_is_shown(site, page, tmp_path):
    site.seed(
        APPROVAL_FIXTURE
        + """
runs:
  - agent_id: payment-agent
    user_id: alice@example.com
    events:
      - {type: USER_MESSAGE, actor: alice@example.com, data: {text: refund order 42}}
      - {type: TOOL_REQUEST, actor: payment-agent, data: {tool: stripe-api}}
  - {agent_id: other-agent, user_id: bob@example.com}
"""
    )
    assert site.api("GET", "/api/agents").status_code == 200  # something in the journal
    open_console(page, site)
    runs = page.locator("#run-list details.run")
    expect(runs).to_have_count(2)
    page.select_option("#run-agent-filter", "payment-agent")
    expect(runs).to_have_count(1)
    run = runs.first
    run.locator("summary").click()
    rows = run.locator("table.timeline tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td.type")).to_have_text("USER_MESSAGE")
    expect(rows.nth(0).locator("td.data")).to_contain_text("refund order 42")
    expect(rows.nth(1).locator("td.type")).to_have_text("TOOL_REQUEST")
    expect(rows.nth(1)).to_contain_text("payment-agent")
    page.select_option("#run-status-filter", "RUNNING")
    expect(runs).to_have_count(1)

    # The README's screenshot: made here; copied into docs/ on request.
    page.screenshot(path=tmp_path / "console.png", full_page=True)
    if os.environ.get("RUNAGENTS_MOCK_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(tmp_path / "console.png", SCREENSHOT)
    assert (tmp_path / "console.png").stat().st_size > 10_000


def test_approve_with_a_duration_goes_through_the_api_and_updates_the_page(site, page):
    ids = site.seed(APPROVAL_FIXTURE)["access_requests"]
    row = decide_on_the_page(page, site, ids[0], "approve", "30m")

    expect(row).to_have_count(0)
    expect(page.locator(f'#grants tr[data-id="{ids[0]}"] td.status')).to_have_text("APPROVED")
    request = site.api("GET", f"/governance/requests/{ids[0]}").json()
    assert (request["status"], request["duration"], request["approver_id"]) == ("APPROVED", "30m", "admin")
    assert site.api("GET", f"/governance/requests/{ids[1]}").json()["status"] == "PENDING"
    approve_calls = [e for e in site.server.journal.list() if e["path"].endswith("/approve")]
    assert [(e["method"], e["path"], e["body"]) for e in approve_calls] == [
        ("POST", f"/governance/requests/{ids[0]}/approve", {"duration": "30m"})
    ]
    assert still_same_document(page)


def test_approve_offers_the_scopes_and_sends_the_one_chosen(site, page):
    run_id = site.api("POST", "/runs", json={"agent_id": "payment-agent", "user_id": "alice@example.com"}).json()["id"]
    with_run = site.api(
        "POST",
        "/governance/requests",
        json={"subject": "payment-agent", "agent_id": "payment-agent", "tool_id": "stripe-api", "run_id": run_id},
    ).json()
    without_run = site.seed(APPROVAL_FIXTURE)["access_requests"][1]
    open_console(page, site)
    row = page.locator(f'#pending-requests tr[data-id="{with_run["id"]}"]')
    expect(row.locator("select.scope option")).to_have_text(
        ["default scope", "once: this action", "this run", "window: user, agent, tool"]
    )
    # "this run" needs a run: a request without one does not offer it.
    expect(page.locator(f'#pending-requests tr[data-id="{without_run}"] select.scope option')).to_have_count(3)
    row.locator("select.scope").select_option("run")
    row.locator("button.approve").click()
    expect(row).to_have_count(0)
    expect(page.locator(f'#grants tr[data-id="{with_run["id"]}"] td.scope')).to_have_text("run")
    assert site.api("GET", f"/governance/requests/{with_run['id']}").json()["scope"] == "run"
    approve_calls = [e for e in site.server.journal.list() if e["path"].endswith("/approve")]
    assert [e["body"] for e in approve_calls] == [{"scope": "run"}]
    assert site.api("GET", f"/runs/{run_id}").json()["status"] == "RUNNING"


def test_reject_with_a_reason(site, page):
    ids = site.seed(APPROVAL_FIXTURE)["access_requests"]
    decide_on_the_page(page, site, ids[1], "reject", "not for <b>production</b>")

    grant = page.locator(f'#grants tr[data-id="{ids[1]}"]')
    expect(grant.locator("td.status")).to_have_text("REJECTED")
    expect(grant).to_contain_text("not for <b>production</b>")
    request = site.api("GET", f"/governance/requests/{ids[1]}").json()
    assert (request["status"], request["reason"]) == ("REJECTED", "not for <b>production</b>")
    assert still_same_document(page)


def test_approving_a_blocked_action_resumes_its_run(site, page):
    run_id = site.api("POST", "/runs", json={"agent_id": "payment-agent", "user_id": "alice@example.com"}).json()["id"]
    action = site.api(
        "POST", f"/runs/{run_id}/actions", json={"tool_id": "stripe-api", "payload_hash": "sha256:abc"}
    ).json()
    open_console(page, site)
    row = page.locator(f'#blocked-actions tr[data-id="{action["action_id"]}"]')
    row.locator("button.approve").click()
    expect(row).to_have_count(0)
    assert site.api("GET", f"/runs/{run_id}/actions/{action['action_id']}").json()["status"] == "APPROVED"
    expect(page.locator(f'details.run[data-id="{run_id}"] .status')).to_have_text("RUNNING")


def test_clock_advance_expires_a_grant_on_the_page(site, page):
    ids = site.seed(APPROVAL_FIXTURE)["access_requests"]
    assert site.api("POST", f"/governance/requests/{ids[0]}/approve", json={"duration": "1h"}).status_code == 200
    open_console(page, site)
    status = page.locator(f'#grants tr[data-id="{ids[0]}"] td.status')
    expect(status).to_have_text("APPROVED")
    page.fill("#advance-seconds", "3601")
    page.locator("#clock-form button").click()
    expect(status).to_have_text("EXPIRED")
    expect(page.locator("#clock-offset")).to_have_text("3601")
    assert site.api("GET", f"/governance/requests/{ids[0]}").json()["status"] == "EXPIRED"


def test_markup_from_state_is_shown_as_text_and_never_runs(site, page):
    run = site.api("POST", "/runs", json={"agent_id": PAYLOAD, "user_id": PAYLOAD}).json()
    assert (
        site.api(
            "POST",
            f"/runs/{run['id']}/events",
            json={"type": "USER_MESSAGE", "actor": PAYLOAD, "data": {"text": PAYLOAD, PAYLOAD: [PAYLOAD]}},
        ).status_code
        == 201
    )
    # Agent resources must have DNS names (the API and a state import refuse others), so the
    # agent names that can carry markup are those runs and access requests name.
    assert (
        site.api(
            "POST", "/governance/requests", json={"subject": PAYLOAD, "tool_id": PAYLOAD, "agent_id": PAYLOAD}
        ).status_code
        == 201
    )

    assert site.control("POST", "faults", json={"path": PAYLOAD, "status": 500, "error": PAYLOAD}).status_code == 201
    open_console(page, site)
    page.locator(f'details.run[data-id="{run["id"]}"] summary').click()
    app = page.locator("#app")
    for where in ("#pending-requests", "#run-list", "#run-agent-filter", "#journal", "#faults"):
        expect(page.locator(where)).to_contain_text(PAYLOAD)
    assert app.locator("img, script, iframe, object").count() == 0
    assert page.evaluate("window.__xss") is None


def test_with_an_admin_key_the_page_asks_for_it_and_shows_nothing_before(make_site, page):
    site = make_site(api_keys=["api-key-1"], admin_key="admin-key-1")
    ids = site.seed(APPROVAL_FIXTURE)["access_requests"]
    page.goto(site.url + "/_mock/ui")
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#app")).to_be_hidden()
    assert "payment-agent" not in page.content()

    page.fill("#admin-key", "wrong")
    page.locator("#login-form button").click()
    expect(page.locator("#status-line")).to_have_text("the key was refused")
    expect(page.locator("#login")).to_be_visible()
    assert "payment-agent" not in page.content()

    page.fill("#admin-key", "admin-key-1")
    page.fill("#api-key", "api-key-1")
    page.locator("#login-form button").click()
    expect(page.locator("#app")).to_be_visible()
    page.locator(f'#pending-requests tr[data-id="{ids[0]}"] button.approve').click()
    expect(page.locator(f'#grants tr[data-id="{ids[0]}"] td.status')).to_have_text("APPROVED")
    assert page.context.cookies() == []


def test_the_journal_never_shows_a_credential(make_site, page):
    site = make_site(api_keys=["sk-live-KEY-0001"])
    secrets = ["sk-live-KEY-0001", "tool-secret-0002", "oauth-secret-0003"]
    # (A base URL with user:password is refused: docs/runtime.md, *Tool base URLs*.)
    assert site.api(
        "POST",
        "/api/tools",
        json={
            "name": "crm",
            "base_url": "https://crm.example.com",
            "auth_type": "OAuth2",
            "credentials": {
                "client_id": "crm-app",
                "client_secret": "oauth-secret-0003",
                "api_key": "tool-secret-0002",
            },
        },
    ).status_code in (200, 201)
    open_console(page, site, key="sk-live-KEY-0001")
    journal = page.locator("#journal tbody")
    expect(journal).to_contain_text("/api/tools")
    expect(journal).to_contain_text("***")
    page.fill("#journal-filter", "crm")
    expect(journal.locator("tr")).to_have_count(1)
    page.fill("#journal-filter", "")
    expect(journal.locator("tr")).to_have_count(1)  # the tool's creation, the only API call
    shown = journal.inner_text() + journal.inner_html()
    assert not [s for s in secrets if s in shown]
    # Credentials are never stored, so no other part of the page has them either.
    page_text = page.content()
    assert not [s for s in secrets if s in page_text]


def test_faults_rate_limit_reset_and_state_round_trip(site, page, tmp_path):
    site.seed(APPROVAL_FIXTURE)
    open_console(page, site)
    page.fill("#fault-path", "/api/tools*")
    page.fill("#fault-status", "503")
    page.fill("#fault-times", "1")
    page.locator("#fault-form button[type=submit]").click()
    expect(page.locator("#faults tbody tr[data-id]")).to_have_count(1)
    assert site.api("GET", "/api/tools").status_code == 503
    page.locator("#faults-clear").click()
    expect(page.locator("#faults tbody tr[data-id]")).to_have_count(0)

    page.fill("#rate-per-minute", "100")
    page.locator("#rate-form button").click()
    expect(page.locator("#rate-current")).to_have_text("now: 100/min")
    assert site.server.rate_limiter.per_minute == 100

    with page.expect_download() as download:
        page.locator("#export-button").click()
    exported = tmp_path / "state.json"
    download.value.save_as(exported)
    page.locator("#reset-button").click()
    page.locator("#reset-button").click()
    expect(page.locator("#resource-tools tbody tr[data-name]")).to_have_count(0)
    page.set_input_files("#import-file", exported)
    page.locator("#import-button").click()
    expect(page.locator('#resource-tools tbody tr[data-name="stripe-api"]')).to_have_count(1)
    assert site.api("GET", "/api/tools/stripe-api").status_code == 200


def test_long_records_such_as_the_catalogs_are_collapsed(site, page):
    open_console(page, site)
    catalog = page.locator("#resource-catalog")
    expect(catalog.locator("tbody tr").first).to_be_visible()
    record = catalog.locator("details.record").first
    expect(record.locator("pre")).to_be_hidden()  # the names show; the JSON is one click away
    record.locator("summary").click()
    expect(record.locator("pre")).to_contain_text("deploymentTemplate")


def test_the_journal_shows_each_requests_time_and_its_answer_collapsed(site, page):
    run = site.api("POST", "/runs", json={"agent_id": "payment-agent", "user_id": "alice@example.com"}).json()
    issued = site.api("POST", "/api/v1/auth/api-keys", json={"name": "ci"})
    assert issued.status_code == 201, issued.text
    token = issued.json()["token"]
    [create, mint] = site.server.journal.list()
    open_console(page, site)
    row = page.locator(f'#journal tbody tr[data-seq="{create["seq"]}"]')
    expect(row.locator("td.time")).to_have_text(create["time"])
    answer = row.locator("td.response details")
    expect(answer.locator("summary")).to_contain_text(run["id"])  # a one-line preview
    expect(answer.locator("pre")).to_be_hidden()  # the body is one click away
    answer.locator("summary").click()
    expect(answer.locator("pre")).to_contain_text('"status": "RUNNING"')
    # A new request redraws the journal; the answer opened stays open.
    site.api("GET", f"/runs/{run['id']}")
    expect(page.locator("#journal tbody tr[data-seq]")).to_have_count(3)
    expect(answer.locator("pre")).to_be_visible()
    # The minted key's answer is shown with its token redacted, never the token itself.
    minted = page.locator(f'#journal tbody tr[data-seq="{mint["seq"]}"] td.response details')
    minted.locator("summary").click()
    expect(minted.locator("pre")).to_contain_text('"token": "***"')
    expect(minted.locator("pre")).to_contain_text('"name": "ci"')
    assert token not in page.content()
