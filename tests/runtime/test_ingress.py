"""Ingress: tokens minted by POST /_mock/jwt, the JWKS, and identity providers validating them."""

from __future__ import annotations

import jwt
import pytest

INVOKE = "/_ingress/agent-system/bot/invoke"
IDP = {
    "name": "corp",
    "spec": {
        "host": "bot.example.test",
        "identityProvider": {
            "issuer": "https://login.corp.test",
            "jwksUri": "https://x/jwks",
            "audiences": ["bot-api"],
        },
        "userIDClaim": "email",
        "allowedDomains": ["*.corp.test"],
    },
}
GOOD = {"iss": "https://login.corp.test", "aud": "bot-api", "email": "erin@corp.test", "sub": "u-1"}


@pytest.fixture
def bot(api):
    assert api.post("/api/identity-providers", IDP).status_code == 201
    api.post("/api/deploy", {"agent_name": "bot", "image": "i", "identity_provider": "corp"})
    return api


def mint(api, claims, **extra):
    answer = api.post("/_mock/jwt", {"claims": claims, **extra})
    assert answer.status_code == 200
    return answer.json["token"]


def call(api, token=None, **headers):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return api.request("POST", INVOKE, auth=False, json_body={"message": "hi"}, headers=headers)


def test_a_valid_token_becomes_the_end_user_and_is_not_forwarded(bot):
    answer = call(bot, mint(bot, GOOD), Origin="https://app.corp.test")
    assert answer.status_code == 200 and answer.json["response"] == "echo: hi"
    [invocation] = bot.mock.platform.agents.invocations
    assert invocation["end_user_id"] == "erin@corp.test"
    assert "Bearer" not in str(bot.get("/_mock/journal").json)


def test_the_jwks_verifies_minted_tokens(bot):
    token = mint(bot, GOOD)
    [key] = bot.request("GET", "/_ingress/jwks.json", auth=False).json["keys"]
    public = jwt.algorithms.RSAAlgorithm.from_jwk(key)
    assert jwt.decode(token, public, algorithms=["RS256"], audience="bot-api")["email"] == "erin@corp.test"
    assert key["kid"] == jwt.get_unverified_header(token)["kid"]


@pytest.mark.parametrize(
    "claims,extra,message",
    [
        ({**GOOD, "iss": "https://evil.test"}, {}, "token issuer is not accepted"),
        ({**GOOD, "aud": "other"}, {}, "token audience is not accepted"),
        (GOOD, {"expires_in": -1}, "token has expired"),
        ({k: v for k, v in GOOD.items() if k != "email"}, {}, "token has no email claim"),
    ],
)
def test_bad_tokens_are_401(bot, claims, extra, message):
    answer = call(bot, mint(bot, claims, **extra))
    assert (answer.status_code, answer.json) == (401, {"error": message})
    assert bot.mock.platform.agents.invocations == []


def test_tampered_foreign_or_missing_tokens_are_401(bot):
    token = mint(bot, GOOD)
    head, payload, signature = token.split(".")
    forged_payload = jwt.utils.base64url_encode(b'{"email":"admin@corp.test"}').decode()
    assert call(bot, f"{head}.{forged_payload}.{signature}").json == {"error": "token signature or format is invalid"}
    foreign = jwt.encode(GOOD, "a-shared-secret-of-enough-length-32b", algorithm="HS256")
    assert call(bot, foreign).status_code == 401
    assert call(bot).json == {"error": "missing bearer token: send Authorization: Bearer <jwt>"}


def test_token_expiry_follows_the_mock_clock(bot):
    token = mint(bot, GOOD, expires_in=60)
    assert call(bot, token).status_code == 200
    bot.post("/_mock/clock/advance", {"seconds": 61})
    assert call(bot, token).json == {"error": "token has expired"}


def test_origin_outside_allowed_domains_is_403(bot):
    answer = call(bot, mint(bot, GOOD), Origin="https://evil.test")
    assert (answer.status_code, answer.json) == (403, {"error": "origin evil.test is not an allowed domain"})


@pytest.mark.parametrize(
    "body,message",
    [
        ({"claims": []}, "claims must be a JSON object"),
        ({"expires_in": "1h"}, "expires_in must be an integer number of seconds (negative: already expired)"),
    ],
)
def test_jwt_minting_bad_input(api, body, message):
    assert api.post("/_mock/jwt", body).json == {"error": message}
