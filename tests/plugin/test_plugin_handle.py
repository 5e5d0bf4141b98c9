"""The runagents_mock handle: every method, driven in-process against the session's server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
import yaml

from mockserver.testkit.plugin import MockHandle, SeedError

HERE = Path(__file__).parent


def tool_names(mock: MockHandle) -> list[str]:
    return [t["name"] for t in mock.request("GET", "/api/tools").json()]


# --- addresses and keys ------------------------------------------------------------------


def test_handle_points_at_a_live_server(runagents_mock):
    assert runagents_mock.url.startswith("http://127.0.0.1:")
    assert runagents_mock.openai_base_url == runagents_mock.url + "/v1"
    assert runagents_mock.headers == {"Authorization": f"Bearer {runagents_mock.api_key}"}
    answer = requests.get(runagents_mock.url + "/api/tools", headers=runagents_mock.headers, timeout=5)
    assert (answer.status_code, answer.json()) == (200, [])


def test_env_points_sdks_here(runagents_mock):
    assert runagents_mock.env == {
        "RUNAGENTS_ENDPOINT": runagents_mock.url,
        "RUNAGENTS_API_KEY": runagents_mock.api_key,
        "OPENAI_BASE_URL": runagents_mock.openai_base_url,
        "OPENAI_API_KEY": runagents_mock.api_key,
    }


@pytest.mark.parametrize("attempt", range(3))
def test_every_test_starts_from_an_empty_mock(runagents_mock, attempt):
    # Each parameter is its own test; whatever the previous one created is gone.
    assert tool_names(runagents_mock) == []
    assert runagents_mock.journal()[0]["path"] == "/api/tools"  # only this test's request
    runagents_mock.request("POST", "/api/tools", json={"name": f"t{attempt}", "base_url": "https://x.example"})
    runagents_mock.faults.add(path="/nowhere", status=500)
    runagents_mock.set_rate_limit(1000)
    runagents_mock.advance(3600)


# --- reset ---------------------------------------------------------------------------------


def test_reset_clears_state_journal_faults_rate_limit_replies_and_clock(runagents_mock):
    real_now = runagents_mock.state()["clock_offset"]
    runagents_mock.seed({"tools": [{"name": "stripe-api", "base_url": "https://api.stripe.com"}]})
    runagents_mock.faults.add(method="GET", path="/api/agents", status=503)
    runagents_mock.set_rate_limit(2)
    runagents_mock.set_replies(llm={"*": "configured"})
    runagents_mock.advance(60)
    runagents_mock.request("GET", "/api/tools")

    runagents_mock.reset()

    assert runagents_mock.journal() == []
    assert runagents_mock.faults.rules == []
    assert runagents_mock.state()["clock_offset"] == real_now == 0
    assert runagents_mock.state()["gateway"] == {"replies": {}, "usage": []}
    for _ in range(3):  # no rate limit and no fault any more
        assert runagents_mock.request("GET", "/api/agents").status_code == 200
    assert tool_names(runagents_mock) == []


# --- seeding --------------------------------------------------------------------------------


def test_seed_from_a_dict(runagents_mock):
    result = runagents_mock.seed({"tools": [{"name": "stripe-api", "base_url": "https://api.stripe.com"}]})
    assert result == {"created": {"tools": 1}, "ids": {"tools": ["stripe-api"]}}
    assert tool_names(runagents_mock) == ["stripe-api"]


def test_seed_from_yaml_and_json_text(runagents_mock):
    runagents_mock.seed("tools: [{name: from-yaml, base_url: 'https://a.example'}]")
    runagents_mock.seed('{"tools": [{"name": "from-json", "base_url": "https://b.example"}]}')
    assert tool_names(runagents_mock) == ["from-yaml", "from-json"]


def test_seed_from_files(runagents_mock):
    runagents_mock.seed(HERE / "fixtures" / "two_tools.yaml")  # a Path
    runagents_mock.seed("fixtures/one_run.json", search_dirs=[HERE])  # relative, looked up
    assert tool_names(runagents_mock) == ["stripe-api", "echo-tool"]
    [run] = runagents_mock.request("GET", "/runs").json()
    assert run["agent_id"] == "payment-agent"
    events = runagents_mock.request("GET", f"/runs/{run['id']}/events").json()
    assert [e["type"] for e in events] == ["USER_MESSAGE"]


def test_seed_errors_say_what_and_where(runagents_mock, tmp_path):
    with pytest.raises(SeedError, match=r"fixture file not found: missing\.yaml \(looked at .*missing\.yaml"):
        runagents_mock.seed("missing.yaml", search_dirs=[tmp_path])
    with pytest.raises(SeedError, match=r"could not load the fixture dict: tools\[1\]: name is required"):
        runagents_mock.seed({"tools": [{"name": "ok", "base_url": "https://ok.example"}, {"base_url": "x"}]})
    with pytest.raises(SeedError, match="unknown fixture section"):
        runagents_mock.seed({"widgets": []})
    bad = tmp_path / "bad.yaml"
    bad.write_text("tools: [unclosed", encoding="utf-8")
    with pytest.raises(SeedError, match=r"bad\.yaml: fixture is neither valid YAML nor JSON"):
        runagents_mock.seed(bad)


# --- clock, rate limit, replies, faults --------------------------------------------------


def test_advance_moves_the_clock_and_expires_access(runagents_mock):
    request = runagents_mock.request(
        "POST", "/governance/requests", json={"subject": "sa", "tool_id": "stripe-api", "duration": "30m"}
    ).json()
    runagents_mock.request("POST", f"/governance/requests/{request['id']}/approve", json={})

    runagents_mock.advance(30 * 60)

    assert runagents_mock.request("GET", f"/governance/requests/{request['id']}").json()["status"] == "EXPIRED"
    with pytest.raises(ValueError):
        runagents_mock.advance(-1)


def test_set_rate_limit_answers_429_with_retry_after(runagents_mock):
    runagents_mock.set_rate_limit(2)
    statuses = [runagents_mock.request("GET", "/api/tools").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = runagents_mock.request("GET", "/api/tools")
    assert limited.json() == {"error": "rate limit exceeded"}
    assert 1 <= int(limited.headers["Retry-After"]) <= 60

    runagents_mock.set_rate_limit(None)
    assert runagents_mock.request("GET", "/api/tools").status_code == 200
    with pytest.raises(ValueError):
        runagents_mock.set_rate_limit(0)


def test_set_replies_for_the_llm_gateway_and_agents(runagents_mock):
    runagents_mock.request("POST", "/api/starter-kit")
    runagents_mock.request("POST", "/api/deploy", json={"agent_name": "helper", "image": "img:1"})
    runagents_mock.set_replies(llm={"gpt-4o-mini": "Paris."}, agents={"agent-system/helper": {"response": "hi"}})

    completion = runagents_mock.request(
        "POST",
        "/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Capital of France?"}]},
    ).json()
    assert completion["choices"][0]["message"]["content"] == "Paris."
    invoked = runagents_mock.request("POST", "/api/agents/agent-system/helper/invoke", json={"message": "hello"})
    assert invoked.json() == {"response": "hi"}
    with pytest.raises(ValueError):
        runagents_mock.set_replies(agents={"no-namespace": {}})


def test_faults_delay_or_fail_matching_requests(runagents_mock):
    rule = runagents_mock.faults.add(method="get", path="/api/tools*", status=503, error="down", times=1)
    assert (rule["method"], rule["times"]) == ("GET", 1)

    first, second = (runagents_mock.request("GET", "/api/tools") for _ in range(2))
    assert (first.status_code, first.json()) == (503, {"error": "down"})
    assert second.status_code == 200
    assert runagents_mock.faults.rules[0]["hits"] == 1

    runagents_mock.faults.clear()
    assert runagents_mock.faults.rules == []
    with pytest.raises(ValueError, match="invalid fault: status must be an integer from 400 to 599"):
        runagents_mock.faults.add(path="/api/tools", status=200)


# --- state -------------------------------------------------------------------------------


def test_state_round_trips(runagents_mock):
    runagents_mock.seed(HERE / "fixtures" / "two_tools.yaml")
    saved = runagents_mock.state()
    runagents_mock.reset()
    assert tool_names(runagents_mock) == []

    runagents_mock.load_state(json.loads(json.dumps(saved)))  # survives a trip through JSON

    assert tool_names(runagents_mock) == ["stripe-api", "echo-tool"]
    with pytest.raises(ValueError, match="not a runagents-mock state"):
        runagents_mock.load_state({"tools": []})


def test_load_state_is_checked_and_redacted_like_the_control_api(runagents_mock):
    # One control service behind PUT /_mock/state and the handle: same schema check, same redaction.
    runagents_mock.request(
        "POST",
        "/api/model-providers",
        json={
            "name": "openai",
            "spec": {
                "provider": "openai",
                "endpoint": "https://api.openai.com/v1",
                "models": ["gpt-4o"],
                "auth": {"type": "None"},
            },
        },
    )
    state = runagents_mock.state()
    state["model_providers"]["items"][0]["spec"]["auth"]["apiKey"] = "sk-live-SECRET"
    runagents_mock.load_state(state)
    served = runagents_mock.request("GET", "/api/model-providers")
    assert served.status_code == 200 and "sk-live-SECRET" not in served.text
    assert served.json()[0]["spec"]["auth"]["apiKey"] == "***"
    assert "sk-live-SECRET" not in json.dumps(runagents_mock.state())
    broken = runagents_mock.state()
    broken["model_providers"]["items"][0]["spec"] = "not an object"
    with pytest.raises(ValueError, match="model_providers"):
        runagents_mock.load_state(broken)
    assert runagents_mock.state()["model_providers"]["items"][0]["spec"]["auth"]["apiKey"] == "***"


# --- what was received -----------------------------------------------------------------------


def test_journal_records_requests_with_secrets_redacted(runagents_mock):
    runagents_mock.request(
        "POST",
        "/api/tools",
        json={
            "name": "stripe-api",
            "spec": {"connection": {"baseUrl": "https://api.stripe.com"}},
            "credentials": {"apiKey": "sk_live_123"},
        },
    )

    [entry] = runagents_mock.journal()
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/api/tools", 201)
    assert entry["headers"]["Authorization"] == "***"
    assert entry["body"]["credentials"] == {"apiKey": "***"}
    assert "sk_live_123" not in json.dumps(runagents_mock.journal())


def test_assert_called_matches_method_and_path_glob(runagents_mock):
    runagents_mock.request("GET", "/runs", params={"status": "FAILED"})
    runagents_mock.request("POST", "/runs", json={"agent_id": "a", "user_id": "u"})

    [entry] = runagents_mock.assert_called("get", "/runs")
    assert entry["query"] == {"status": "FAILED"}
    runagents_mock.assert_called("*", "/run*", times=2)
    runagents_mock.assert_not_called("DELETE", "*")


def test_assert_called_failure_lists_what_was_received(runagents_mock):
    runagents_mock.request("GET", "/api/tools")
    runagents_mock.request("POST", "/runs", json={"agent_id": "a"})

    with pytest.raises(AssertionError) as failure:
        runagents_mock.assert_called("POST", "/runs/*/events")
    assert str(failure.value) == (
        "expected POST /runs/*/events to be called at least once, but it was called 0 time(s).\n"
        "runagents-mock received 2 request(s) in this test:\n"
        "  1. GET /api/tools -> 200\n"
        "  2. POST /runs -> 400 user_id is required"
    )

    with pytest.raises(AssertionError, match=r"to be called 2 time\(s\), but it was called 1 time\(s\)"):
        runagents_mock.assert_called("GET", "/api/tools", times=2)
    with pytest.raises(AssertionError, match=r"expected no GET /api/\*, but it was called 1 time\(s\)"):
        runagents_mock.assert_not_called("GET", "/api/*")


def test_assert_called_with_nothing_received(runagents_mock):
    with pytest.raises(AssertionError, match="received no requests in this test"):
        runagents_mock.assert_called("GET", "/api/tools")


# --- conformance ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def spec_with_a_wrong_tool_schema(tmp_path_factory) -> Path:
    """openapi.yaml, except that a Tool must carry a field the mock never sends."""
    root = Path(__file__).resolve().parents[2]
    document = yaml.load(
        (root / "openapi.yaml").read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    )
    document["components"]["schemas"]["Tool"]["required"].append("bogus_field")
    path = tmp_path_factory.mktemp("spec") / "openapi.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_responses_that_break_the_spec_are_reported(runagents_mock_factory, spec_with_a_wrong_tool_schema):
    mock = runagents_mock_factory(spec_path=spec_with_a_wrong_tool_schema)
    mock.seed({"tools": [{"name": "a", "base_url": "https://a.example"}]})
    for _ in range(2):
        mock.request("GET", "/api/tools")

    assert mock.conformance_problems() == ["GET /api/tools 200: 0: 'bogus_field' is a required property"] * 2
    with pytest.raises(pytest.fail.Exception) as failure:
        mock.check_conformance()
    assert str(failure.value).startswith(
        "runagents-mock sent 2 response(s) that do not match openapi.yaml:\n"
        "  - GET /api/tools 200: 0: 'bogus_field' is a required property  (x2)\n"
    )
    mock.strict = False  # so that this test itself passes
    mock.check_conformance()


def test_injected_faults_are_only_checked_for_the_error_shape(runagents_mock):
    # 503 is not documented for GET /api/tools, but the test asked for it.
    runagents_mock.faults.add(method="GET", path="/api/tools", status=503)
    assert runagents_mock.request("GET", "/api/tools").status_code == 503
    assert runagents_mock.conformance_problems() == []


def test_auth_failures_are_checked_in_full(runagents_mock):
    answer = requests.get(runagents_mock.url + "/api/tools", timeout=5)
    assert answer.status_code == 401
    assert runagents_mock.conformance_problems() == []


# --- other configurations -----------------------------------------------------------------


def test_factory_serves_other_settings_and_resets_them_too(runagents_mock_factory, runagents_mock):
    keyed = runagents_mock_factory(api_keys=["secret-key"])
    assert keyed is not runagents_mock and keyed.api_key == "secret-key"
    assert keyed.request("GET", "/api/tools").status_code == 200
    wrong = requests.get(keyed.url + "/api/tools", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert (wrong.status_code, wrong.json()) == (401, {"error": "invalid API key"})

    assert runagents_mock_factory() is runagents_mock  # default settings: the same server
    assert runagents_mock_factory(api_keys=["secret-key"]) is keyed  # not reset mid-test
    assert len(keyed.journal()) == 2
    with pytest.raises(TypeError, match="unknown mock setting"):
        runagents_mock_factory(colour="blue")
