"""Tools, model providers and identity providers: create-or-update, get, list, delete, probes."""

from __future__ import annotations

import json

import pytest
from api_support import GOOGLE_IDP, OPENAI_PROVIDER, STRIPE_TOOL, error_of

COLLECTIONS = [
    # path, create body, not-found message template, default namespace
    ("/api/tools", STRIPE_TOOL, 'tool "{}" not found', "agent-system"),
    ("/api/model-providers", OPENAI_PROVIDER, 'model provider "{}" not found', "agent-system"),
    ("/api/identity-providers", GOOGLE_IDP, 'identity provider "{}" not found', "default"),
]


@pytest.mark.parametrize("path, body, _, namespace", COLLECTIONS)
def test_create_get_list_delete(api, path, body, _, namespace):
    created = api.post(path, body)
    assert created.status_code == 201
    record = created.get_json()
    assert record["name"] == body["name"] and record["namespace"] == namespace
    assert api.get(f"{path}/{body['name']}").get_json()["name"] == body["name"]
    assert [r["name"] for r in api.get(path).get_json()] == [body["name"]]
    deleted = api.delete(f"{path}/{body['name']}")
    assert deleted.status_code == 200 and deleted.get_json() == {"status": "deleted"}
    assert api.get(path).get_json() == []


@pytest.mark.parametrize("path, body, _, __", COLLECTIONS)
def test_create_is_idempotent_by_name(api, path, body, _, __):
    api.post(path, body)
    changed = json.loads(json.dumps(body))
    changed["spec"][
        "host" if "host" in body["spec"] else "endpoint" if "endpoint" in body["spec"] else "description"
    ] = "changed"
    assert api.post(path, changed).status_code == 201
    records = api.get(path).get_json()
    assert len(records) == 1
    assert "changed" in json.dumps(records[0]["spec"])


@pytest.mark.parametrize("path, body, message, _", COLLECTIONS)
def test_missing_names_are_documented_404s(api, path, body, message, _):
    for method in ("GET", "DELETE"):
        response = api.request(method, f"{path}/nope")
        assert response.status_code == 404
        assert error_of(response) == message.format("nope")


def test_identity_provider_namespace_can_be_given(api):
    record = api.post("/api/identity-providers", {**GOOGLE_IDP, "namespace": "team-a"}).get_json()
    assert record["namespace"] == "team-a"
    assert record["spec"] == GOOGLE_IDP["spec"]


@pytest.mark.parametrize(
    "path, body, message",
    [
        ("/api/model-providers", {"name": "p"}, "spec is required"),
        (
            "/api/model-providers",
            {"name": "p", "spec": {"provider": "openai", "endpoint": "e", "models": []}},
            "spec.auth is required",
        ),
        (
            "/api/model-providers",
            {"name": "p", "spec": {**OPENAI_PROVIDER["spec"], "provider": "azure"}},
            "spec.provider must be one of: openai, anthropic, bedrock, ollama",
        ),
        (
            "/api/identity-providers",
            {"name": "i", "spec": {"host": "h", "userIDClaim": "sub"}},
            "spec.identityProvider is required",
        ),
        (
            "/api/identity-providers",
            {"name": "i", "spec": {**GOOGLE_IDP["spec"], "identityProvider": {"issuer": "x"}}},
            "spec.identityProvider.jwksUri is required",
        ),
        ("/api/tools", {"spec": {}}, "name is required"),
        ("/api/tools", {"name": "t"}, "spec is required (or base_url in the flat form)"),
    ],
)
def test_invalid_bodies_name_the_field(api, path, body, message):
    response = api.post(path, body)
    assert response.status_code == 400
    assert error_of(response) == message
    assert api.get(path).get_json() == []


# --- tools specifics ----------------------------------------------------------------------


def test_tool_credentials_are_wired_and_never_returned(api):
    created = api.post("/api/tools", STRIPE_TOOL)
    secret = STRIPE_TOOL["credentials"]["api_key"]
    auth = created.get_json()["spec"]["connection"]["authentication"]
    assert auth["apiKeyConfig"]["secretRef"] == {"name": "stripe-api-credentials"}
    for response in (created, api.get("/api/tools/stripe-api"), api.get("/api/tools")):
        assert secret not in response.get_data(as_text=True)
        assert "credentials" not in response.get_json()
    assert secret not in json.dumps(api.state())
    assert secret not in api.get("/_mock/journal").get_data(as_text=True)


