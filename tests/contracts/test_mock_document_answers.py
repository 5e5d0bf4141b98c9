"""What the bare ``st run`` found on mock-openapi.yaml (issue 26), each as a user sees it.

Every response passes through the checked client, so an answer that breaks its document fails
here as it fails under ``st run`` (and the strict mock would answer 500).
"""

from __future__ import annotations

import pytest
from api_support import error_of

WORKSPACE_RULE = (
    "invalid workspace name: use 1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit"
)


@pytest.mark.parametrize("path", ["/_mock/reset", "/_mock/agents/a/b/env", "/_mock/workspaces/default/keys/k-1"])
def test_options_on_the_control_api_is_a_405_with_allow(api, path):
    response = api.request("OPTIONS", path)
    assert response.status_code == 405, response.get_data(as_text=True)
    assert "OPTIONS" not in response.headers["Allow"]
    assert error_of(response) == f"method OPTIONS is not allowed on {path}"


@pytest.mark.parametrize(
    "method, path, allow",
    [
        ("POST", "/_ingress/jwks.json", "GET"),
        ("TRACE", "/_oauth/callback", "GET"),
        ("GET", "/_ingress/ns/agent/invoke", "POST"),
        ("GET", "/_workspaces/default/runs/r-1/checkpoint", "POST"),
    ],
)
def test_another_method_on_a_runtime_path_is_a_405_with_allow(api, method, path, allow):
    response = api.request(method, path, auth=False)
    assert response.status_code == 405 and response.headers["Allow"] == allow
    assert error_of(response) == f"method {method} is not allowed on {path}"


def test_an_unknown_runtime_path_is_still_a_404(api):
    response = api.request("GET", "/_ingress/nothing", auth=False)
    assert response.status_code == 404


@pytest.mark.parametrize("prefix", ["", "/_workspaces/default"])
def test_an_oauth_state_with_any_text_is_refused_not_a_500(api, prefix):
    response = api.get(prefix + "/_oauth/callback?state=e%C3%B8%23.%C2%BD", auth=False)
    assert response.status_code == 400 and error_of(response) == "invalid OAuth state"


@pytest.mark.parametrize(
    "path", ["/_mock/workspaces/Bad_Name/keys", "/_mock/workspaces/-x/clock", "/_workspaces/X/_ingress/jwks.json"]
)
def test_a_bad_workspace_name_gets_the_documented_rule(api, path):
    response = api.get(path)
    assert response.status_code == 400 and error_of(response) == WORKSPACE_RULE


@pytest.mark.parametrize("body", [{}, {"version": 2}])
def test_a_state_without_its_version_is_refused_and_changes_nothing(api, body):
    api.post("/api/tools", {"name": "kept", "base_url": "https://kept.example.com"})
    response = api.put("/_mock/state", body)
    assert response.status_code == 400 and error_of(response) == "not a runagents-mock state (expected version 1)"
    assert [t["name"] for t in api.get("/api/tools").get_json()] == ["kept"]


@pytest.mark.parametrize("section, value", [("workspaces", False), ("tools", 0), ("catalog", ""), ("runs", False)])
def test_a_seed_section_of_the_wrong_type_is_refused_not_read_as_empty(api, section, value):
    response = api.post("/_mock/seed", {section: value})
    assert response.status_code == 400, response.get_json()
    assert error_of(response).startswith(f"{section} must ")


@pytest.mark.parametrize("section", ["deploy_drafts", "tools"])
def test_a_null_seed_item_is_refused_not_created_empty(api, section):
    response = api.post("/_mock/seed", {section: [None]})
    assert response.status_code == 400
    assert error_of(response) == f"{section}[0]: request body must be of type object"
    assert api.get("/api/v1/deploy-drafts").get_json() == []


def test_a_null_seed_section_and_an_empty_seed_are_empty(api):
    assert api.post("/_mock/seed", {"tools": None, "workspaces": None}).get_json() == {"created": {}, "ids": {}}
    assert api.request("POST", "/_mock/seed", data="").get_json() == {"created": {}, "ids": {}}


def test_a_null_jwt_body_is_no_body(api):
    response = api.request("POST", "/_mock/jwt", data="null", headers={"Content-Type": "application/json"})
    assert response.status_code == 200 and response.get_json()["claims"]["iss"] == "runagents-mock"


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("prefix", ["", "/_workspaces/acme"])
def test_an_llm_path_of_non_ascii_names_is_a_json_404_not_a_500(api, method, prefix):
    # Found by st run: the gateway handed the decoded path on as PATH_INFO, which WSGI keeps as latin-1.
    response = api.request(method, prefix + "/_llm/%C3%B9%F0%B5%98%84/%C2%BD./%F3%A6%8C%A3", auth=False)
    assert response.status_code == 404, response.get_data(as_text=True)
    assert error_of(response).startswith(f"no such endpoint: {method} ")


def test_a_state_whose_version_is_true_is_refused_and_changes_nothing(api):
    # JSON's true is not the number 1, though Python compares them equal (found by st run).
    api.post("/api/tools", json={"name": "kept", "base_url": "https://kept.example.com"})
    response = api.put("/_mock/state", json={"version": True})
    assert response.status_code == 400
    assert error_of(response) == "not a runagents-mock state (expected version 1)"
    assert [tool["name"] for tool in api.get("/api/tools").get_json()] == ["kept"]
