"""The tool proxy's checks one by one, in-process (no agent process), and the env it hands out."""

from __future__ import annotations

import hashlib
import json

import pytest
from loopback import LoopbackTool

EGRESS = "/_egress/agent-system/bot"


@pytest.fixture
def deployed(api):
    api.post("/api/starter-kit")
    api.post(
        "/api/tools",
        {
            "name": "restricted",
            "spec": {
                "connection": {"baseUrl": "https://r.example.test"},
                "governance": {"accessControl": {"mode": "Restricted"}},
            },
        },
    )
    api.post(
        "/api/tools",
        {
            "name": "critical",
            "spec": {
                "connection": {"baseUrl": "https://c.example.test"},
                "governance": {"accessControl": {"mode": "Open", "requireApproval": True}},
            },
        },
    )
    api.post(
        "/api/deploy",
        {
            "agent_name": "bot",
            "image": "i",
            "system_prompt": "be brief",
            "required_tools": ["echo-tool", "restricted", "critical"],
            "env": [{"name": "FEATURE", "value": "on"}],
            "llm_configs": [
                {"provider": "openai", "model": "gpt-4o-mini"},
                {"provider": "openai", "model": "o3", "role": "classify"},
            ],
        },
    )
    return api


def egress(api, method, path, **kw):
    return api.request(method, EGRESS + path, auth=False, **kw)


def test_env_names_every_tool_both_ways_and_the_agent_settings(deployed):
    env = deployed.get("/_mock/agents/agent-system/bot/env").json
    base = "http://localhost"
    assert env["TOOL_ECHO_TOOL_URL"] == env["TOOL_URL_ECHO_TOOL"] == f"{base}{EGRESS}/echo-tool"
    assert env["TOOL_URL_RESTRICTED"] == f"{base}{EGRESS}/restricted"
    assert env["LLM_GATEWAY_URL"] == f"{base}/_llm/agent-system/bot/v1"
    assert (env["LLM_MODEL"], env["LLM_PROVIDER"], env["LLM_MODEL_CLASSIFY"]) == ("gpt-4o-mini", "openai", "o3")
    assert (env["SYSTEM_PROMPT"], env["AGENT_NAME"], env["GOVERNANCE_URL"], env["FEATURE"]) == (
        "be brief",
        "bot",
        base,
        "on",
    )
    assert deployed.get("/_mock/agents/agent-system/nope/env").json == {"error": "agent agent-system/nope not found"}


