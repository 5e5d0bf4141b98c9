"""The runtime path answers like every other surface: a bug is a logged, journaled JSON 500;
the agent-scoped LLM gateway needs no key and is metered as its agent, never as a configured key."""

from __future__ import annotations

import logging

from api_support import error_of

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def _boom(*args, **kwargs):
    raise RuntimeError("a bug in the mock")


def _unchecked(api, method, path):
    """A bug's 500 is in no document: sent without the checked client's spec check."""
    return api.app.test_client().open(path, method=method, headers={"Authorization": "Bearer k"})


def test_an_unexpected_error_on_the_runtime_path_is_a_logged_journaled_json_500(api, monkeypatch, caplog):
    monkeypatch.setattr(api.mock.tokens, "jwks", _boom)
    with caplog.at_level(logging.ERROR, logger="runagents_mock"):
        answer = _unchecked(api, "GET", "/_ingress/jwks.json")
    assert answer.status_code == 500 and answer.content_type == "application/json"
    assert error_of(answer) == "internal error in runagents-mock"
    assert any("/_ingress/jwks.json" in r.getMessage() and r.exc_info for r in caplog.records)
    journaled = api.get("/_mock/journal").get_json()
    assert [(e["path"], e["status"]) for e in journaled] == [("/_ingress/jwks.json", 500)]


def test_an_unexpected_error_on_the_control_api_is_a_logged_json_500(api, monkeypatch, caplog):
    monkeypatch.setattr(api.mock.control, "clock", _boom)
    with caplog.at_level(logging.ERROR, logger="runagents_mock"):
        answer = _unchecked(api, "GET", "/_mock/clock")
    assert answer.status_code == 500 and error_of(answer) == "internal error in runagents-mock"
    assert any("/_mock/clock" in r.getMessage() for r in caplog.records)


def test_the_llm_gateway_needs_no_key_when_only_workspace_keys_are_configured(make_api):
    api = make_api(workspace_keys={"default": "ra_ws_default-key"})
    api.post("/api/starter-kit", headers={"Authorization": "Bearer ra_ws_default-key"}, auth=False)
    answer = api.post("/_llm/agent-system/bot/v1/chat/completions", CHAT, auth=False)
    assert answer.status_code == 200 and answer.get_json()["object"] == "chat.completion"
    # A key the caller sends is not what lets it in, nor what it is metered as.
    answer = api.post(
        "/_llm/agent-system/bot/v1/chat/completions", CHAT, headers={"Authorization": "Bearer invalid"}, auth=False
    )
    assert answer.status_code == 200


def test_keyless_llm_calls_are_metered_as_their_agent_not_as_the_owner_key(make_api):
    api = make_api(api_keys=["owner-key"], rate_limit_per_minute=2)
    owner = {"Authorization": "Bearer owner-key"}
    api.post("/api/starter-kit", headers=owner, auth=False)
    api.put("/_mock/rate-limit", {"per_minute": 2}, headers=owner, auth=False)  # the kit spent one
    for _ in range(2):
        assert api.post("/_llm/agent-system/bot/v1/chat/completions", CHAT, auth=False).status_code == 200
    third = api.post("/_llm/agent-system/bot/v1/chat/completions", CHAT, auth=False)
    assert third.status_code == 429 and error_of(third) == "rate limit exceeded"
    # Another agent has its own bucket, and the owner's key has spent nothing.
    assert api.post("/_llm/agent-system/other/v1/chat/completions", CHAT, auth=False).status_code == 200
    assert api.get("/api/tools", headers=owner, auth=False).status_code == 200
    assert api.get("/api/tools", headers=owner, auth=False).status_code == 200
    assert api.get("/api/tools", headers=owner, auth=False).status_code == 429  # its own bucket is 2 too
