"""Workspace auth on /api/v1: the settings and the public door onto the workspace keys
(/auth/api-keys), the same keys the control API mints: create -> use -> rotate -> revoke."""

from __future__ import annotations

import pytest
from api_support import error_of
from test_v1_http import v1


def _key(token):
    return {"X-RunAgents-API-Key": token}


@pytest.mark.parametrize("ws", ["", "/workspaces/sales"])
def test_create_use_rotate_and_revoke_a_key(api, ws):
    created = v1(api, "POST", ws + "/auth/api-keys", {"name": "ci"})
    assert created.status_code == 201
    issued = created.get_json()
    token, record = issued["token"], issued["key"]
    assert issued["header"] == "X-RunAgents-API-Key" and token.startswith("ra_ws_")
    assert (record["name"], record["prefix"], record["last4"]) == ("ci", token[:10], token[-4:])
    assert "expiresAt" not in record
    # Use it: the workspace's settings count it.
    settings = v1(api, "GET", ws + "/settings/auth", headers=_key(token)).get_json()
    assert settings["apiKeyCount"] == 1 and settings["programmaticHeader"] == "X-RunAgents-API-Key"
    assert v1(api, "GET", ws + "/auth/api-keys").get_json() == [record]
    rotated = v1(api, "POST", f"{ws}/auth/api-keys/{record['id']}/rotate")
    assert rotated.status_code == 200
    new = rotated.get_json()
    assert new["key"]["id"] != record["id"] and new["key"]["name"] == "ci" and new["token"] != token
    refused = v1(api, "GET", ws + "/settings/auth", headers=_key(token))
    assert refused.status_code == 401 and error_of(refused) == "API key is revoked"
    assert v1(api, "GET", ws + "/settings/auth", headers=_key(new["token"])).status_code == 200
    assert v1(api, "DELETE", f"{ws}/auth/api-keys/{new['key']['id']}").get_json() == {"status": "deleted"}
    assert v1(api, "GET", ws + "/settings/auth", headers=_key(new["token"])).status_code == 401
    assert v1(api, "GET", ws + "/auth/api-keys").get_json() == []
    for leak in (api.get("/_mock/journal").get_data(as_text=True), api.get("/_mock/state").get_data(as_text=True)):
        assert token not in leak and new["token"] not in leak


def test_one_set_of_keys_behind_two_doors(api):
    minted = api.post("/_mock/workspaces/sales/keys").get_json()
    listed = v1(api, "GET", "/workspaces/sales/auth/api-keys").get_json()
    assert [(k["id"], k["last4"]) for k in listed] == [(minted["id"], minted["key"][-4:])]
    public = v1(api, "POST", "/workspaces/sales/auth/api-keys", {"name": "deploys"}).get_json()
    control = api.get("/_mock/workspaces/sales/keys").get_json()["keys"]
    assert [k["id"] for k in control] == [minted["id"], public["key"]["id"]]
    # A key minted on the public door is revoked on the control API, and the other way round.
    api.delete(f"/_mock/workspaces/sales/keys/{public['key']['id']}")
    assert v1(api, "GET", "/workspaces/sales/agents", headers=_key(public["token"])).status_code == 401
    v1(api, "DELETE", f"/workspaces/sales/auth/api-keys/{minted['id']}")
    assert v1(api, "GET", "/workspaces/sales/agents", headers=_key(minted["key"])).status_code == 401
    # Each workspace sees its own keys only.
    assert v1(api, "GET", "/auth/api-keys").get_json() == []
    other = v1(api, "DELETE", f"/auth/api-keys/{minted['id']}")
    assert other.status_code == 404 and error_of(other) == f"key {minted['id']} not found in workspace default"


def test_a_key_expires_on_the_servers_clock_and_rotation_keeps_the_expiry(api):
    issued = v1(api, "POST", "/auth/api-keys", {"name": "short", "expiresInDays": 2}).get_json()
    assert issued["key"]["expiresAt"] > issued["key"]["createdAt"]
    kept = v1(api, "POST", f"/auth/api-keys/{issued['key']['id']}/rotate", {}).get_json()
    assert kept["key"]["expiresAt"] == issued["key"]["expiresAt"]
    longer = v1(api, "POST", f"/auth/api-keys/{kept['key']['id']}/rotate", {"expiresInDays": 30}).get_json()
    assert longer["key"]["expiresAt"] > kept["key"]["expiresAt"]
    assert v1(api, "GET", "/agents", headers=_key(longer["token"])).status_code == 200
    api.advance(31 * 86400)
    expired = v1(api, "GET", "/agents", headers=_key(longer["token"]))
    assert expired.status_code == 401 and error_of(expired) == "API key is revoked"
    assert v1(api, "GET", "/auth/api-keys").get_json() == []


def test_key_and_settings_errors(api):
    for body, message in (
        ({}, "name is required"),
        ({"name": ""}, "name must not be empty"),
        ({"name": "x", "expiresInDays": 0}, "expiresInDays must be >= 1"),
    ):
        refused = v1(api, "POST", "/auth/api-keys", body)
        assert refused.status_code == 400 and error_of(refused) == message
    missing = v1(api, "POST", "/auth/api-keys/key-99/rotate")
    assert missing.status_code == 404 and error_of(missing) == "key key-99 not found in workspace default"
    assert v1(api, "GET", "/settings/auth").get_json()["sessionIdleTimeoutMinutes"] == 60
    for value, message in (
        (4, "sessionIdleTimeoutMinutes must be >= 5"),
        (1441, "sessionIdleTimeoutMinutes must be <= 1440"),
        ("30", "sessionIdleTimeoutMinutes must be of type integer"),
    ):
        refused = v1(api, "PUT", "/settings/auth", {"sessionIdleTimeoutMinutes": value})
        assert refused.status_code == 400 and error_of(refused) == message
    assert (
        v1(api, "PUT", "/settings/auth", {"sessionIdleTimeoutMinutes": 30}).get_json()["sessionIdleTimeoutMinutes"]
        == 30
    )
    assert v1(api, "GET", "/workspaces/other/settings/auth").get_json()["sessionIdleTimeoutMinutes"] == 60
    assert api.get("/_mock/state").get_json()["auth_settings"] == {"session_idle_timeout_minutes": 30}