@pytest.mark.parametrize("suffix", ["/chat/completions", "/v1/chat/completions"])
def test_every_documented_gateway_spelling_reaches_the_gateway(deployed, suffix):
    answer = deployed.request(
        "POST",
        "/_llm/agent-system/bot/v1" + suffix,
        auth=False,
        json_body={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert answer.status_code == 200 and answer.json["object"] == "chat.completion"


def test_unknown_agent_tool_or_url_shape_is_a_json_4xx(deployed):
    assert egress(deployed, "GET", "/nope/x").json == {"error": 'tool "nope" not found', "tool": "nope"}
    unknown_agent = deployed.request("GET", "/_egress/agent-system/ghost/echo-tool", auth=False)
    assert unknown_agent.status_code == 404 and unknown_agent.json == {"error": "agent agent-system/ghost not found"}
    short = deployed.request("GET", "/_egress/agent-system", auth=False)
    assert short.json == {"error": "egress URLs look like /_egress/<namespace>/<agent>/<tool>/<path>"}
    deployed.post("/api/tools", {"name": "other", "spec": {"connection": {"baseUrl": "https://o.test"}}})
    unlisted = egress(deployed, "GET", "/other/x")
    assert unlisted.status_code == 403 and "does not list tool other" in unlisted.json["error"]


def test_restricted_needs_a_binding_and_deny_wins(deployed):
    refused = egress(deployed, "GET", "/restricted/items")
    assert refused.status_code == 403
    assert refused.json["error"] == "no policy binding allows agent bot to call tool restricted"
    deployed.post(
        "/api/policies",
        {
            "name": "r",
            "rules": [
                {"permission": "allow", "resource": "https://r.example.test/*"},
                {"permission": "deny", "resource": "https://r.example.test/admin*"},
            ],
        },
    )
    deployed.post(
        "/api/policy-bindings",
        {"name": "bot-r", "policy": "r", "subjects": [{"kind": "ServiceAccount", "name": "bot"}]},
    )
    assert egress(deployed, "GET", "/restricted/items").status_code == 200
    denied = egress(deployed, "GET", "/restricted/admin/users")
    assert denied.status_code == 403 and denied.json["error"].startswith("policy denies GET")


def test_approval_without_a_run_creates_one_pending_request(deployed):
    first = egress(deployed, "POST", "/critical/do", json_body={"a": 1})
    again = egress(deployed, "POST", "/critical/do", json_body={"a": 1})
    assert first.status_code == again.status_code == 403
    assert first.json["code"] == first.json["error"] == "APPROVAL_REQUIRED" and "action_id" not in first.json
    assert first.json["request_id"] == again.json["request_id"]
    requests_ = deployed.get("/governance/requests").json
    assert [(r["subject"], r["tool_id"], r["capability"]) for r in requests_] == [("bot", "critical", "POST /do")]


def test_another_runs_action_cannot_be_approved_through_this_run(deployed):
    run = deployed.post("/runs", {"agent_id": "bot", "user_id": "u"}).json
    other = deployed.post("/runs", {"agent_id": "bot", "user_id": "v"}).json
    blocked = egress(deployed, "POST", "/critical/do", json_body={}, headers={"X-Run-ID": run["id"]}).json
    wrong = deployed.post(f"/runs/{other['id']}/actions/{blocked['action_id']}/approve", {})
    assert wrong.status_code == 404
    stranger = deployed.post("/runs", {"agent_id": "someone-else", "user_id": "v"}).json
    borrowed = egress(deployed, "POST", "/critical/do", json_body={}, headers={"X-Run-ID": stranger["id"]})
    assert borrowed.status_code == 403
    assert borrowed.json["error"] == f"run {stranger['id']} belongs to agent agent-system/someone-else"
    assert deployed.get(f"/runs/{run['id']}").json["status"] == "PAUSED_APPROVAL"


def test_approving_the_action_directly_grants_the_tool_too(deployed):
    run = deployed.post("/runs", {"agent_id": "bot", "user_id": "u"}).json
    blocked = egress(deployed, "POST", "/critical/do", json_body={"a": 1}, headers={"X-Run-ID": run["id"]}).json
    digest = hashlib.sha256(json.dumps({"a": 1}).encode()).hexdigest()
    approved = deployed.post(f"/runs/{run['id']}/actions/{blocked['action_id']}/approve", {"payload_hash": digest})
    assert approved.status_code == 200
    assert deployed.get(f"/governance/requests/{blocked['request_id']}").json["status"] == "APPROVED"
    retried = egress(deployed, "POST", "/critical/do", json_body={"a": 1}, headers={"X-Run-ID": run["id"]})
    assert retried.status_code == 200


def test_configured_tool_reply_and_bad_reply_config(deployed):
    assert (
        deployed.put("/_mock/replies", {"tools": {"echo-tool": {"status": 201, "body": {"ok": True}}}}).status_code
        == 200
    )
    answer = egress(deployed, "POST", "/echo-tool/x", json_body={})
    assert (answer.status_code, answer.json) == (201, {"ok": True})
    bad = deployed.put("/_mock/replies", {"tools": {"echo-tool": {"status": 99}}})
    assert bad.json == {"error": 'tools must map a tool name to {"status": 100-599, "body": <JSON>}'}


@pytest.fixture
def local_tool():
    tool = LoopbackTool()
    yield tool.url
    tool.close()


@pytest.mark.parametrize("where", ["Header", "Query"])
def test_loopback_tools_are_forwarded_with_credentials_injected(api, local_tool, where):
    api.post(
        "/api/tools",
        {
            "name": "mine",
            "credentials": {"api_key": "k-SECRET"},
            "spec": {
                "connection": {
                    "baseUrl": local_tool,
                    "authentication": {
                        "type": "APIKey",
                        "apiKeyConfig": {"in": where, "name": "X-Key", "valuePrefix": "Token "},
                    },
                }
            },
        },
    )
    api.post("/api/deploy", {"agent_name": "bot", "image": "i", "required_tools": ["mine"]})
    run = api.post("/runs", {"agent_id": "bot", "user_id": "carol"}).json
    answer = egress(api, "GET", "/mine/items?x=1", headers={"X-Run-ID": run["id"], "Authorization": "Bearer agent"})
    received = answer.json
    if where == "Header":
        assert received["headers"]["X-Key"] == "Token k-SECRET" and received["path"] == "/items?x=1"
    else:
        assert received["path"] == "/items?x=1&X-Key=Token+k-SECRET"
    assert received["headers"]["X-End-User-ID"] == "carol"
    assert "Authorization" not in received["headers"]  # the agent's own header is not passed on
    assert "k-SECRET" not in json.dumps(api.get("/_mock/state").json)
    assert "k-SECRET" not in json.dumps(api.get("/_mock/journal").json)
