"""The journal's answers and times (issue 25): each entry has the answer's body, redacted as
request bodies are and kept up to the same cap, and the time on its workspace's clock."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from test_builds_gateway_ingestion import OPENAI_PROVIDER, chat
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from mockserver.surface.journal import Journal

WS_KEY = {"X-RunAgents-API-Key": "ra_ws_test"}
DAY = 86_400


def v1(api, method, path, body=None):
    return api.request(method, "/api/v1" + path, json_body=body, headers=WS_KEY, auth=False)


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_each_entry_has_the_answer_and_its_time(api):
    created = api.post("/runs", {"agent_id": "a", "user_id": "alice"})
    missing = api.get("/runs/no-such-run")
    create, refused = api.get("/_mock/journal").get_json()
    assert create["response"] == created.get_json()
    assert refused["response"] == missing.get_json() and refused["status"] == 404
    # Stamped after the answer was made, to the millisecond, on the same clock as its fields.
    assert create["time"].endswith("Z") and len(create["time"]) == len("2026-01-01T00:00:00.000Z")
    assert when(create["time"]) >= when(created.get_json()["created_at"])
    assert when(create["time"]) <= when(refused["time"])


def test_the_time_is_the_workspaces_clock_so_a_moved_clock_shows(api):
    api.post("/runs", {"agent_id": "a", "user_id": "alice"})
    assert api.post("/_mock/clock/advance", {"seconds": 10 * DAY}).status_code == 200
    later = api.post("/runs", {"agent_id": "a", "user_id": "alice"}).get_json()
    v1(api, "GET", "/workspaces/sales/agents")  # another workspace: its clock was not moved
    before, after, other = api.get("/_mock/journal").get_json()
    assert when(after["time"]) - when(before["time"]) >= timedelta(days=10)
    assert when(after["time"]) >= when(later["created_at"])  # the run's timestamps and the journal agree
    assert other["workspace"] == "sales" and when(other["time"]) < when(after["time"]) - timedelta(days=9)


def test_minted_keys_and_client_secrets_in_answers_never_reach_the_journal(api):
    issued = v1(api, "POST", "/workspaces/sales/auth/api-keys", {"name": "ci"}).get_json()
    rotated = v1(api, "POST", f"/workspaces/sales/auth/api-keys/{issued['key']['id']}/rotate").get_json()
    intent = v1(api, "POST", "/billing/setup-intent")
    assert intent.status_code == 200
    secrets = [issued["token"], rotated["token"], intent.get_json()["client_secret"]]
    assert all(secrets)
    mint, rotate, setup = api.get("/_mock/journal").get_json()
    assert mint["response"] == {**issued, "token": "***"}  # the key's record is shown, its token is not
    assert rotate["response"]["token"] == "***" and rotate["response"]["key"]["name"] == "ci"
    assert setup["response"] == {"client_secret": "***"}
    shown = api.get("/_mock/journal").get_data(as_text=True) + api.get("/_mock/workspaces/sales/journal").get_data(
        as_text=True
    )
    assert not [secret for secret in secrets if secret in shown]


def test_answers_are_kept_up_to_the_body_cap_and_raw_until_read(make_api):
    api = make_api(journal_body_bytes=300)
    for i in range(5):
        api.post("/runs", {"agent_id": f"agent-{i}", "user_id": "alice"})
    listed = api.get("/runs")
    assert len(listed.get_data()) > 300
    entries = api.get("/_mock/journal").get_json()
    assert entries[0]["response"]["agent_id"] == "agent-0"
    assert entries[-1]["response"] == f"<{len(listed.get_data())} bytes: over the journal's 300-byte cap, not kept>"
    # What is kept is the answer's bytes as sent, parsed only when the journal is read.
    assert isinstance(api.mock.journal.entries[0][-1], bytes)


def test_a_streamed_answer_has_no_response_body(api):
    api.post("/api/model-providers", OPENAI_PROVIDER)
    assert chat(api, stream=True).mimetype == "text/event-stream"
    streamed = api.get("/_mock/journal").get_json()[-1]
    assert (streamed["path"], streamed["status"], streamed["response"]) == ("/v1/chat/completions", 200, None)


def test_the_plugin_handles_journal_has_them_too(runagents_mock):
    runagents_mock.request("POST", "/runs", json={"agent_id": "a", "user_id": "alice"})
    [entry] = runagents_mock.journal()
    assert entry["response"]["agent_id"] == "a" and entry["time"].endswith("Z")
    assert json.dumps(entry)  # plain JSON, as GET /_mock/journal gives it


def test_secret_query_values_in_urls_of_either_body_are_masked(api):
    # Refused (a base URL takes no query), journaled with the URL's key masked, `x` kept.
    api.post(
        "/api/tools", {"name": "crm", "base_url": "https://crm.example.com/v1?x=1&api_key=QS-1", "auth_type": "None"}
    )
    # An answer echoing the request target a tool was sent (as an echo tool does).
    journal = Journal(10, now=lambda workspace: 0.0)
    sent = Request(EnvironBuilder(path="/echo", method="GET").get_environ())
    journal.record(sent, b"", 200, response=json.dumps({"path": "/items?x=1&X-Key=Token+QS-2"}).encode())
    [refused] = api.get("/_mock/journal").get_json()
    [echoed] = journal.list()
    assert refused["body"]["base_url"] == "https://crm.example.com/v1?x=1&api_key=***"
    assert echoed["response"] == {"path": "/items?x=1&X-Key=***"} and echoed["time"] == "1970-01-01T00:00:00.000Z"
