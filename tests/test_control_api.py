"""The /_mock/ control API: reset, state, seed, journal, clock, faults, rate limits, replies."""

from __future__ import annotations

import json

from api_support import OPENAI_PROVIDER, STRIPE_TOOL, error_of

FIXTURE_YAML = """
tools:
  - {name: stripe-api, base_url: https://api.stripe.com, auth_type: APIKey}
model_providers:
  - {name: openai, spec: {provider: openai, endpoint: https://api.openai.com, models: [gpt-4o], auth: {type: None}}}
identity_providers:
  - name: google-oidc
    spec: {host: h.example.com, identityProvider: {issuer: https://accounts.google.com, jwksUri: https://j}, userIDClaim: email}
agents: [{agent_name: payment-agent, image: registry.example.com/payment-agent:1}]
runs: [{agent_id: payment-agent, user_id: alice@example.com, events: [{type: USER_MESSAGE}, {type: AGENT_MESSAGE}]}]
access_requests: [{subject: payment-agent-sa, tool_id: stripe-api}]
"""


def test_reset_empties_everything(api):
    api.post("/api/tools", STRIPE_TOOL)
    api.post("/_mock/faults", {"path": "/nothing", "status": 500})
    assert api.post("/_mock/reset").status_code == 200
    assert api.get("/_mock/journal").get_json() == []
    assert api.get("/_mock/faults").get_json() == []
    assert api.get("/api/tools").get_json() == []


def test_seed_from_yaml_uses_the_api_shapes(api):
    response = api.request("POST", "/_mock/seed", data=FIXTURE_YAML)
    assert response.status_code == 200
    assert response.get_json()["created"] == {
        "tools": 1,
        "model_providers": 1,
        "identity_providers": 1,
        "agents": 1,
        "runs": 1,
        "access_requests": 1,
    }
    assert api.get("/api/tools/stripe-api").get_json()["spec"]["connection"]["baseUrl"] == "https://api.stripe.com"
    run_id = response.get_json()["ids"]["runs"][0]
    assert [e["seq"] for e in api.get(f"/runs/{run_id}/events").get_json()] == [1, 2]
    assert len(api.get("/governance/requests").get_json()) == 1


def test_seed_errors_name_the_item(api):
    response = api.request("POST", "/_mock/seed", data="tools: [{name: x}]")
    assert response.status_code == 400
    assert error_of(response) == "tools[0]: spec is required (or base_url in the flat form)"
    response = api.request("POST", "/_mock/seed", data="widgets: []")
    assert response.status_code == 400 and "unknown fixture section(s): widgets" in error_of(response)
    response = api.request("POST", "/_mock/seed", data="tools: [")
    assert response.status_code == 400


def test_state_export_import(api, make_api):
    api.post("/api/tools", STRIPE_TOOL)
    run = api.post("/runs", {"agent_id": "a", "user_id": "u"}).get_json()
    state = api.get("/_mock/state").get_json()
    assert STRIPE_TOOL["credentials"]["api_key"] not in json.dumps(state)
    other = make_api()
    assert other.put("/_mock/state", state).status_code == 200
    assert other.get(f"/runs/{run['id']}").get_json() == run
    assert other.get("/api/tools/stripe-api").status_code == 200
    response = other.put("/_mock/state", {"tools": "nope"})
    assert response.status_code == 400
    assert other.get("/api/tools/stripe-api").status_code == 200  # a refused import changes nothing


def test_journal_records_requests_with_secrets_redacted(api):
    api.request("DELETE", "/_mock/journal")
    api.post("/api/tools", STRIPE_TOOL, headers={"X-End-User-ID": "alice"})
    api.get("/api/tools?verbose=1")
    entries = api.get("/_mock/journal").get_json()
    create, listing = entries[0], entries[1]
    assert (create["method"], create["path"], create["status"]) == ("POST", "/api/tools", 201)
    assert create["headers"]["Authorization"] == "***" and create["headers"]["X-End-User-Id"] == "alice"
    assert create["body"]["credentials"] == {"api_key": "***"}
    assert create["body"]["spec"]["description"] == "Stripe payments API"
    assert listing["query"] == {"verbose": "1"}


def test_journal_is_bounded(make_api):
    api = make_api(journal_size=3)
    for _ in range(5):
        api.get("/api/tools")
    entries = api.get("/_mock/journal").get_json()
    assert len(entries) == 3 and [e["seq"] for e in entries] == [3, 4, 5]


def test_clock_advance(api):
    before = api.get("/_mock/clock").get_json()
    after = api.post("/_mock/clock/advance", {"seconds": 7200}).get_json()
    assert after["offset_seconds"] == before["offset_seconds"] + 7200
    for bad in ({"seconds": -1}, {"seconds": "1h"}, {}, {"seconds": True}):
        response = api.post("/_mock/clock/advance", bad)
        assert response.status_code == 400, bad


def test_faults_status_and_times(api):
    rule = api.post(
        "/_mock/faults", {"method": "GET", "path": "/api/tools*", "status": 503, "error": "maintenance", "times": 2}
    ).get_json()
    assert rule["id"] == 1
    for _ in range(2):
        response = api.request("GET", "/api/tools")
        assert response.status_code == 503 and error_of(response) == "maintenance"
        assert response.headers["X-Mock-Fault"] == "1"
    assert api.get("/api/tools").status_code == 200
    assert api.post("/api/tools", STRIPE_TOOL).status_code == 201  # other methods unaffected


def test_faults_latency(api):
    import time

    api.post("/_mock/faults", {"path": "/api/agents", "latency_ms": 150, "times": 1})
    started = time.perf_counter()
    assert api.get("/api/agents").status_code == 200
    assert time.perf_counter() - started >= 0.15


def test_fault_validation(api):
    for bad in ({}, {"status": 200}, {"status": 503, "times": 0}, {"latency_ms": -1}, {"path": ""}):
        assert api.post("/_mock/faults", bad).status_code == 400, bad


def test_rate_limit_per_key(api):
    api.put("/_mock/rate-limit", {"per_minute": 2})
    assert api.get("/api/tools").status_code == 200
    assert api.get("/api/tools").status_code == 200
    limited = api.get("/api/tools")
    assert limited.status_code == 429 and error_of(limited) == "rate limit exceeded"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    other_key = api.get("/api/tools", headers={"Authorization": "Bearer another-key"})
    assert other_key.status_code == 200
    api.advance(61)
    assert api.get("/api/tools").status_code == 200


def test_rate_limit_from_config(make_api):
    api = make_api(rate_limit_per_minute=1)
    assert api.get("/api/tools").status_code == 200
    assert api.get("/api/tools").status_code == 429


def test_admin_key_guards_control_api(make_api):
    api = make_api(api_keys=["user-key"], admin_key="admin-key")
    assert api.post("/_mock/reset", auth=False).status_code == 401
    assert api.post("/_mock/reset", headers={"Authorization": "Bearer user-key"}, auth=False).status_code == 401
    assert api.post("/_mock/reset", headers={"Authorization": "Bearer admin-key"}, auth=False).status_code == 200


def test_control_api_can_be_turned_off(make_api):
    api = make_api(admin_enabled=False)
    assert api.post("/_mock/reset").status_code == 404


def test_replies_validation(api):
    assert api.put("/_mock/replies", {"llm": {"m": 3}}).status_code == 400
    assert api.put("/_mock/replies", {"agents": {"no-slash": {}}}).status_code == 400
    api.post("/api/model-providers", OPENAI_PROVIDER)
    assert api.put("/_mock/replies", {"llm": {"gpt-4o": "hi"}}).get_json()["llm"] == {"gpt-4o": "hi"}
