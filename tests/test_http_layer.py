"""Cross-cutting HTTP behaviour: auth, routing errors, body parsing, validation messages."""

from __future__ import annotations

import pytest
from api_support import STRIPE_TOOL, error_of


def test_every_route_requires_a_bearer_key(api):
    for method, path in [
        ("GET", "/api/agents"),
        ("POST", "/runs"),
        ("GET", "/governance/requests"),
        ("POST", "/v1/chat/completions"),
        ("GET", "/api/builds/x"),
    ]:
        response = api.request(method, path, auth=False)
        assert response.status_code == 401, (method, path)
        assert "API key" in error_of(response)


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "test-key"])
def test_malformed_authorization_is_401(api, value):
    response = api.get("/api/agents", auth=False, headers={"Authorization": value})
    assert response.status_code == 401


def test_any_non_empty_key_by_default(api):
    assert api.get("/api/agents", auth=False, headers={"Authorization": "Bearer anything"}).status_code == 200


@pytest.mark.parametrize("key", ["invalid", "SCHEMATHESIS-INVALID-VALUE", "my-Invalid-key"])
def test_a_key_that_says_it_is_invalid_is_refused_by_default(api, key):
    # So a client's 401 path (and schemathesis' ignored_auth probe) works without --api-key.
    response = api.get("/api/agents", auth=False, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 401 and error_of(response) == "invalid API key"


def test_api_keys_restrict_to_listed_keys(make_api):
    api = make_api(api_keys=["k1", "k2"])
    assert api.get("/api/agents", auth=False, headers={"Authorization": "Bearer k2"}).status_code == 200
    response = api.get("/api/agents", auth=False, headers={"Authorization": "Bearer k3"})
    assert response.status_code == 401 and error_of(response) == "invalid API key"


def test_unknown_path_is_json_404(api):
    response = api.get("/api/nothing-here")
    assert response.status_code == 404
    assert error_of(response) == "no such endpoint: GET /api/nothing-here"


def test_wrong_method_is_405_with_allow(api):
    response = api.put("/api/tools", {})
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"
    assert "PUT" in error_of(response)


def test_wrong_method_on_agent_path_is_405_not_malformed(api):
    response = api.post("/api/agents/agent-system/a", {})
    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE, GET"


@pytest.mark.parametrize("path", ["/api/agents/only-namespace", "/api/agents/a/b/c", "/api/agents/a/b/invoke/extra"])
def test_malformed_agent_path_is_documented_400(api, path):
    response = api.get(path)
    assert response.status_code == 400
    assert error_of(response) == "path must be /api/agents/{namespace}/{name}"


def test_oversized_body_is_413(make_api):
    api = make_api(max_body_bytes=1000)
    response = api.post("/api/tools", {"name": "t", "base_url": "https://x.example", "description": "x" * 2000})
    assert response.status_code == 413
    assert "larger than 1000 bytes" in error_of(response)
    assert api.get("/api/tools").get_json() == []


def test_malformed_json_is_400_and_changes_nothing(api):
    before = api.state()
    response = api.post("/api/tools", data='{"name": "t",', headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert error_of(response) == "request body is not valid JSON"
    assert api.state() == before


def test_body_must_be_an_object(api):
    response = api.post("/runs", ["agent_id"])
    assert response.status_code == 400
    assert error_of(response) == "request body must be of type object"


def test_empty_post_body_is_an_empty_object(api):
    response = api.post("/api/deploy", data=b"", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert error_of(response) == "agent_name is required"


def test_json_content_type_without_body_on_get_and_delete(api):
    headers = {"Content-Type": "application/json"}
    assert api.get("/api/tools", headers=headers).status_code == 200
    api.post("/api/tools", STRIPE_TOOL)
    assert api.delete("/api/tools/stripe-api", headers=headers).status_code == 200


def test_unknown_request_fields_are_ignored(api):
    body = {**STRIPE_TOOL, "added_in_a_newer_release": {"x": 1}}
    response = api.post("/api/tools", body)
    assert response.status_code == 201
    assert "added_in_a_newer_release" not in response.get_json()


def test_schema_violation_names_the_field_without_echoing_it(api):
    body = {"name": "t", "spec": {"connection": {"port": "sk_live_notaport"}}}
    response = api.post("/api/tools", body)
    assert response.status_code == 400
    message = error_of(response)
    assert message == "spec.connection.port must be of type integer"
    assert "sk_live" not in message


def test_enum_violation_lists_allowed_values(api):
    response = api.post("/runs", {"agent_id": "a", "user_id": "u"})
    run_id = response.get_json()["id"]
    response = api.patch(f"/runs/{run_id}", {"status": "DONE"})
    assert response.status_code == 400
    assert error_of(response) == "status must be one of: RUNNING, PAUSED_APPROVAL, COMPLETED, FAILED"


def test_query_parameter_is_validated(api):
    response = api.get("/runs?status=SLEEPING")
    assert response.status_code == 400
    assert error_of(response).startswith("query parameter status must be one of")


def test_options_is_a_405_like_any_undocumented_method(api):
    response = api.request("OPTIONS", "/api/tools")
    assert response.status_code == 405 and response.headers["Allow"] == "GET, POST"


@pytest.mark.parametrize(
    "path, allow",
    [
        # The catch-all for malformed agent paths must not add its methods (issue 12).
        ("/api/agents/agent-system/a", "DELETE, GET"),
        ("/api/agents/agent-system/a/invoke", "POST"),
        # A literal path item wins over a templated one, as in OpenAPI path matching.
        ("/api/tools/probe", "POST"),
        ("/api/tools/stripe-api", "DELETE, GET"),
        ("/runs/events", "GET, PATCH"),
    ],
)
def test_allow_lists_the_methods_of_the_path_item_in_the_spec(api, path, allow):
    response = api.request("OPTIONS", path)
    assert response.status_code == 405 and response.headers["Allow"] == allow
    assert error_of(response) == f"method OPTIONS is not allowed on {path}"


def test_other_methods_on_a_malformed_agent_path_are_still_the_documented_400(api):
    response = api.request("OPTIONS", "/api/agents/only-namespace")
    assert response.status_code == 400
    assert error_of(response) == "path must be /api/agents/{namespace}/{name}"


@pytest.mark.parametrize(
    "query, message",
    [
        # An empty value is a value: outside the enum, or not an integer, it is refused.
        ("/runs?status=", "query parameter status must be one of: RUNNING, PAUSED_APPROVAL, COMPLETED, FAILED"),
        ("/governance/requests?status=", "query parameter status must be one of: PENDING, APPROVED, REJECTED, EXPIRED"),
        ("/runs/x/events?limit=", "query parameter limit must be of type integer"),
        # No query parameter of the spec is a list.
        ("/runs?status=RUNNING&status=FAILED", "query parameter status is given more than once"),
    ],
)
def test_empty_or_repeated_query_values_are_refused(api, query, message):
    response = api.get(query)
    assert response.status_code == 400 and error_of(response) == message


def test_nan_is_not_json(api):
    run = api.post("/runs", {"agent_id": "a", "user_id": "u"}).get_json()
    response = api.post(
        f"/runs/{run['id']}/events",
        data='{"type": "USER_MESSAGE", "data": {"x": NaN}}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400 and error_of(response) == "request body is not valid JSON"
    response = api.post(
        "/_mock/faults", data='{"status": 503, "latency_ms": Infinity}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
