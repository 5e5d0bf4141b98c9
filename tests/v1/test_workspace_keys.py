"""Workspace API keys managed on the control API (/_mock/workspaces/{ws}/keys) and the pytest
plugin: minted keys are bound to their workspace, shown once, never stored or journaled, and a
revoked or rotated-out key gets a 401."""

from __future__ import annotations

import json

import requests
from api_support import error_of
from test_v1_http import v1


def _ws_key(key):
    return {"X-RunAgents-API-Key": key}


def test_mint_list_use_and_revoke_a_key(api):
    minted = api.post("/_mock/workspaces/sales/keys")
    assert minted.status_code == 201
    record = minted.get_json()
    key = record["key"]
    assert key.startswith("ra_ws_") and record["workspace"] == "sales"
    assert record["prefix"] == key[:10] + "..."
    assert v1(api, "GET", "/workspaces/sales/tools", headers=_ws_key(key)).status_code == 200
    response = v1(api, "GET", "/workspaces/other/tools", headers=_ws_key(key))
    assert response.status_code == 401
    assert error_of(response) == 'API key is bound to workspace "sales"; it is not valid for workspace "other"'
    listed = api.get("/_mock/workspaces/sales/keys").get_json()
    assert listed == {"keys": [{k: v for k, v in record.items() if k != "key"}]}
    assert api.get("/_mock/workspaces/other/keys").get_json() == {"keys": []}

    assert api.delete(f"/_mock/workspaces/sales/keys/{record['id']}").get_json() == {"status": "revoked"}
    response = v1(api, "GET", "/workspaces/sales/tools", headers=_ws_key(key))
    assert response.status_code == 401 and error_of(response) == "API key is revoked"
    assert api.get("/_mock/workspaces/sales/keys").get_json() == {"keys": []}
    response = api.delete(f"/_mock/workspaces/sales/keys/{record['id']}")
    assert response.status_code == 404 and error_of(response) == f"key {record['id']} not found in workspace sales"


def test_rotation_replaces_the_key_and_keys_stay_secret(api):
    old = api.post("/_mock/workspaces/default/keys").get_json()
    v1(api, "POST", "/tools", {"name": "t", "base_url": "https://x.example"}, headers=_ws_key(old["key"]))
    new = api.post(f"/_mock/workspaces/default/keys/{old['id']}/rotate")
    assert new.status_code == 201
    new = new.get_json()
    assert new["id"] != old["id"] and new["key"] != old["key"]
    assert v1(api, "GET", "/tools", headers=_ws_key(old["key"])).status_code == 401
    assert v1(api, "GET", "/tools", headers=_ws_key(new["key"])).status_code == 200
    # A default-workspace key is also a bearer key of the February paths.
    assert api.get("/api/tools", headers={"Authorization": f"Bearer {new['key']}"}, auth=False).status_code == 200
    for leak in (
        api.get("/_mock/journal").get_data(as_text=True),
        api.get("/_mock/state").get_data(as_text=True),
        json.dumps(api.get("/_mock/workspaces/default/keys").get_json()),
    ):
        assert old["key"] not in leak and new["key"] not in leak


def test_configured_keys_still_work_and_minted_keys_join_them(make_api):
    api = make_api(api_keys=["admin-key"], workspace_keys={"revops": "ra_ws_revops"})
    admin = {"Authorization": "Bearer admin-key"}
    minted = api.post("/_mock/workspaces/revops/keys", headers=admin, auth=False).get_json()
    for key in ("ra_ws_revops", minted["key"]):
        assert v1(api, "GET", "/workspaces/revops/tools", headers=_ws_key(key)).status_code == 200
    # A workspace key is an API key, not an admin key of the control API.
    response = api.get(
        "/_mock/workspaces/revops/keys", headers={"Authorization": f"Bearer {minted['key']}"}, auth=False
    )
    assert response.status_code == 401
    # Resetting the workspace revokes its minted keys; the configured one stays.
    api.post("/_mock/workspaces/revops/reset", headers=admin, auth=False)
    assert v1(api, "GET", "/workspaces/revops/tools", headers=_ws_key(minted["key"])).status_code == 401
    assert v1(api, "GET", "/workspaces/revops/tools", headers=_ws_key("ra_ws_revops")).status_code == 200


def test_bad_workspace_names_are_refused(api):
    response = api.post("/_mock/workspaces/Not_OK/keys")
    assert response.status_code == 400 and error_of(response).startswith("invalid workspace name")
    assert api.get("/_mock/workspaces").get_json() == {"workspaces": ["default"]}


def test_plugin_mints_and_revokes_keys(runagents_mock):
    workspace = runagents_mock.new_workspace()
    minted = workspace.mint_key()
    url = workspace.url + "/tools"
    assert requests.get(url, headers=_ws_key(minted["key"]), timeout=5).status_code == 200
    assert [k["id"] for k in workspace.keys()] == [minted["id"]] and "key" not in workspace.keys()[0]
    rotated = workspace.rotate_key(minted["id"])
    assert requests.get(url, headers=_ws_key(minted["key"]), timeout=5).status_code == 401
    workspace.revoke_key(rotated["id"])
    assert requests.get(url, headers=_ws_key(rotated["key"]), timeout=5).status_code == 401
    assert runagents_mock.workspace("default").keys() == []
