"""Clients we did not write (the vendor SDK, the OpenAI SDK) pointed at the runagents_mock fixture."""

from __future__ import annotations

import openai
import pytest
from runagents import Client
from schema_only import schema_problems

from mockserver.basics.redact import REDACTED

# A model provider as the API's create call takes it; the gateway routes gpt-4o-mini to it.
OPENAI_PROVIDER = {
    "name": "openai",
    "spec": {
        "provider": "openai",
        "endpoint": "https://api.openai.com",
        "models": ["gpt-4o-mini"],
        "auth": {"type": "None"},
    },
}


@pytest.fixture
def sdk(runagents_mock, monkeypatch) -> Client:
    """The vendor SDK; everything explicit, so ~/.runagents/config.json and RUNAGENTS_* do not leak in."""
    for name in ("RUNAGENTS_ENDPOINT", "RUNAGENTS_API_KEY", "RUNAGENTS_NAMESPACE"):
        monkeypatch.delenv(name, raising=False)
    return Client(endpoint=runagents_mock.url, api_key=runagents_mock.api_key, namespace="default")


@pytest.fixture
def gpt_4o_mini(runagents_mock) -> str:
    """Register a provider for gpt-4o-mini; answers the model name."""
    assert runagents_mock.request("POST", "/api/model-providers", json=OPENAI_PROVIDER).status_code == 201
    return "gpt-4o-mini"


@pytest.fixture
def llm(runagents_mock, gpt_4o_mini) -> openai.OpenAI:
    """The OpenAI SDK against the mock's gateway; no retries, so errors surface at once."""
    return openai.OpenAI(base_url=runagents_mock.openai_base_url, api_key=runagents_mock.api_key, max_retries=0)


@pytest.fixture(autouse=True)
def requests_the_spec_describes(runagents_mock):
    """After each client test: every request the mock accepted passes openapi.yaml alone
    (plain jsonschema), so the SDKs' request forms are ones the spec describes."""
    yield
    for entry in runagents_mock.journal():
        if entry["status"] < 400 and not entry["path"].startswith("/_mock/"):
            problems = schema_problems(entry["method"], entry["path"], entry["query"], entry["body"], redacted=REDACTED)
            assert problems == [], f"{entry['method']} {entry['path']}: {problems}"
