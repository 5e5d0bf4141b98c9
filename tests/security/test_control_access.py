"""Who opens /_mock/ (issue 23, items 4 and 8): only the admin key, else the --api-key keys; a
workspace key at most its own workspace's state calls; a revoked key stays revoked in open mode."""

from __future__ import annotations

import pytest
from api_support import error_of


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


REVOPS = "ra_ws_revops-key"
SERVER_WIDE = [
    ("GET", "/_mock/state"),
    ("POST", "/_mock/reset"),
    ("GET", "/_mock/journal"),
    ("GET", "/_mock/workspaces"),
    ("GET", "/_mock/faults"),
    ("POST", "/_mock/workspaces/acme/keys"),
    ("GET", "/_mock/workspaces/acme/state"),
    ("POST", "/_mock/workspaces/acme/reset"),
    ("GET", "/_mock/workspaces/revops/keys"),
    ("POST", "/_mock/workspaces/revops/keys"),
]


@pytest.mark.parametrize(
    "config", [{"workspace_keys": {"revops": REVOPS}}, {"workspace_keys": {"revops": REVOPS}, "api_keys": ["owner"]}]
)
def test_a_workspace_key_never_opens_server_wide_calls_or_other_workspaces(make_api, config):
    api = make_api(**config)
    for method, path in SERVER_WIDE:
        refused = api.request(method, path, headers=bearer(REVOPS), auth=False)
        assert refused.status_code == 401 and error_of(refused) == "missing or invalid admin key", (method, path)
    # Its own workspace's state calls are its own.
    assert api.get("/_mock/workspaces/revops/state", headers=bearer(REVOPS), auth=False).status_code == 200
    assert (
        api.post(
            "/_mock/workspaces/revops/clock/advance", {"seconds": 5}, headers=bearer(REVOPS), auth=False
        ).status_code
        == 200
    )


def test_a_minted_key_is_held_to_its_workspace_too(make_api):
    api = make_api(api_keys=["owner"])
    minted = api.post("/_mock/workspaces/revops/keys", headers=bearer("owner"), auth=False).get_json()["key"]
    assert api.get("/_mock/state", headers=bearer(minted), auth=False).status_code == 401
    assert api.post("/_mock/workspaces/acme/keys", headers=bearer(minted), auth=False).status_code == 401
    assert api.get("/_mock/workspaces/revops/journal", headers=bearer(minted), auth=False).status_code == 200


def test_with_an_admin_key_nothing_else_opens_the_control_api(make_api):
    api = make_api(api_keys=["owner"], workspace_keys={"revops": REVOPS}, admin_key="admin")
    for key in ("owner", REVOPS):
        assert api.get("/_mock/workspaces/revops/state", headers=bearer(key), auth=False).status_code == 401
    assert api.get("/_mock/workspaces/revops/state", headers=bearer("admin"), auth=False).status_code == 200


def test_in_open_mode_a_revoked_key_stays_refused_after_many_more_revocations(make_api):
    api = make_api(max_objects_per_kind=3)  # the key limit, which revocations once wrapped around
    first = api.post("/_mock/workspaces/default/keys").get_json()
    api.delete(f"/_mock/workspaces/default/keys/{first['id']}")
    for _ in range(10):
        record = api.post("/_mock/workspaces/default/keys").get_json()
        api.delete(f"/_mock/workspaces/default/keys/{record['id']}")
    refused = api.get("/api/v1/tools", headers={"X-RunAgents-API-Key": first["key"]}, auth=False)
    assert refused.status_code == 401 and error_of(refused) == "API key is revoked"
    # Any other key still works in open mode.
    assert api.get("/api/v1/tools", headers={"X-RunAgents-API-Key": "ra_ws_any"}, auth=False).status_code == 200
