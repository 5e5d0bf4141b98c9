"""The kit runs every check schemathesis has, like `st run --checks all` (issue 12)."""

from __future__ import annotations

import pytest

from contracts.checks import builtin_check_names, checks_for_run, no_server_error
from contracts.session import ContractSession


def _names(excluded: tuple[str, ...] = ()) -> list[str]:
    session = ContractSession(read_only=False, allow_control_api=False)
    return [check.__name__ for check in checks_for_run(session, lambda *a: [], {}, excluded)]


def test_every_schemathesis_check_runs_with_ours_in_place_of_not_a_server_error():
    names = _names()
    assert set(builtin_check_names()) - {"not_a_server_error"} <= set(names)
    for check in (
        "negative_data_rejection",
        "positive_data_acceptance",
        "allow_header_conformance",
        "unsupported_method",
        "missing_required_header",
        "ignored_auth",
        "use_after_free",
        "ensure_resource_availability",
        "response_schema_conformance",
    ):
        assert check in names
    assert "not_a_server_error" not in names
    assert names[0] == no_server_error.__name__ and names[-1] == "auth_enforced"


def test_exclude_check_leaves_one_out():
    assert "ignored_auth" not in _names(("ignored_auth",))
    assert "no_server_error" not in _names(("not_a_server_error",))


def test_an_unknown_check_name_is_an_error_not_a_silent_no_op():
    with pytest.raises(ValueError, match="no check named 'ignord_auth'"):
        _names(("ignord_auth",))
