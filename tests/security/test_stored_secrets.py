"""Secrets sent outside `credentials` (issue 11): a provider's `auth.apiKey`, an OAuth2
`clientSecret`, an identity provider's `clientSecret`, a password inside a URL, a token in run
event data, an agent's `{name: OPENAI_API_KEY, value: ...}` env entry. None may be answered back, exported in `/_mock/state` or shown by the journal; the
mock keeps them masked by the one rule in mockserver/basics/redact.py (in process: fast)."""

from __future__ import annotations

import json

from api_support import GOOGLE_IDP, OPENAI_PROVIDER

SECRETS = [
    "sk-provider-SECRET-1",
    "oauth-client-SECRET-2",
    "idp-client-SECRET-3",
    "url-pass-SECRET-4",
    "event-token-SECRET-5",
    "state-key-SECRET-6",
    "env-key-SECRET-7",
]


def test_secret_named_fields_and_url_passwords_are_never_kept(api):
    provider = json.loads(json.dumps(OPENAI_PROVIDER))
    provider["spec"]["endpoint"] = f"https://user:{SECRETS[3]}@api.openai.com/v1"
    provider["spec"]["auth"] = {
        "type": "OAuth2",
        "apiKey": SECRETS[0],
        "oauth2Config": {"clientId": "id", "clientSecret": SECRETS[1], "tokenUrl": "https://auth.example.com/token"},
    }
    idp = json.loads(json.dumps(GOOGLE_IDP))
    idp["spec"]["identityProvider"]["clientSecret"] = SECRETS[2]
    answers = [api.post("/api/model-providers", provider), api.post("/api/identity-providers", idp)]
    run = api.post("/runs", {"agent_id": "a", "user_id": "u"}).get_json()
    answers.append(
        api.post(
            f"/runs/{run['id']}/events", {"type": "TOOL_REQUEST", "data": {"access_token": SECRETS[4], "tokens": 12}}
        )
    )
    answers.append(
        api.post(
            "/api/deploy",
            {
                "agent_name": "a",
                "image": "img:1",
                "env": [{"name": "OPENAI_API_KEY", "value": SECRETS[6]}, {"name": "LOG_LEVEL", "value": "debug"}],
            },
        )
    )
    assert all(a.status_code in (200, 201) for a in answers), [a.get_json() for a in answers]
    answers += [
        api.get("/api/model-providers"),
        api.get("/api/identity-providers"),
        api.get("/api/agents"),
        api.get(f"/runs/{run['id']}/events"),
    ]
    state = api.get("/_mock/state").get_json()
    state["tools"]["items"] = []
    state["gateway"]["replies"] = {}
    state["model_providers"]["items"][0]["spec"]["auth"]["apiKey"] = SECRETS[5]
    assert api.put("/_mock/state", state).status_code == 200
    seen = " ".join(a.get_data(as_text=True) for a in answers)
    seen += api.get("/_mock/state").get_data(as_text=True) + api.get("/_mock/journal").get_data(as_text=True)
    leaked = [s for s in SECRETS if s in seen]
    assert not leaked, leaked
    # Masked, not dropped; references, settings and counts are kept as sent.
    stored = api.get("/api/model-providers").get_json()[0]["spec"]
    assert stored["auth"]["apiKey"] == "***" and stored["auth"]["oauth2Config"]["clientSecret"] == "***"
    assert stored["auth"]["oauth2Config"]["tokenUrl"] == "https://auth.example.com/token"
    assert stored["endpoint"] == "https://***@api.openai.com/v1"
    event = api.get(f"/runs/{run['id']}/events").get_json()[-1]
    assert event["data"] == {"access_token": "***", "tokens": 12}
    assert api.get("/api/agents").get_json()[0]["spec"]["env"][:2] == [
        {"name": "OPENAI_API_KEY", "value": "***"},
        {"name": "LOG_LEVEL", "value": "debug"},
    ]


def test_an_analysis_with_detected_secrets_loads_back_unchanged(api):
    # Its `secrets` are findings (type, file, line, severity), never values: the rule keeps
    # them, so an export loads back and exports the same (it used to come back as "***").
    source = "API_KEY = 'sk-live-0123456789abcdefghijklmnop'\n"
    analysis = api.post("/analyze", {"files": {"agent.py": source}}).get_json()
    assert analysis["secrets"] and analysis["secrets"][0]["severity"] in ("high", "medium", "low")
    state = api.get("/_mock/state").get_json()
    assert api.put("/_mock/state", state).status_code == 200
    assert api.get("/_mock/state").get_json() == state
    # Anything else under `secrets` is still masked: texts, maps, and a finding's value.
    state["analyses"]["items"][0]["secrets"][0]["value"] = "finding-value-SECRET-8"
    state["model_providers"]["items"] = []
    assert api.put("/_mock/state", state).status_code == 200
    assert "finding-value-SECRET-8" not in api.get("/_mock/state").get_data(as_text=True)


def test_masking_under_secrets_keeps_findings_only():
    from mockserver.basics.redact import redact_stored

    finding = {"type": "api_key", "file": "a.py", "line": 3, "severity": "high"}
    assert redact_stored({"secrets": [finding]}) == {"secrets": [finding]}
    assert redact_stored({"secrets": ["sk-1", {"value": "sk-2", "apiKey": "sk-3", "file": "a.py"}]}) == {
        "secrets": ["***", {"value": "***", "apiKey": "***", "file": "a.py"}]
    }
    assert redact_stored({"secrets": {"OPENAI": "sk-4"}}) == {"secrets": {"OPENAI": "***"}}
