"""Every request form the mock accepts is one openapi.yaml describes, and no more.

Each case goes through the spec alone (plain jsonschema, tests/schema_only.py) and through the
mock; the two must agree. The vendor SDK's own requests are checked the same way after every
test in tests/clients/ (see its conftest).
"""

from __future__ import annotations

import pytest
from api_support import error_of
from schema_only import schema_problems

from mockserver.spec.document import Spec

AGENT_PY = "import os\nprint(os.environ.get('TOOL_ECHO_TOOL_URL'))\n"

# getting-started/api-quickstart.md step 4: the deploy body as the page posts it.
API_QUICKSTART_DEPLOY = {
    "name": "hello-world",
    "files": {"agent.py": AGENT_PY},
    "tools_to_create": [],
    "required_tools": ["echo-tool"],
    "llm_configs": [{"role": "default", "provider": "openai", "model": "gpt-4o-mini"}],
    "identity_provider": None,
}
# The vendor CLI's `deploy --name --file --tool --model` (cli/commands.md, cli-quickstart.md).
CLI_DEPLOY = {
    "name": "hello-world",
    "files": {"agent.py": AGENT_PY},
    "required_tools": ["echo-tool"],
    "llm_configs": [{"provider": "openai", "model": "gpt-4o-mini", "role": "default"}],
}

ACCEPTED = [
    pytest.param("POST", "/api/deploy", None, API_QUICKSTART_DEPLOY, id="deploy-api-quickstart"),
    pytest.param("POST", "/api/deploy", None, CLI_DEPLOY, id="deploy-vendor-cli"),
    pytest.param("POST", "/api/deploy", None, {"agent_name": "a", "source_files": {"a.py": ""}}, id="deploy-api"),
    pytest.param("POST", "/api/deploy", None, {"agent_name": "a", "image": "img:1"}, id="deploy-image"),
    pytest.param("POST", "/api/deploy", None, {"name": "a", "image": "img:1"}, id="deploy-name-image"),
    pytest.param("POST", "/api/deploy", None, {"agent_name": "a", "name": "b", "files": {}}, id="deploy-both-names"),
    pytest.param("GET", "/runs", {"agent": "hello-world"}, None, id="runs-agent-vendor-cli"),
    pytest.param("GET", "/runs", {"agent_id": "hello-world", "status": "RUNNING"}, None, id="runs-agent_id"),
]

REFUSED = [
    ({}, "agent_name is required"),
    ({"image": "img:1"}, "agent_name is required"),
    ({"name": "a"}, "either image or source_files is required"),
    ({"name": "a", "files": "agent.py"}, "files must be of type object"),
    ({"name": "", "image": "img:1"}, "name is required"),
    ({"name": "x" * 300, "image": "img:1"}, "name must be at most 253 characters"),
    (
        {"name": "Hello World", "image": "img:1"},
        "name has an invalid format (must match ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$)",
    ),
    (
        {"agent_name": "a", "name": "Not Valid", "image": "img:1"},
        "name has an invalid format (must match ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$)",
    ),
]


@pytest.mark.parametrize("method, path, query, body", ACCEPTED)
def test_accepted_forms_pass_the_spec_alone_and_the_mock(api, method, path, query, body):
    assert schema_problems(method, path, query, body) == []
    api.post("/api/starter-kit")
    url = path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    response = api.request(method, url, json_body=body)
    assert response.status_code in (200, 201), response.get_data(as_text=True)


@pytest.mark.parametrize("body, message", REFUSED)
def test_refused_forms_fail_the_spec_alone_and_the_mock_names_the_field_sent(api, body, message):
    assert schema_problems("POST", "/api/deploy", None, body) != []
    response = api.post("/api/deploy", body)
    assert response.status_code == 400 and error_of(response) == message
    assert api.get("/api/agents").get_json() == []


def test_alternative_names_reach_the_handler_as_the_documented_ones(api):
    api.post("/api/starter-kit")
    assert api.post("/api/deploy", {"agent_name": "a", "name": "b", "image": "img:1"}).get_json()["agent"] == "a"
    assert api.post("/api/deploy", CLI_DEPLOY).get_json()["agent"] == "hello-world"
    assert [a["name"] for a in api.get("/api/agents").get_json()] == ["a", "hello-world"]
    mine = api.post("/runs", {"agent_id": "hello-world", "user_id": "u"}).get_json()["id"]
    api.post("/runs", {"agent_id": "other", "user_id": "u"})
    assert [r["id"] for r in api.get("/runs?agent=hello-world").get_json()] == [mine]
    # agent_id wins over its other name, as agent_name wins over name.
    assert api.get("/runs?agent=hello-world&agent_id=other").get_json()[0]["agent_id"] == "other"


def test_json_nested_too_deeply_says_so(api):
    deep = "[" * 100_000 + "]" * 100_000
    for path in ("/api/deploy", "/_mock/seed"):
        response = api.post(path, data=deep, headers={"Content-Type": "application/json"})
        assert response.status_code == 400 and "nested too deeply" in error_of(response)


def test_no_parameter_is_marked_deprecated():
    # Prism's proxy with --errors answers 422 to any use of a deprecated parameter
    # (stoplightio/prism#714), so a form clients send must not be marked so.
    document = Spec.load().document
    marked = [
        (path, p["name"])
        for path, item in document["paths"].items()
        for op in [item, *(v for v in item.values() if isinstance(v, dict))]
        for p in op.get("parameters", [])
        if isinstance(p, dict) and p.get("deprecated")
    ]
    assert marked == []
