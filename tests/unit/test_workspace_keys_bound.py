"""Revoked workspace keys stay revoked however many revocations follow, in memory bounded by
the live keys (a minted key carries a tag, so the mock needs no list of revoked keys)."""

from mockserver.services.workspace_keys import WorkspaceKeys


def test_a_revoked_key_stays_revoked_after_many_more_revocations():
    keys = WorkspaceKeys(lambda: "2026-01-01T00:00:00Z", max_keys=3)
    first = keys.mint("team")
    keys.revoke("team", first["id"])
    for _ in range(50):  # far beyond the key limit: nothing about revoked keys is kept
        record = keys.mint("team")
        keys.revoke("team", record["id"])
    assert keys.is_revoked(first["key"]) and keys.workspace_of(first["key"]) is None
    assert len(keys._live) == 0
    live = keys.mint("team")
    assert not keys.is_revoked(live["key"]) and keys.workspace_of(live["key"]) == "team"
    # Keys this server never minted are unknown, not revoked; a tampered tag is not ours.
    assert not keys.is_revoked("ra_ws_" + "a" * 48) and not keys.is_revoked(live["key"][:-1] + "A")


def test_reset_forgets_revocations_as_a_fresh_server_would():
    keys = WorkspaceKeys(lambda: "2026-01-01T00:00:00Z", max_keys=3)
    record = keys.mint("team")
    keys.revoke_all("team")
    assert keys.is_revoked(record["key"])
    keys.forget()
    assert not keys.is_revoked(record["key"]) and keys.workspace_of(record["key"]) is None
