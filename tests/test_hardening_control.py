"""Issue 11 hardening of the control API and request parsing, in process (fast):
refused control calls change nothing, state documents are checked before they load, fixtures
are all-or-nothing and JSON-shaped, the clock stays representable, nesting is bounded, and the
journal keeps bodies only up to its cap."""

from __future__ import annotations

import copy
import json

import pytest
from api_support import OPENAI_PROVIDER, CheckedClient, error_of

from mockserver import create_app
from mockserver.basics.jsonhttp import DecodingList
from mockserver.basics.nesting import nesting_problem
from mockserver.services.budget import event_data_size, stored_size
from mockserver.surface.persistence import attach_state_file

TOOL = {"name": "t1", "base_url": "https://x.example.com"}


def _populated(api) -> dict:
    api.post("/api/tools", TOOL)
    api.post("/api/model-providers", OPENAI_PROVIDER)
    run = api.post("/runs", {"agent_id": "a", "user_id": "u"}).get_json()
    api.post(f"/runs/{run['id']}/events", {"type": "USER_MESSAGE", "data": {"text": "hi"}})
    api.post("/api/deploy", {"agent_name": "a", "image": "img:1"})
    api.post("/analyze", {"files": {"main.py": "print(1)\n"}})
    assert api.post("/api/builds", {"name": "my-agent", "files": {"agent.py": "print('hi')\n"}}).status_code == 202
    request = api.post("/governance/requests", {"subject": "s", "tool_id": "t1"}).get_json()
    api.post(f"/governance/requests/{request['id']}/approve", {"duration": "1h"})
    return api.get("/_mock/state").get_json()


def _state_refused(api, state: dict, expected: str) -> None:
    before = api.get("/_mock/state").get_data()
    response = api.put("/_mock/state", state)
    assert response.status_code == 400, response.get_json()
    assert expected in error_of(response)
    assert api.get("/_mock/state").get_data() == before


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            lambda s: s["access_requests"]["expiry"].update({"missing": 1.0}),
            "access_requests.expiry.missing refers to a access request that is not in the state",
        ),
        (lambda s: s["analyses"].update(stored_at={}), "analyses.stored_at has no entry for analysis"),
        (lambda s: s["analyses"]["stored_at"].update({"ghost": 1.0}), "analyses.stored_at.ghost refers to"),
        (lambda s: s["builds"].update(timing={}), "builds.timing."),
        (
            lambda s: (
                s["runs"]["actions"].append({**s["runs"]["actions"][0], "run_id": "gone"})
                if s["runs"]["actions"]
                else s["runs"]["events"].update({"gone": []})
            ),
            "refers to a run that is not in the state",
        ),
        (lambda s: s.update(clock_offset="nan"), "clock_offset must be a number"),
        (lambda s: s.update(clock_offset=1e300), "clock_offset: would put the clock outside"),
        (lambda s: s.update(clock_offset=-1e11), "clock_offset: must not be negative"),
        (lambda s: s["gateway"].update(replies={"*": 123}), "gateway.replies must map"),
        (lambda s: s.update(gateway=[1]), "gateway must be an object"),
        (
            lambda s: s["agents"].update(build_of=[["agent-system", "a", "no-such-build"]]),
            "agents.build_of: build no-such-build of agent agent-system/a is not in the state",
        ),
    ],
    ids=[
        "expiry-dangling",
        "analysis-without-time",
        "time-without-analysis",
        "build-without-timing",
        "run-missing",
        "clock-text",
        "clock-huge",
        "clock-negative",
        "replies-not-text",
        "gateway-not-object",
        "agent-build-missing",
    ],
)
def test_inconsistent_state_documents_are_refused_and_change_nothing(api, change, expected):
    state = copy.deepcopy(_populated(api))
    change(state)
    _state_refused(api, state, expected)


