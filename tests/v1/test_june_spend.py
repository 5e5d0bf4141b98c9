"""Spend and usage the operator reads (issue 22.6): per agent and model, from the agent's own
gateway traffic in every auth mode, with the contract's status words and budgets."""

from __future__ import annotations

import pytest
from api_support import error_of

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x" * 400}]}  # about 100 tokens


def v1(api, method, path, body=None, key="ra_ws_test"):
    return api.request(method, "/api/v1" + path, json_body=body, headers={"X-RunAgents-API-Key": key}, auth=False)


def _agent(api, name, budget, key="ra_ws_test"):
    v1(api, "POST", "/deploy", {"agent_name": name, "image": "img:1"}, key=key)
    llm = {"provider": "openai", "model": "gpt-4o-mini", "role": "chat"}
    v1(
        api,
        "PUT",
        f"/agents/{name}/config",
        {"llm_configs": [{**llm, "monthly_budget_usd": budget} if budget is not None else llm]},
        key=key,
    )


def test_rows_carry_the_agent_its_budget_and_the_contracts_status_words(api):
    v1(api, "POST", "/starter-kit")
    _agent(api, "capped", 25)
    _agent(api, "near", 0.0005)
    _agent(api, "open", None)
    for agent in ("capped", "near", "open"):
        api.post(f"/_llm/agent-system/{agent}/v1/chat/completions", json=CHAT)
    v1(api, "POST", "/chat/completions", CHAT)  # a key's own call: no agent
    spend = v1(api, "GET", "/model-spend").get_json()
    rows = {r["agent_name"]: r for r in spend["top_models"]}
    assert {name: r["status"] for name, r in rows.items()} == {
        "capped": "Active",
        "near": "Near budget",
        "open": "Uncapped",
        "": "Uncapped",
    }
    assert rows["capped"]["monthly_budget_usd"] == 25 and rows["capped"]["agent_namespace"] == "agent-system"
    assert "monthly_budget_usd" not in rows["open"]
    assert [w["agent_name"] for w in spend["warnings"]] == ["near"]
    summary = spend["summary"]
    assert (summary["budgeted_model_count"], summary["near_budget_count"], summary["blocked_count"]) == (2, 1, 0)
    assert summary["uncapped_spend_usd"] == round(
        rows["open"]["estimated_spend_usd"] + rows[""]["estimated_spend_usd"], 6
    )


def test_agent_config_shows_the_agents_model_usage(api):
    v1(api, "POST", "/starter-kit")
    _agent(api, "a", 1)
    _agent(api, "b", 1)
    api.post("/_llm/agent-system/a/v1/chat/completions", json=CHAT)
    usage = v1(api, "GET", "/agents/a/config").get_json()["model_usage"]
    assert [(u["model"], u["status"], u["monthly_budget_usd"]) for u in usage] == [("gpt-4o-mini", "Active", 1)]
    assert usage[0]["estimated_spend_usd"] > 0
    assert v1(api, "GET", "/agents/b/config").get_json()["model_usage"][0]["estimated_spend_usd"] == 0


def test_a_null_budget_is_refused_as_the_contract_types_it(api):
    v1(api, "POST", "/deploy", {"agent_name": "a", "image": "img:1"})
    refused = v1(api, "PUT", "/agents/a/config", {"llm_configs": [{"model": "m", "monthly_budget_usd": None}]})
    assert (
        refused.status_code == 400 and error_of(refused) == "llm_configs[0].monthly_budget_usd must be of type number"
    )


@pytest.mark.parametrize("config", [{"workspace_keys": {"default": "ra_ws_only"}}, {"api_keys": ["k"]}, {}])
def test_gateway_traffic_counts_in_every_auth_mode(make_api, config):
    api = make_api(**config)
    key = "ra_ws_only" if "workspace_keys" in config else "ra_ws_test"
    headers = {"X-RunAgents-API-Key": key} if "api_keys" not in config else {"Authorization": "Bearer k"}
    request = lambda method, path, body=None: api.request(
        method, "/api/v1" + path, json_body=body, headers=headers, auth=False
    )
    request("POST", "/starter-kit")
    request("POST", "/deploy", {"agent_name": "a", "image": "img:1"})
    request(
        "PUT",
        "/agents/a/config",
        {"llm_configs": [{"provider": "openai", "model": "gpt-4o-mini", "monthly_budget_usd": 5}]},
    )
    answered = api.request("POST", "/_llm/agent-system/a/v1/chat/completions", json_body=CHAT, auth=False)
    assert answered.status_code == 200
    rows = request("GET", "/model-spend").get_json()["top_models"]
    assert [(r["agent_name"], r["status"]) for r in rows] == [("a", "Active")]


@pytest.mark.parametrize("config", [{"workspace_keys": {"revops": "ra_ws_revops"}}, {}])
def test_a_named_workspaces_agent_traffic_counts_there(make_api, config):
    api = make_api(**config)
    key = "ra_ws_revops" if config else "ra_ws_test"
    request = lambda method, path, body=None: api.request(
        method, "/api/v1/workspaces/revops" + path, json_body=body, headers={"X-RunAgents-API-Key": key}, auth=False
    )
    request("POST", "/starter-kit")
    request("POST", "/deploy", {"agent_name": "a", "image": "img:1"})
    request("PUT", "/agents/a/config", {"llm_configs": [{"provider": "openai", "model": "gpt-4o-mini"}]})
    answered = api.request(
        "POST", "/_workspaces/revops/_llm/agent-system/a/v1/chat/completions", json_body=CHAT, auth=False
    )
    assert answered.status_code == 200
    assert [
        (u["status"], u["estimated_spend_usd"] > 0)
        for u in request("GET", "/agents/a/config").get_json()["model_usage"]
    ] == [("Uncapped", True)]
