"""Approval scopes as domain rules, without HTTP: what each approval lets through, the default
scope, and the outcomes surviving (or, malformed, not surviving) a state load."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import mockserver
from mockserver.basics.errors import ApiError
from mockserver.services.governance.scopes import SCOPES, WINDOW, ToolCall, duration_refusal, resolve_scope
from mockserver.services.platform import Platform


@pytest.fixture
def platform() -> Platform:
    return Platform()


def blocked(platform: Platform, user: str, body_hash: str = "h1") -> dict:
    run = platform.runs.create({"agent_id": "a", "user_id": user})
    request, created = platform.governance.create(
        {
            "subject": "a",
            "agent_id": "a",
            "tool_id": "t",
            "capability": "charge",
            "run_id": run["id"],
            "payload_hash": body_hash,
        }
    )
    assert created and request["action_id"]
    return request


def call(
    request: dict, user: str, capability: str = "charge", body_hash: str = "h1", run_id: str | None = "same"
) -> ToolCall:
    return ToolCall("a", "t", request["run_id"] if run_id == "same" else run_id, user, capability, body_hash)


@pytest.mark.parametrize(
    ("scope", "duration", "expected"),
    [
        (None, None, "once"),
        ("", None, "once"),
        (None, "1h", "agent_user_ttl"),
        ("run", None, "run"),
        ("agent_user_ttl", "2h", "agent_user_ttl"),
    ],
)
def test_the_scope_asked_for(scope, duration, expected):
    assert resolve_scope(scope, duration) == expected


@pytest.mark.parametrize("scope", ["once", "run"])
def test_a_duration_belongs_to_the_window_only(scope):
    with pytest.raises(ApiError) as err:
        resolve_scope(scope, "1h")
    assert (err.value.status, err.value.message) == (400, f"duration applies to scope agent_user_ttl only, not {scope}")


@pytest.mark.parametrize("document", ["openapi.yaml", "openapi-v1.yaml"])
def test_the_documents_refuse_a_duration_with_the_domains_words(document):
    """The approve body's schema says the same rule (for clients and the request check) with the
    same message: a ``once`` or ``run`` scope takes no duration; the scopes are the domain's."""
    path = Path(mockserver.__file__).parent / document
    schema = yaml.safe_load(path.read_text(encoding="utf-8"))["components"]["schemas"]["AccessRequestApproveRequest"]
    refused = {}
    for rule in schema["allOf"]:
        duration = rule["then"]["properties"]["duration"]
        assert duration["maxLength"] == 0
        refused[rule["if"]["properties"]["scope"]["const"]] = duration["x-error-messages"]["maxLength"]
    assert refused == {scope: duration_refusal(scope) for scope in SCOPES if scope != WINDOW}
    assert schema["properties"]["scope"]["enum"] == ["", *SCOPES]


def test_once_covers_its_own_action_one_time(platform):
    request = blocked(platform, "alice")
    platform.governance.approve(request["id"], scope="once")
    governance = platform.governance
    assert governance.covering(call(request, "alice", body_hash="other")) is None
    assert governance.covering(call(request, "alice", run_id="another-run")) is None
    outcome = governance.covering(call(request, "alice"))
    assert outcome is not None and governance.covering(call(request, "alice")) is not None  # not spent by asking
    governance.spend(outcome)
    assert governance.covering(call(request, "alice")) is None  # spent by the call


def test_run_covers_the_same_operation_in_that_run_while_it_is_open(platform):
    request = blocked(platform, "alice")
    platform.governance.approve(request["id"], scope="run")
    governance = platform.governance
    assert governance.covering(call(request, "alice", body_hash="other")) is not None
    assert governance.covering(call(request, "alice")) is not None  # not spent
    assert governance.covering(call(request, "alice", capability="refund")) is None
    assert governance.covering(call(request, "alice", run_id="another-run")) is None
    platform.runs.transition(request["run_id"], "COMPLETED")
    assert governance.covering(call(request, "alice")) is None


def test_run_needs_a_run(platform):
    request, _ = platform.governance.create({"subject": "a", "agent_id": "a", "tool_id": "t"})
    with pytest.raises(ApiError) as err:
        platform.governance.approve(request["id"], scope="run")
    assert err.value.status == 409 and platform.governance.get(request["id"])["status"] == "PENDING"


def test_the_window_covers_the_user_until_it_ends_and_approves_that_users_waiting_runs(platform):
    first, second, bob = blocked(platform, "alice"), blocked(platform, "alice"), blocked(platform, "bob")
    approved = platform.governance.approve(first["id"], scope="agent_user_ttl", duration="1h")
    assert approved["duration"] == "1h" and approved["expires_at"]
    assert platform.governance.get(second["id"])["status"] == "APPROVED"
    assert platform.runs.get(second["run_id"])["status"] == "RUNNING"
    assert platform.governance.get(bob["id"])["status"] == "PENDING"
    assert platform.runs.get(bob["run_id"])["status"] == "PAUSED_APPROVAL"
    anywhere = call(first, "alice", capability="refund", body_hash="x", run_id=None)
    assert platform.governance.covering(anywhere) is not None
    assert platform.governance.covering(call(first, "bob", run_id=None)) is None
    platform.clock.advance(3600)
    assert platform.governance.covering(anywhere) is None
    assert platform.governance.get(first["id"])["status"] == "EXPIRED"


def test_each_run_gets_its_own_request_and_a_retry_in_the_paused_run_reuses_it(platform):
    runless, _ = platform.governance.create({"subject": "a", "agent_id": "a", "tool_id": "t"})
    first, second = blocked(platform, "alice"), blocked(platform, "bob")  # not the run-less one
    assert runless["id"] not in (first["id"], second["id"]) and "action_id" not in runless
    assert first["id"] != second["id"] and first["action_id"] != second["action_id"]
    again, created = platform.governance.create(
        {"subject": "a", "agent_id": "a", "tool_id": "t", "run_id": first["run_id"]}
    )
    assert (again["id"], created) == (first["id"], False)


def test_outcomes_survive_a_state_load_and_malformed_ones_grant_nothing(platform):
    request = blocked(platform, "alice")
    platform.governance.approve(request["id"], scope="agent_user_ttl")
    state = platform.export()
    restored = Platform()
    restored.load(state)
    assert restored.governance.covering(call(request, "alice", run_id=None)) is not None
    broken = dict(state)
    broken["access_requests"] = {
        **state["access_requests"],
        "outcomes": [{**state["access_requests"]["outcomes"][0], "ends": "soon"}, 7],
    }
    restored.load(broken)
    assert restored.governance.covering(call(request, "alice", run_id=None)) is None