def test_infinite_clock_offset_in_raw_json_is_refused(api):
    _populated(api)
    before = api.get("/_mock/state").get_data()
    raw = api.get("/_mock/state").get_data().replace(b'"clock_offset":0.0', b'"clock_offset":1e999')
    response = api.request("PUT", "/_mock/state", data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "clock_offset" in error_of(response)
    assert api.get("/_mock/state").get_data() == before


def test_the_clock_cannot_move_past_what_timestamps_can_represent(api):
    steps = 0
    while steps < 1000:
        response = api.post("/_mock/clock/advance", {"seconds": 315360000})
        if response.status_code != 200:
            break
        steps += 1
    assert response.status_code == 400 and "outside 1970-01-01 .. 9899-01-01" in error_of(response)
    clock = api.get("/_mock/clock").get_json()
    assert clock["now"] < "9899"
    # Timestamp-writing calls still work at the edge, and the refusal did not move the clock.
    assert api.post("/api/tools", TOOL).status_code == 201
    assert api.get("/_mock/clock").get_json()["offset_seconds"] == clock["offset_seconds"]


def test_a_fixture_with_one_bad_item_applies_nothing(api):
    _populated(api)
    before = api.get("/_mock/state").get_data()
    fixture = {"tools": [{**TOOL, "name": "t2"}, {"name": "bad name!", "base_url": "nope"}]}
    response = api.request("POST", "/_mock/seed", data=json.dumps(fixture))
    assert response.status_code == 400 and error_of(response).startswith("tools[1]: ")
    assert api.get("/_mock/state").get_data() == before


@pytest.mark.parametrize(
    "text, where",
    [
        (
            "tools:\n- name: t1\n  base_url: https://x.example.com\n  description: 2024-01-01\n",
            "fixture.tools[0].description",
        ),
        ("tools:\n- name: t1\n  base_url: !!binary aGVsbG8=\n", "fixture.tools[0].base_url"),
        ("tools:\n- name: t1\n  base_url: https://x.example.com\n  tags: !!set {a: null}\n", "fixture.tools[0].tags"),
    ],
)
def test_yaml_values_json_cannot_hold_are_a_400_naming_the_path(api, text, where):
    before = api.get("/_mock/state").get_data()
    response = api.request("POST", "/_mock/seed", data=text)
    assert response.status_code == 400 and error_of(response).startswith(where)
    assert api.get("/_mock/state").get_data() == before


def test_run_events_that_are_not_a_list_are_a_400_and_create_no_run(api):
    before = api.get("/_mock/state").get_data()
    response = api.request("POST", "/_mock/seed", data="runs:\n- {agent_id: a, user_id: u, events: 5}\n")
    assert response.status_code == 400 and error_of(response) == "runs[0]: events must be a list"
    assert api.get("/_mock/state").get_data() == before


def _nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/tools", {**TOOL, "spec": _nested(490)}),
        ("/api/model-providers", {**OPENAI_PROVIDER, "spec": {**OPENAI_PROVIDER["spec"], "extra": _nested(490)}}),
    ],
)
def test_deep_nesting_in_a_spec_is_a_400_not_a_recursion_error(api, path, body):
    before = api.get("/_mock/state").get_data()
    response = api.post(path, body)
    assert response.status_code == 400
    assert "nested too deeply (more than 64 levels at request body." in error_of(response)
    assert api.get("/_mock/state").get_data() == before


