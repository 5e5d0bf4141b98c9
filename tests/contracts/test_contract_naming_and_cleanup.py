"""The name prefix, and cleanup deleting only what carries it."""

from __future__ import annotations

import pytest
import requests

from contracts.api import load_document, spec_operations
from contracts.cleanup import Cleaner, CreatedResources
from contracts.naming import apply_name_prefix, prefixed
from mockserver.testkit.live_server import LiveServer

PREFIX = "contract-test-"
HEADERS = {"Authorization": "Bearer k"}


@pytest.mark.parametrize(
    "value, expected",
    [
        ("stripe-api", "contract-test-stripe-api"),
        ("contract-test-x", "contract-test-x"),  # came back through a link: left alone
        ("Y/\x15J", "contract-test-y-j"),  # addressable in a URL, so it can be deleted again
        ("", "contract-test-x"),
        ("a" * 100, "contract-test-" + "a" * 49),  # 63 characters at most
    ],
)
def test_prefixed(value, expected):
    assert prefixed(value, PREFIX) == expected


@pytest.fixture(scope="module")
def schema():
    import schemathesis

    return schemathesis.openapi.from_dict(load_document(None))


def test_prefixes_names_in_bodies_but_not_names_inside_specs(schema):
    case = schema["/api/deploy"]["POST"].Case(
        body={
            "agent_name": "pay",
            "image": "img",
            "required_tools": ["stripe-api"],
            "tools_to_create": [{"name": "echo", "base_url": "http://e"}],
            "env": [{"name": "LLM_MODEL", "value": "x"}],
        }
    )
    apply_name_prefix(case, PREFIX)
    assert case.body["agent_name"] == "contract-test-pay"
    assert case.body["required_tools"] == ["contract-test-stripe-api"]
    assert case.body["tools_to_create"][0]["name"] == "contract-test-echo"
    assert case.body["env"] == [{"name": "LLM_MODEL", "value": "x"}]  # not a resource name


def test_prefixes_path_names_on_writes_only(schema):
    delete = schema["/api/tools/{name}"]["DELETE"].Case(path_parameters={"name": "stripe-api"})
    get = schema["/api/tools/{name}"]["GET"].Case(path_parameters={"name": "stripe-api"})
    apply_name_prefix(delete, PREFIX)
    apply_name_prefix(get, PREFIX)
    assert delete.path_parameters == {"name": "contract-test-stripe-api"}  # never a real tool
    assert get.path_parameters == {"name": "stripe-api"}  # reading is harmless


def test_cleanup_deletes_only_prefixed_resources_and_closes_open_runs():
    with LiveServer() as live:
        post = lambda path, body: requests.post(live.url + path, json=body, headers=HEADERS, timeout=10)
        for name in ("stripe-api", "contract-test-a", "contract-test-b"):
            post("/api/tools", {"name": name, "base_url": "https://example.com"})
        post(
            "/api/model-providers",
            {
                "name": "contract-test-p",
                "spec": {
                    "provider": "openai",
                    "endpoint": "https://api.openai.com",
                    "models": ["m"],
                    "auth": {"type": "None"},
                },
            },
        )
        post("/api/deploy", {"agent_name": "contract-test-agent", "image": "img"})
        post("/api/deploy", {"agent_name": "payment-agent", "image": "img"})
        ours = post("/runs", {"agent_id": "contract-test-agent", "user_id": "u"}).json()
        theirs = post("/runs", {"agent_id": "payment-agent", "user_id": "u"}).json()
        post("/governance/requests", {"subject": "contract-test-sa", "tool_id": "contract-test-a"})

        created = CreatedResources()
        # A name seen in a create response is deleted even if the list does not show it.
        created.record("createTool", 201, {"name": "contract-test-b", "namespace": "agent-system"})
        operations = {op.operation_id: op for op in spec_operations(load_document(None))}
        with requests.Session() as session:
            result = Cleaner(session, live.url, operations, PREFIX, {"Authorization": "Bearer k"}).run(created)

        platform = live.mock.platform
        assert not result.problems
        assert sorted(platform.tools.items) == ["stripe-api"]
        assert not platform.providers.items
        assert sorted(name for _, name in platform.agents.items) == ["payment-agent"]
        assert platform.runs.get(ours["id"])["status"] == "FAILED"
        assert platform.runs.get(theirs["id"])["status"] == "RUNNING"
        assert not platform.governance.list(status="PENDING")
        assert "tools 2" in result.summary()


@pytest.mark.parametrize("prefix", ["", "-", "ab", "Contract-"])
def test_a_vague_prefix_is_refused_because_cleanup_deletes_by_it(prefix):
    from contracts.settings import RunSettings

    with pytest.raises(ValueError, match="too vague"):
        RunSettings(name_prefix=prefix)
