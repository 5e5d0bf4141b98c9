"""Revoked workspace keys are remembered up to the key limit, so mint/revoke loops stay bounded."""

from mockserver.services.workspace_keys import WorkspaceKeys


def test_revocations_are_bounded_by_the_key_limit_oldest_forgotten_first():
    keys = WorkspaceKeys(lambda: "2026-01-01T00:00:00Z", max_keys=3)
    minted = [keys.mint("team") for _ in range(3)]  # the live limit
    for record in minted:
        keys.revoke("team", record["id"])
    minted += [keys.mint("team") for _ in range(2)]
    keys.revoke_all("team")  # the last two
    assert [keys.is_revoked(r["key"]) for r in minted] == [False, False, True, True, True]
    assert len(keys._revoked) == 3
