"""Issue 23 item 9: the agent runtime's keyless writes (checkpoints, tool results) are charged
to the byte budget like run events, and name an unknown run before their body is parsed."""

from __future__ import annotations

import json

from api_support import error_of

LIMIT = 200_000
WIDE = [{} for _ in range(2_000)]  # ~6 KB of JSON, charged ~134 KB (64 bytes per object)


def _run(api) -> str:
    return api.post("/runs", {"agent_id": "bot", "user_id": "u"}).json["id"]


def test_a_checkpoint_over_the_byte_budget_is_refused_and_changes_nothing(make_api):
    api = make_api(max_stored_bytes=LIMIT)
    run = _run(api)
    first = api.post(f"/runs/{run}/checkpoint", {"action_id": "a1", "messages": WIDE}, auth=False)
    assert first.status_code == 201
    before = api.state()
    refused = api.post(f"/runs/{run}/checkpoint", {"action_id": "a2", "messages": WIDE}, auth=False)
    assert refused.status_code == 409 and error_of(refused) == f"limit of {LIMIT} stored bytes reached"
    assert api.get(f"/runs/{run}/checkpoint/a2", auth=False).status_code == 404
    assert api.state() == before
    # Replacing a checkpoint replaces its charge: the same action may be stored again.
    again = api.post(f"/runs/{run}/checkpoint", {"action_id": "a1", "messages": WIDE}, auth=False)
    assert again.status_code == 201


def test_tool_results_over_the_byte_budget_are_refused_and_change_nothing(make_api):
    api = make_api(max_stored_bytes=LIMIT)
    run = _run(api)
    report = {
        "tool_call_id": "c1",
        "function_name": "f",
        "arguments": "{}",
        "result": "ok",
        "tool_id": "t",
        "turn": 0,
        "details": WIDE,
    }  # more properties are kept as sent
    assert api.post(f"/runs/{run}/tool-result", report, auth=False).json["seq"] == 1
    before = api.state()
    refused = api.post(f"/runs/{run}/tool-result", report, auth=False)
    assert refused.status_code == 409 and error_of(refused) == f"limit of {LIMIT} stored bytes reached"
    assert api.state() == before
    small = {k: v for k, v in report.items() if k != "details"}
    assert api.post(f"/runs/{run}/tool-result", small, auth=False).json["seq"] == 2


def test_an_unknown_run_is_named_before_the_body_is_parsed(api):
    for path in ("/runs/no-such-run/checkpoint", "/runs/no-such-run/tool-result"):
        answer = api.request(
            "POST", path, data=b"[" * 100 + b"not json", auth=False, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 404 and error_of(answer) == "run no-such-run not found"
    run = _run(api)
    bad = api.request(
        "POST", f"/runs/{run}/checkpoint", data=b"not json", auth=False, headers={"Content-Type": "application/json"}
    )
    assert bad.status_code == 400 and error_of(bad) == "request body is not valid JSON"


def test_an_evicted_run_gives_back_its_checkpoint_and_tool_result_bytes(make_api):
    api = make_api(max_stored_bytes=LIMIT, max_objects_per_kind=2)
    first = _run(api)
    assert api.post(f"/runs/{first}/checkpoint", {"action_id": "a1", "messages": WIDE}, auth=False).status_code == 201
    assert (
        api.post(f"/runs/{first}/tool-result", {"tool_call_id": "c", "result": "x" * 20_000}, auth=False).status_code
        == 201
    )
    assert api.patch(f"/runs/{first}", {"status": "COMPLETED"}).status_code == 200
    second = _run(api)
    assert api.post(f"/runs/{second}/checkpoint", {"action_id": "a1", "messages": WIDE}, auth=False).status_code == 409
    assert api.patch(f"/runs/{second}", {"status": "COMPLETED"}).status_code == 200
    third = _run(api)  # the limit of 2 runs evicts the first, with what it stored
    assert api.get(f"/runs/{first}").status_code == 404
    assert api.post(f"/runs/{third}/checkpoint", {"action_id": "a1", "messages": WIDE}, auth=False).status_code == 201
    runtime = api.state()["runtime"]
    assert [c["run_id"] for c in runtime["checkpoints"]] == [third]
    assert first not in json.dumps(runtime["tool_results"])


def test_a_restored_state_counts_checkpoints_against_the_budget(make_api):
    api = make_api(max_stored_bytes=LIMIT)
    run = _run(api)
    assert api.post(f"/runs/{run}/checkpoint", {"action_id": "a1", "messages": WIDE}, auth=False).status_code == 201
    state = api.get("/_mock/state").json
    restored = make_api(max_stored_bytes=LIMIT)
    assert restored.put("/_mock/state", state).status_code == 200
    refused = restored.post(f"/runs/{run}/checkpoint", {"action_id": "a2", "messages": WIDE}, auth=False)
    assert refused.status_code == 409


def test_a_workspace_runtime_path_names_an_unknown_run_before_parsing_too(make_api):
    api = make_api(max_stored_bytes=LIMIT)
    assert api.post("/api/v1/workspaces/acme/runs", {"agent_id": "bot", "user_id": "u"}).status_code == 201
    answer = api.request(
        "POST",
        "/_workspaces/acme/runs/no-such-run/checkpoint",
        data=b"[" * 100 + b"x",
        auth=False,
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 404 and error_of(answer) == "run no-such-run not found"