def test_oauth2_credentials_get_a_namespaced_secret_ref(api):
    body = {
        "name": "google-drive",
        "spec": {
            "connection": {
                "baseUrl": "https://www.googleapis.com",
                "authentication": {
                    "type": "OAuth2",
                    "oauth2Config": {"authUrl": "https://a", "tokenUrl": "https://t", "scopes": ["s"]},
                },
            }
        },
        "credentials": {"client_id": "123.apps.googleusercontent.com", "client_secret": "GOCSPX-secret"},
    }
    tool = api.post("/api/tools", body).get_json()
    assert tool["spec"]["connection"]["authentication"]["oauth2Config"]["credentialsSecretRef"] == {
        "name": "google-drive-credentials",
        "namespace": "agent-system",
    }
    assert tool["status"] == {"phase": "Pending"}
    assert "GOCSPX-secret" not in json.dumps(tool)


def test_flat_tool_body_from_the_vendor_sdk(api):
    flat = {
        "name": "weather",
        "base_url": "https://api.weather.example",
        "description": "Weather",
        "auth_type": "None",
        "port": 8443,
        "scheme": "HTTPS",
    }
    tool = api.post("/api/tools", flat).get_json()
    assert tool["spec"] == {
        "description": "Weather",
        "connection": {
            "topology": "External",
            "baseUrl": "https://api.weather.example",
            "port": 8443,
            "scheme": "HTTPS",
            "authentication": {"type": "None"},
        },
    }


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://api.stripe.com", {"reachable": True, "status_code": 200}),
        ("https://status-401.example.com/v1", {"reachable": True, "status_code": 401}),
        ("https://status-503.example.com", {"reachable": False, "status_code": 503}),
        ("https://down.invalid", {"reachable": False, "error": "dial tcp: lookup down.invalid: no such host"}),
        ("ftp://files.example.com", {"reachable": False, "error": "invalid URL"}),  # a URI, but not http(s)
    ],
)
def test_probe_is_simulated_and_deterministic(api, url, expected):
    first = api.post("/api/tools/probe", {"url": url}).get_json()
    assert {k: first[k] for k in expected} == expected
    assert api.post("/api/tools/probe", {"url": url}).get_json() == first


def test_probe_refuses_what_is_not_a_uri(api):
    # The June contract has `url` as a URI: text that is none is a 400 on both releases.
    for path in ("/api/tools/probe", "/api/v1/tools/probe"):
        response = api.post(path, {"url": "not a url"})
        assert response.status_code == 400 and error_of(response) == "url must be a valid uri"


def test_probe_requires_url(api):
    response = api.post("/api/tools/probe", {})
    assert response.status_code == 400 and error_of(response) == "url is required"


def test_tool_test_updates_status(api):
    api.post("/api/tools", {"name": "up", "base_url": "https://api.example.com"})
    api.post("/api/tools", {"name": "down", "base_url": "https://api.example.invalid"})
    up = api.post("/api/tools/up/test")
    assert up.status_code == 200 and up.get_json()["reachable"] is True
    status = api.get("/api/tools/up").get_json()["status"]
    assert status["phase"] == "Available"
    assert status["probe_latency_ms"] == up.get_json()["latency_ms"]
    assert status["last_probe_time"].endswith("Z")
    api.post("/api/tools/down/test")
    status = api.get("/api/tools/down").get_json()["status"]
    assert status["phase"] == "Unreachable" and "no such host" in status["message"]


def test_tool_test_of_missing_tool_is_404(api):
    response = api.post("/api/tools/ghost/test")
    assert response.status_code == 404 and error_of(response) == 'tool "ghost" not found'


def test_model_provider_becomes_available(api):
    created = api.post("/api/model-providers", OPENAI_PROVIDER).get_json()
    assert created["status"] == {"phase": "Pending", "message": ""}
    api.advance(2)
    assert api.get("/api/model-providers/openai-prod").get_json()["status"]["phase"] == "Available"


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/tools", {"name": "a/b", "base_url": "https://x.example"}),
        ("/api/model-providers", {**OPENAI_PROVIDER, "name": "Open AI"}),
        ("/api/identity-providers", {**GOOGLE_IDP, "name": "-google"}),
    ],
)
def test_names_must_be_resource_names(api, path, body):
    # A name with "/" could be created but never read or deleted through its path.
    response = api.post(path, body)
    assert response.status_code == 400
    assert error_of(response).startswith("name has an invalid format (must match ^[a-z0-9]")
    assert api.get(path).get_json() == []
