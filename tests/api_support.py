"""Test support: a client whose every response is checked against openapi.yaml, and sample bodies."""

from __future__ import annotations

import json
from typing import Any

from mockserver.spec.conformance import served_response_problems
from mockserver.surface.faults import FAULT_HEADER

AUTH = {"Authorization": "Bearer test-key"}


class CheckedClient:
    """Flask's test client plus: bearer auth by default, and every response checked against
    the spec, so no test can pass on a response the spec does not allow."""

    def __init__(self, app):
        self.app = app
        self.mock = app.extensions["runagents_mock"]
        self._client = app.test_client()

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        **kwargs: Any,
    ):
        sent = dict(AUTH if auth else {})
        sent.update(headers or {})
        if json_body is not None:
            data = json.dumps(json_body)
            sent.setdefault("Content-Type", "application/json")
        response = self._client.open(path, method=method, data=data, headers=sent, **kwargs)
        problems = served_response_problems(
            self.mock.surfaces,
            method,
            path.split("?")[0],
            response.status_code,
            response.headers.get("Content-Type"),
            response.get_data(),
            injected_fault=FAULT_HEADER in response.headers,
        )
        assert not problems, "response breaks its OpenAPI document:\n" + "\n".join(problems)
        return response

    def get(self, path: str, **kw: Any):
        return self.request("GET", path, **kw)

    def delete(self, path: str, **kw: Any):
        return self.request("DELETE", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any):
        return self.request("POST", path, json_body=body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any):
        return self.request("PATCH", path, json_body=body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any):
        return self.request("PUT", path, json_body=body, **kw)

    def advance(self, seconds: float) -> None:
        self.post("/_mock/clock/advance", {"seconds": seconds})

    def state(self) -> dict[str, Any]:
        return self.mock.platform.export()


def error_of(response) -> str:
    """The documented error body's message; fails if the body is not the error shape."""
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    return body["error"]


# Request bodies used across tests, in the shapes the vendor's docs show.
STRIPE_TOOL = {
    "name": "stripe-api",
    "spec": {
        "description": "Stripe payments API",
        "connection": {
            "topology": "External",
            "baseUrl": "https://api.stripe.com",
            "port": 443,
            "scheme": "HTTPS",
            "authentication": {
                "type": "APIKey",
                "apiKeyConfig": {"in": "Header", "name": "Authorization", "valuePrefix": "Bearer "},
            },
        },
        "governance": {
            "accessControl": {"mode": "Restricted", "requireApproval": True},
            "approval": {"group": "platform-admins", "defaultDuration": "8h", "autoExpire": True},
        },
        "capabilities": [{"name": "create-charge", "method": "POST", "path": "/v1/charges"}],
        "riskTags": ["financial"],
    },
    "credentials": {"api_key": "sk_live_51Hx9TOPSECRETvalue000"},
}

OPENAI_PROVIDER = {
    "name": "openai-prod",
    "spec": {
        "provider": "openai",
        "endpoint": "https://api.openai.com",
        "models": ["gpt-4o", "gpt-4o-mini"],
        "auth": {
            "type": "APIKey",
            "apiKeyConfig": {
                "in": "Header",
                "name": "Authorization",
                "valuePrefix": "Bearer ",
                "secretRef": {"name": "openai-api-key"},
            },
        },
        "rateLimit": {"requestsPerMinute": 500},
    },
}

GOOGLE_IDP = {
    "name": "google-oidc",
    "spec": {
        "host": "portal.agents.example.com",
        "identityProvider": {
            "issuer": "https://accounts.google.com",
            "jwksUri": "https://www.googleapis.com/oauth2/v3/certs",
            "audiences": ["my-app.example.com"],
        },
        "userIDClaim": "email",
        "allowedDomains": ["example.com"],
    },
}

# The /analyze request example from the vendor's ingestion page, verbatim.
DOC_ANALYZE_EXAMPLE = (
    "import openai\nimport requests\n\nclient = openai.OpenAI()\n\ndef run():\n"
    "    # Call Stripe API\n"
    '    resp = requests.get("https://api.stripe.com/v1/charges",\n'
    '        headers={"Authorization": "Bearer sk_live_abc123"})\n'
    "    \n    # Get LLM response\n"
    "    completion = client.chat.completions.create(\n"
    '        model="gpt-4o",\n'
    '        messages=[{"role": "user", "content": "Summarize charges"}]\n'
    "    )\n"
    "    return completion.choices[0].message.content\n"
)
