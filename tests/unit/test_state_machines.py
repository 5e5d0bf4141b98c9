"""The domain rules without HTTP: Platform and its backends are plain Python."""

from __future__ import annotations

import json
import sys

import pytest

from mockserver.basics.clock import Clock, parse_duration
from mockserver.basics.errors import ApiError
from mockserver.services.platform import Platform


@pytest.fixture
def platform() -> Platform:
    return Platform()


def test_domain_modules_do_not_import_flask():
    import importlib

    for name in ("runs", "governance", "builds", "agents", "tools", "providers", "identity", "ingestion"):
        module = importlib.import_module(f"mockserver.services.{name}.models")
        source = open(module.__file__).read()
        assert "flask" not in source.lower(), name
    assert "flask" not in open(sys.modules["mockserver.services.platform"].__file__).read().lower()


def test_run_lifecycle(platform):
    run = platform.runs.create({"agent_id": "a", "user_id": "u"})
    action = platform.runs.create_action(run["id"], "stripe-api", payload_hash="h")
    assert platform.runs.get(run["id"])["status"] == "PAUSED_APPROVAL"
    with pytest.raises(ApiError) as err:
        platform.runs.approve_action(run["id"], action["action_id"], "wrong")
    assert (err.value.status, err.value.message) == (409, "payload_hash mismatch")
    platform.runs.approve_action(run["id"], action["action_id"], "h")
    assert platform.runs.get(run["id"])["status"] == "RUNNING"
    platform.runs.transition(run["id"], "COMPLETED")
    with pytest.raises(ApiError, match="invalid transition from COMPLETED to RUNNING"):
        platform.runs.transition(run["id"], "RUNNING")


def test_stored_records_are_never_mutated(platform):
    run = platform.runs.create({"agent_id": "a", "user_id": "u"})
    platform.runs.transition(run["id"], "FAILED")
    assert run["status"] == "RUNNING"  # the caller's copy is a snapshot


def test_access_request_expiry_uses_the_clock():
    clock = Clock()
    platform = Platform(clock=clock)
    request, created = platform.governance.create({"subject": "s", "tool_id": "t", "duration": "30m"})
    assert created
    platform.governance.approve(request["id"])
    clock.advance(30 * 60 - 1)
    assert platform.governance.get(request["id"])["status"] == "APPROVED"
    clock.advance(1)
    assert platform.governance.get(request["id"])["status"] == "EXPIRED"


def test_access_requests_expire_in_order_after_a_load():
    # The expiry index is derived, not exported: a loaded state rebuilds it.
    clock = Clock()
    platform = Platform(clock=clock)
    ids = []
    for subject, duration in (("late", "2h"), ("early", "30m"), ("middle", "1h")):
        request, _ = platform.governance.create({"subject": subject, "tool_id": "t", "duration": duration})
        platform.governance.approve(request["id"])
        ids.append(request["id"])
    loaded = Platform(clock=clock)
    loaded.load(platform.export())
    clock.advance(3600)
    assert [loaded.governance.get(i)["status"] for i in ids] == ["APPROVED", "EXPIRED", "EXPIRED"]
    clock.advance(3600)
    assert loaded.governance.get(ids[0])["status"] == "EXPIRED"


def test_build_outcome_is_a_function_of_elapsed_clock_time():
    clock = Clock()
    platform = Platform(clock=clock)
    build = platform.builds.start("x", {"a.py": "pass\n"})
    assert platform.builds.get(build["id"])["status"] == "PENDING"
    clock.advance(platform.config.build_pending_seconds)
    assert platform.builds.get(build["id"])["status"] == "BUILDING"
    clock.advance(platform.config.build_running_seconds)
    assert platform.builds.get(build["id"])["status"] == "SUCCEEDED"


def test_export_and_load_round_trip(platform):
    platform.tools.put("t", {"connection": {"baseUrl": "https://x"}}, {"api_key": "secret-value"})
    run = platform.runs.create({"agent_id": "a", "user_id": "u"})
    platform.runs.add_event(run["id"], "USER_MESSAGE")
    state = platform.export()
    assert "secret-value" not in repr(state)
    other = Platform()
    other.load(state)
    assert other.export() == state
    assert json.loads(other.runs.add_event(run["id"], "AGENT_MESSAGE"))["seq"] == 2


def test_load_rejects_foreign_data(platform):
    with pytest.raises(ValueError, match="not a runagents-mock state"):
        platform.load({"tools": []})


def test_capacity_limit():
    from mockserver.config import MockConfig

    platform = Platform(MockConfig(max_objects_per_kind=2))
    platform.runs.create({"agent_id": "a", "user_id": "u"})
    platform.runs.create({"agent_id": "a", "user_id": "u"})
    with pytest.raises(ApiError) as err:
        platform.runs.create({"agent_id": "a", "user_id": "u"})
    assert (err.value.status, err.value.message) == (409, "limit of 2 runs reached")


@pytest.mark.parametrize("text, seconds", [("30m", 1800), ("4h", 14400), ("1d", 86400), ("1h30m", 5400), ("45s", 45)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "4", "h", "4x", "-1h", "1h 30m"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_max_tokens_truncation_counts_each_word_once(platform, monkeypatch):
    from mockserver.services.gateway import models as gateway

    platform.providers.put("p", {"provider": "openai", "endpoint": "https://api.openai.com/v1", "models": ["m"]})
    platform.gateway.replies["*"] = " ".join(["word"] * 2000)
    calls = []
    real = gateway.count_tokens
    monkeypatch.setattr(gateway, "count_tokens", lambda text: calls.append(1) or real(text))
    reply = platform.gateway.complete({"model": "m", "messages": [], "max_tokens": 1999})
    assert reply["choices"][0]["finish_reason"] == "length"
    assert reply["choices"][0]["message"]["content"] == " ".join(["word"] * 1999)  # "word" is 1 token
    # Linear: the client chooses the reply's length and max_tokens (the quadratic cut made ~2M calls).
    assert len(calls) < 2 * 2000 + 10
