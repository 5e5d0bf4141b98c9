"""POST /api/deploy, POST /api/starter-kit and /api/agents."""

from __future__ import annotations

import pytest
from api_support import error_of

PAYMENT_DEPLOY = {
    "agent_name": "payment-agent",
    "source_files": {"agent.py": "import requests\nimport openai\n\ndef run():\n    return 1\n"},
    "system_prompt": "You are a payment processing assistant.",
    "tools_to_create": [
        {
            "name": "stripe-api",
            "description": "Stripe payments API",
            "base_url": "https://api.stripe.com",
            "auth_type": "APIKey",
        }
    ],
    "required_tools": ["stripe-api"],
    "llm_configs": [{"role": "chat", "provider": "openai", "model": "gpt-4o-mini"}],
    "entry_point": "agent.py",
    "requirements": "openai>=1.0\nrequests",
}


def deploy_image(api, name="my-agent", **extra):
    body = {"agent_name": name, "image": "myregistry.io/my-agent:v1.2.0", **extra}
    response = api.post("/api/deploy", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_deploy_with_image_answers_201_without_build(api):
    result = deploy_image(
        api, required_tools=["echo-tool"], llm_configs=[{"provider": "openai", "model": "gpt-4o-mini"}]
    )
    assert result == {"agent": "my-agent", "agent_name": "my-agent", "namespace": "agent-system", "tools_created": []}
    agent = api.get("/api/agents/agent-system/my-agent").get_json()
    assert agent["spec"]["image"] == "myregistry.io/my-agent:v1.2.0"
    assert agent["spec"]["requiredTools"] == [{"name": "echo-tool"}]
    assert agent["status"] == {"phase": "Running", "message": ""}


def test_deploy_with_sources_creates_tools_and_starts_a_build(api):
    result = api.post("/api/deploy", PAYMENT_DEPLOY).get_json()
    assert result["tools_created"] == ["stripe-api"]
    assert result["build_id"].startswith("build-")
    assert result["image_uri"].startswith("registry.runagents.io/payment-agent:")
    tool = api.get("/api/tools/stripe-api").get_json()
    assert tool["spec"]["connection"] == {
        "topology": "External",
        "baseUrl": "https://api.stripe.com",
        "port": 443,
        "scheme": "HTTPS",
        "authentication": {"type": "APIKey"},
    }
    assert tool["spec"]["description"] == "Stripe payments API"
    agent = api.get("/api/agents/agent-system/payment-agent").get_json()
    assert agent["spec"] == {
        "image": result["image_uri"],
        "systemPrompt": "You are a payment processing assistant.",
        "requiredTools": [{"name": "stripe-api"}],
        "llmConfig": {"provider": "openai", "model": "gpt-4o-mini"},
        "env": [{"name": "LLM_MODEL", "value": "gpt-4o-mini"}, {"name": "LLM_PROVIDER", "value": "openai"}],
    }
    assert agent["status"]["phase"] == "Pending"


def test_agent_follows_its_build(api):
    result = api.post("/api/deploy", PAYMENT_DEPLOY).get_json()
    api.advance(10)
    assert api.get(f"/api/builds/{result['build_id']}").get_json()["status"] == "SUCCEEDED"
    assert api.get("/api/agents/agent-system/payment-agent").get_json()["status"]["phase"] == "Running"


def test_agent_fails_when_its_build_fails(api):
    body = {"agent_name": "broken", "source_files": {"agent.py": "def run(:\n    pass\n"}}
    api.post("/api/deploy", body)
    api.advance(10)
    status = api.get("/api/agents/agent-system/broken").get_json()["status"]
    assert status["phase"] == "Failed"
    assert "agent.py: line 1" in status["message"]


def test_multi_model_deploy_sets_role_based_env(api):
    deploy_image(
        api,
        "rag-agent",
        llm_configs=[
            {"role": "chat", "provider": "openai", "model": "gpt-4o"},
            {"role": "embedding", "provider": "openai", "model": "text-embedding-3-small"},
            {"role": "reranking", "provider": "anthropic", "model": "claude-3-haiku-20240307"},
        ],
    )
    spec = api.get("/api/agents/agent-system/rag-agent").get_json()["spec"]
    assert spec["env"] == [
        {"name": "LLM_MODEL", "value": "gpt-4o"},
        {"name": "LLM_PROVIDER", "value": "openai"},
        {"name": "LLM_MODEL_EMBEDDING", "value": "text-embedding-3-small"},
        {"name": "LLM_PROVIDER_EMBEDDING", "value": "openai"},
        {"name": "LLM_MODEL_RERANKING", "value": "claude-3-haiku-20240307"},
        {"name": "LLM_PROVIDER_RERANKING", "value": "anthropic"},
    ]
    assert spec["llmConfig"] == {"provider": "openai", "model": "gpt-4o"}


def test_single_llm_config_user_env_and_identity_provider_label(api):
    deploy_image(
        api,
        "a",
        llm_config={"provider": "ollama", "model": "llama3.1"},
        env=[{"name": "MODE", "value": "test"}],
        identity_provider="google-oidc",
    )
    agent = api.get("/api/agents/agent-system/a").get_json()
    assert agent["labels"] == {"platform.ai/identity-provider": "google-oidc"}
    assert agent["spec"]["env"][0] == {"name": "MODE", "value": "test"}
    assert {"name": "LLM_PROVIDER", "value": "ollama"} in agent["spec"]["env"]


def test_deploy_is_idempotent_by_name(api):
    deploy_image(api, system_prompt="v1")
    deploy_image(api, system_prompt="v2")
    agents = api.get("/api/agents").get_json()
    assert [a["name"] for a in agents] == ["my-agent"]
    assert agents[0]["spec"]["systemPrompt"] == "v2"


def test_deploy_accepts_the_cli_field_names(api):
    response = api.post(
        "/api/deploy",
        {
            "name": "cli-agent",
            "files": {"main.py": "print(1)\n"},
            "identity_provider": None,
            "llm_configs": [{"provider": "openai", "model": "gpt-4o", "role": "default"}],
        },
    )
    assert response.status_code == 201
    assert response.get_json()["agent"] == "cli-agent"
    assert "build_id" in response.get_json()


@pytest.mark.parametrize(
    "body, message",
    [
        ({}, "agent_name is required"),
        ({"agent_name": ""}, "agent_name is required"),
        ({"image": "x"}, "agent_name is required"),
        ({"agent_name": "a"}, "either image or source_files is required"),
        ({"agent_name": "a", "image": "i", "tools_to_create": [{"name": "t"}]}, "tool name and base_url are required"),
        (
            {"agent_name": "a", "image": "i", "tools_to_create": [{"base_url": "https://x"}]},
            "tool name and base_url are required",
        ),
        (
            {"agent_name": "a", "image": "i", "tools_to_create": [{"name": "", "base_url": "https://x"}]},
            "tool name and base_url are required",
        ),
    ],
)
def test_deploy_documented_400s(api, body, message):
    response = api.post("/api/deploy", body)
    assert response.status_code == 400
    assert error_of(response) == message
    assert api.get("/api/agents").get_json() == []
    assert api.get("/api/tools").get_json() == []


def test_get_and_delete_missing_agent_are_404(api):
    for method in ("GET", "DELETE"):
        response = api.request(method, "/api/agents/agent-system/ghost")
        assert response.status_code == 404
        assert error_of(response) == "agent agent-system/ghost not found"


def test_delete_agent(api):
    deploy_image(api)
    response = api.delete("/api/agents/agent-system/my-agent")
    assert response.status_code == 200 and response.get_json() == {"status": "deleted"}
    assert api.get("/api/agents").get_json() == []


def test_starter_kit_is_idempotent(api):
    first = api.post("/api/starter-kit")
    assert first.status_code == 200
    assert first.get_json() == {
        "status": "ok",
        "message": "Starter kit resources created",
        "tools_created": ["echo-tool"],
        "model_providers_created": ["playground-llm"],
    }
    second = api.post("/api/starter-kit").get_json()
    assert second["status"] == "ok" and second["tools_created"] == [] and second["model_providers_created"] == []
    assert [t["name"] for t in api.get("/api/tools").get_json()] == ["echo-tool"]
    providers = api.get("/api/model-providers").get_json()
    assert [(p["name"], p["spec"]["models"]) for p in providers] == [("playground-llm", ["gpt-4o-mini"])]


# --- invoke -------------------------------------------------------------------------------


def test_invoke_echoes_by_default_and_is_recorded(api):
    deploy_image(api)
    response = api.post(
        "/api/agents/agent-system/my-agent/invoke",
        {"message": "What are the recent charges?", "conversation_id": "conv-123"},
        headers={"X-End-User-ID": "alice@example.com", "X-Run-ID": "run-1"},
    )
    assert response.status_code == 200
    assert response.get_json()["response"] == "echo: What are the recent charges?"
    call = api.mock.platform.agents.invocations[-1]
    assert call["end_user_id"] == "alice@example.com" and call["run_id"] == "run-1"
    assert call["body"]["conversation_id"] == "conv-123"


def test_invoke_configured_reply(api):
    deploy_image(api)
    api.put("/_mock/replies", {"agents": {"agent-system/my-agent": {"response": "42"}}})
    assert api.post("/api/agents/agent-system/my-agent/invoke", {"message": "?"}).get_json() == {"response": "42"}


def test_invoke_missing_agent_is_404(api):
    response = api.post("/api/agents/agent-system/ghost/invoke", {"message": "hi"})
    assert response.status_code == 404
    assert error_of(response) == "agent agent-system/ghost not found"


def test_invoke_agent_that_is_not_running_is_502(api):
    api.post("/api/deploy", PAYMENT_DEPLOY)
    response = api.post("/api/agents/agent-system/payment-agent/invoke", {"message": "hi"})
    assert response.status_code == 502
    assert error_of(response) == "failed to reach agent: agent agent-system/payment-agent is Pending"


def test_empty_image_without_sources_is_the_documented_400(api):
    response = api.post("/api/deploy", {"agent_name": "a", "image": ""})
    assert response.status_code == 400
    assert error_of(response) == "either image or source_files is required"


def test_configured_reply_changed_in_place_is_answered_fresh(api):
    # Answers are encoded once per stored record; a reply object the caller keeps changing
    # must not be served from that cache.
    deploy_image(api)
    reply = {"response": "first"}
    api.mock.platform.agents.replies["agent-system/my-agent"] = reply
    assert api.post("/api/agents/agent-system/my-agent/invoke", {"message": "?"}).get_json() == reply
    reply["response"] = "second"
    assert api.post("/api/agents/agent-system/my-agent/invoke", {"message": "?"}).get_json() == {"response": "second"}
