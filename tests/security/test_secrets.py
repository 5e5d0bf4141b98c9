"""Secret values go in and never come out: not in answers, the journal, the server's logs
or the state file. Checked end to end against `runagents-mock serve` with fresh random
secrets, so a match anywhere can only be a leak."""

from __future__ import annotations

import json
import secrets
import string

import pytest
import requests
from reliability_support import HTTP_TIMEOUT, Client, ServedMock, live_mock

from mockserver.surface.persistence import store_files
from mockserver.testkit.state_file import read_store


def _random(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


@pytest.fixture
def keys() -> dict[str, str]:
    return {
        "api key": "rk-" + _random(32),
        "admin key": "adm-" + _random(32),
        "wrong key": "guess-" + _random(24),
        "tool api_key": "sk_test_" + _random(24),
        "tool client_secret": "cs-" + _random(32),
        "stripe secret in source": "sk_live_" + _random(24),
        "aws key in source": "AKIA" + _random(16, string.ascii_uppercase + string.digits),
        "github token in build": "ghp_" + _random(36),
    }


def _exercise(base: str, keys: dict[str, str]) -> list[requests.Response]:
    """Every way the secrets reach the server; returns all the answers."""
    user = {"Authorization": f"Bearer {keys['api key']}"}
    answers = []

    def send(method: str, path: str, body=None, headers=None):
        answers.append(
            requests.request(method, base + path, json=body, headers={**user, **(headers or {})}, timeout=HTTP_TIMEOUT)
        )
        return answers[-1]

    send(
        "POST",
        "/api/tools",
        {
            "name": "stripe-api",
            "spec": {
                "connection": {
                    "topology": "External",
                    "baseUrl": "https://api.stripe.com",
                    "port": 443,
                    "scheme": "HTTPS",
                    "authentication": {"type": "APIKey"},
                }
            },
            "credentials": {"api_key": keys["tool api_key"]},
        },
    )
    send(
        "POST",
        "/api/tools",
        {
            "name": "oauth-tool",
            "base_url": "https://oauth.example.com",
            "auth_type": "OAuth2",
            "credentials": {"client_id": "client-1", "client_secret": keys["tool client_secret"]},
        },
    )
    send("GET", "/api/tools")
    send("GET", "/api/tools/stripe-api")
    send("POST", "/api/tools/stripe-api/test")
    source = (
        f'import stripe\nstripe.api_key = "{keys["stripe secret in source"]}"\nAWS = "{keys["aws key in source"]}"\n'
    )
    analysis = send("POST", "/analyze", {"files": {"agent.py": source}})
    assert {s["type"] for s in analysis.json()["secrets"]} >= {"api_key", "aws_access_key"}, analysis.text
    send("GET", f"/analysis/{analysis.json()['id']}")
    send("POST", "/ingestion/analyze", {"files": {"agent.py": source}})
    send("POST", "/requirements", {"files": {"agent.py": source}})
    send("POST", "/api/deploy", {"agent_name": "payment-agent", "source_files": {"agent.py": source}})
    send("POST", "/api/builds", {"name": "b", "files": {"main.py": f'TOKEN = "{keys["github token in build"]}"\n'}})
    # Refused calls are journaled too.
    send("GET", "/api/tools", headers={"Authorization": f"Bearer {keys['wrong key']}"})
    send("POST", "/api/tools", {"name": "bad", "credentials": {"api_key": keys["tool api_key"]}})
    # The control API with the admin key.
    admin = {"Authorization": f"Bearer {keys['admin key']}"}
    for path in ("/_mock/journal", "/_mock/state"):
        answers.append(requests.get(base + path, headers=admin, timeout=HTTP_TIMEOUT))
    return answers


def _leaks(text: str, keys: dict[str, str]) -> list[str]:
    return [label for label, value in keys.items() if value in text]


def _answer_text(response: requests.Response) -> str:
    head = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return f"{response.status_code}\n{head}\n{response.text}"


def test_secrets_never_leave_the_served_mock(tmp_path, keys):
    state_file = tmp_path / "state.json"
    served = ServedMock("--api-key", keys["api key"], "--admin-key", keys["admin key"], "--state-file", state_file)
    with served:
        answers = _exercise(served.url, keys)
        journal = requests.get(
            served.url + "/_mock/journal",
            timeout=HTTP_TIMEOUT,
            headers={"Authorization": f"Bearer {keys['admin key']}"},
        )
        assert journal.status_code == 200 and len(journal.json()) >= 10
        assert served.terminate() == 0

    for response in answers:
        assert not _leaks(_answer_text(response), keys), (response.request.method, response.url)
    assert not _leaks(journal.text, keys), "secret in the journal"
    assert not _leaks(served.output, keys), f"secret in the server's output:\n{served.output}"
    assert read_store(state_file)["tools"]["items"], "the state file should hold the tools"
    # Every file of the store, byte for byte (the database and SQLite's write-ahead log).
    saved = b"".join(path.read_bytes() for path in store_files(state_file)).decode("latin-1")
    assert not _leaks(saved, keys), "secret in the state file"


def test_stored_tool_keeps_a_reference_to_its_credentials_not_their_value(keys):
    with live_mock() as live:
        c = Client(live.url)
        created = c.ok(
            "POST",
            "/api/tools",
            {
                "name": "stripe-api",
                "spec": {"connection": {"baseUrl": "https://api.stripe.com", "authentication": {"type": "APIKey"}}},
                "credentials": {"api_key": keys["tool api_key"]},
            },
            201,
        )
        auth = created["spec"]["connection"]["authentication"]
        assert auth["apiKeyConfig"]["secretRef"] == {"name": "stripe-api-credentials"}
        assert "credentials" not in created
        assert not _leaks(json.dumps(c.state()), keys)


@pytest.mark.parametrize(
    "where",
    [
        "X-RunAgents-API-Key header",
        "X-API-Key header",
        "Cookie header",
        "api_key query parameter",
        "token query parameter",
    ],
)
def test_journal_redacts_keys_sent_outside_authorization(keys, where):
    # Clients put keys in more places than Authorization: the vendor SDK's workspace header,
    # the X-API-Key convention, cookies, and query strings (?api_key=, ?token=).
    key = keys["api key"]
    sent = {
        "X-RunAgents-API-Key header": {"headers": {"X-RunAgents-API-Key": key}},
        "X-API-Key header": {"headers": {"X-API-Key": key}},
        "Cookie header": {"headers": {"Cookie": f"session={key}"}},
        "api_key query parameter": {"params": {"api_key": key}},
        "token query parameter": {"params": {"token": key}},
    }[where]
    with live_mock() as live:
        c = Client(live.url)
        c.get("/api/tools", **sent)
        journal = c.journal()
        assert journal and key not in json.dumps(journal), journal[-1]


def test_journal_redacts_passwords_embedded_in_urls(keys):
    # https://user:password@host: the analyzer already drops such userinfo from what it
    # reports; a probe body carrying one must not keep it in the journal either.
    with live_mock() as live:
        c = Client(live.url)
        password = keys["tool client_secret"]
        assert c.post("/api/tools/probe", {"url": f"https://user:{password}@api.example.com/"}).status_code == 200
        journal = c.journal()
        assert journal and password not in json.dumps(journal), journal[-1]["body"]