@pytest.mark.parametrize("method, path", [("PUT", "/_mock/state"), ("POST", "/_mock/seed")])
def test_deep_nesting_in_control_documents_is_a_400(api, method, path):
    body = {"version": 1, "tools": {"items": [_nested(490)]}} if path == "/_mock/state" else {"tools": [_nested(490)]}
    response = api.request(method, path, data=json.dumps(body), headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "nested too deeply" in error_of(response)


def test_the_journal_keeps_bodies_up_to_its_cap_and_never_the_parse_of_larger_ones(make_api):
    api = make_api(journal_body_bytes=1024)
    small = json.dumps([{}] * 10).encode()
    large = json.dumps([{}] * 5000).encode()
    for body in (small, large):
        api.request("POST", "/api/tools", data=body, headers={"Content-Type": "application/json"})
    entries = api.get("/_mock/journal").get_json()
    assert entries[0]["body"] == [{}] * 10
    assert entries[1]["body"] == f"<{len(large)} bytes: over the journal's 1024-byte cap, not kept>"
    # What is kept is the raw bytes, not a parsed list of 5000 dicts.
    kept = api.mock.journal.entries[1][5]
    assert not isinstance(kept, (list, dict, bytes))


def test_at_the_run_limit_the_oldest_finished_run_is_evicted_with_its_events(make_api):
    api = make_api(max_objects_per_kind=4)
    ids = [api.post("/runs", {"agent_id": "a", "user_id": f"u{i}"}).get_json()["id"] for i in range(4)]
    for run_id in ids[1:3]:  # finish the second and third; the first keeps running
        api.post(f"/runs/{run_id}/events", {"type": "USER_MESSAGE"})
        assert api.patch(f"/runs/{run_id}", {"status": "COMPLETED"}).status_code == 200
    fifth = api.post("/runs", {"agent_id": "a", "user_id": "u4"})
    assert fifth.status_code == 201
    assert api.get(f"/runs/{ids[1]}").status_code == 404  # the oldest finished one
    assert ids[1] not in api.state()["runs"]["events"]
    assert all(api.get(f"/runs/{run_id}").status_code == 200 for run_id in (ids[0], ids[2], ids[3]))
    assert api.post("/runs", {"agent_id": "a", "user_id": "u5"}).status_code == 201  # evicts ids[2]
    # Every run in progress: nothing is evicted, the create is refused as before.
    before = api.get("/_mock/state").get_data()
    refused = api.post("/runs", {"agent_id": "a", "user_id": "u6"})
    assert refused.status_code == 409 and error_of(refused) == "limit of 4 runs reached"
    assert api.get("/_mock/state").get_data() == before


def test_the_rate_limiter_table_is_bounded_and_new_keys_do_not_dodge_it(api, monkeypatch):
    from mockserver.surface.rate_limit import RateLimiter

    monkeypatch.setattr(RateLimiter, "MAX_KEYS", 5)
    api.put("/_mock/rate-limit", {"per_minute": 2})
    answers = [api.get("/api/tools", headers={"Authorization": f"Bearer key-{i}"}).status_code for i in range(12)]
    # Five keys get their own bucket; every later new key shares one bucket of 2 per minute.
    assert answers == [200] * 7 + [429] * 5
    assert len(api.mock.rate_limiter._hits) == 6


def test_the_fault_table_is_bounded(api, monkeypatch):
    from mockserver.surface.faults import Faults

    monkeypatch.setattr(Faults, "MAX_RULES", 3)
    for _ in range(3):
        assert api.post("/_mock/faults", {"path": "/api/x*", "status": 500}).status_code == 201
    refused = api.post("/_mock/faults", {"path": "/api/x*", "status": 500})
    assert refused.status_code == 409 and "limit of 3 fault rules reached" in error_of(refused)
    assert len(api.get("/_mock/faults").get_json()) == 3


def test_stored_data_counts_against_a_byte_budget(make_api):
    api = make_api(max_stored_bytes=20_000)
    run_id = api.post("/runs", {"agent_id": "a", "user_id": "u"}).get_json()["id"]
    # ~100 empty objects: tiny as JSON, but each costs Python an object, and is charged so.
    data = {"items": [{}] * 100}
    answers = [api.post(f"/runs/{run_id}/events", {"type": "USER_MESSAGE", "data": data}).status_code for _ in range(5)]
    assert answers[:2] == [201, 201] and answers[-1] == 409
    before = api.get("/_mock/state").get_data()
    refused = api.post("/api/tools", {**TOOL, "description": "d" * 15_000})
    assert refused.status_code == 409 and error_of(refused) == "limit of 20000 stored bytes reached"
    assert api.get("/_mock/state").get_data() == before
    api.post("/_mock/reset")
    assert api.post("/api/tools", {**TOOL, "description": "d" * 15_000}).status_code == 201
    assert api.delete("/api/tools/t1").status_code == 200  # a delete gives its bytes back
    assert api.post("/api/tools", {**TOOL, "description": "e" * 15_000}).status_code == 201


def test_a_deploy_over_the_byte_budget_stores_none_of_its_parts(make_api):
    api = make_api(max_stored_bytes=20_000)
    before = api.get("/_mock/state").get_data()
    refused = api.post(
        "/api/deploy",
        {
            "agent_name": "a",
            "image": "img:1",
            "system_prompt": "p" * 21_000,
            "tools_to_create": [{"name": "new-tool", "base_url": "https://x.example.com"}],
        },
    )
    assert refused.status_code == 409 and error_of(refused) == "limit of 20000 stored bytes reached"
    assert api.get("/_mock/state").get_data() == before
    assert (
        api.post("/api/deploy", {"agent_name": "a", "image": "img:1", "system_prompt": "p" * 9_000}).status_code == 201
    )
    assert (
        api.post("/api/deploy", {"agent_name": "b", "image": "img:1", "system_prompt": "p" * 12_000}).status_code == 409
    )
    assert api.delete("/api/agents/agent-system/a").status_code == 200  # its bytes come back
    assert (
        api.post("/api/deploy", {"agent_name": "b", "image": "img:1", "system_prompt": "p" * 12_000}).status_code == 201
    )


def test_agent_invocation_log_keeps_bodies_redacted_and_only_up_to_the_cap(make_api):
    api = make_api(journal_body_bytes=100)
    api.post("/api/deploy", {"agent_name": "a", "image": "img:1"})
    api.post("/api/agents/agent-system/a/invoke", {"message": "hi", "api_key": "invoke-SECRET"})
    api.post("/api/agents/agent-system/a/invoke", {"message": "x" * 500})
    kept = [entry["body"] for entry in api.state()["agents"]["invocations"]]
    assert kept[0] == {"message": "hi", "api_key": "***"}
    assert kept[1] == "<515 bytes: over the journal's 100-byte cap, not kept>"


@pytest.mark.parametrize("data", [None, "x", 1.5, {"a": [{}, []], "s": '{["data":'}, [{"data": {"k": "v"}}]])
def test_an_event_data_size_is_read_off_its_stored_bytes(data):
    event = {
        "event_id": "e",
        "run_id": "r",
        "seq": 1,
        "type": "USER_MESSAGE",
        "actor": ',"data":{',
        "data": data,
        "timestamp": "2026-01-01T00:00:00Z",
    }
    if data is None:
        del event["data"]
    encoded = json.dumps(event, separators=(",", ":")).encode()
    assert event_data_size(encoded) == stored_size(data)
    # Another key order (a hand-written state) is decoded instead: the same answer.
    reordered = json.dumps(dict(reversed(list(event.items()))), separators=(",", ":")).encode()
    assert event_data_size(reordered) == stored_size(data)


def test_every_load_path_charges_the_byte_budget_as_the_writes_did(tmp_path):
    app = create_app({"state_file": tmp_path / "state.db"})
    saver = attach_state_file(app, interval=3600)
    api = CheckedClient(app)
    _populated(api)
    platform = api.mock.platform
    charged = platform.budget.total
    assert charged > 0
    state = api.get("/_mock/state").get_json()
    assert api.post("/_mock/reset").status_code == 200 and platform.budget.total == 0
    assert api.put("/_mock/state", state).status_code == 200
    assert platform.budget.total == charged  # PUT /_mock/state
    assert (
        api.post("/_mock/seed", data="tools: [{name: t9, base_url: 'https://x.example'}, {name: 5}]").status_code == 400
    )
    assert platform.budget.total == charged  # a refused fixture's rollback
    assert api.put("/_mock/workspaces/w/state", state).status_code == 200
    workspace = api.mock.workspaces.get("w")
    assert workspace.budget.total == charged and workspace.budget is not platform.budget
    saver.store.save()
    assert saver.stop()
    reopened = create_app({"state_file": tmp_path / "state.db"})
    attach_state_file(reopened, interval=3600).stop()
    assert reopened.extensions["runagents_mock"].platform.budget.total == charged  # the store


def test_events_kept_as_bytes_are_checked_for_nesting_too():
    deep: dict = {}
    node = deep
    for _ in range(70):
        node["a"] = {}
        node = node["a"]
    shallow = json.dumps({"seq": 1, "data": {"a": [1]}}).encode()
    state = {"runs": {"events": {"r": DecodingList([shallow, json.dumps({"seq": 2, "data": deep}).encode()])}}}
    assert nesting_problem(state, "state").startswith(
        "state is nested too deeply (more than 64 levels at state.runs.events.r[1].data.a.a"
    )
    assert nesting_problem({"runs": {"events": {"r": DecodingList([shallow] * 3)}}}, "state") is None
