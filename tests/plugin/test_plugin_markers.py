"""@pytest.mark.runagents_seed: fixtures loaded before the test, outermost marker first."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.runagents_seed(
    {
        "model_providers": [
            {
                "name": "openai",
                "spec": {
                    "provider": "openai",
                    "endpoint": "https://api.openai.com",
                    "models": ["gpt-4o-mini"],
                    "auth": {"type": "None"},
                },
            }
        ]
    }
)


def names(mock, path: str) -> list[str]:
    return [item["name"] for item in mock.request("GET", path).json()]


@pytest.mark.runagents_seed("fixtures/two_tools.yaml")  # relative to this file
def test_marker_with_a_file_next_to_the_test(runagents_mock):
    assert names(runagents_mock, "/api/tools") == ["stripe-api", "echo-tool"]
    assert names(runagents_mock, "/api/model-providers") == ["openai"]  # from the module marker


@pytest.mark.runagents_seed("tests/plugin/fixtures/one_run.json")  # relative to the rootdir
def test_marker_with_a_file_under_the_rootdir(runagents_mock):
    assert [run["agent_id"] for run in runagents_mock.request("GET", "/runs").json()] == ["payment-agent"]


@pytest.mark.runagents_seed(
    "tools: [{name: inline, base_url: 'https://inline.example'}]",
    {"tools": [{"name": "as-dict", "base_url": "https://dict.example"}]},
)
def test_marker_with_text_and_a_dict(runagents_mock):
    assert names(runagents_mock, "/api/tools") == ["inline", "as-dict"]


@pytest.mark.runagents_seed("fixtures/two_tools.yaml")
class TestClassMarker:
    def test_class_marker_applies(self, runagents_mock):
        assert names(runagents_mock, "/api/tools") == ["stripe-api", "echo-tool"]

    @pytest.mark.runagents_seed({"tools": [{"name": "stripe-api", "base_url": "https://override.example"}]})
    def test_inner_marker_is_loaded_last(self, runagents_mock):
        [stripe] = [t for t in runagents_mock.request("GET", "/api/tools").json() if t["name"] == "stripe-api"]
        assert stripe["spec"]["connection"]["baseUrl"] == "https://override.example"


def test_module_marker_alone(runagents_mock):
    assert names(runagents_mock, "/api/tools") == []
    assert names(runagents_mock, "/api/model-providers") == ["openai"]
