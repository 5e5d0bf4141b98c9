"""Issue 23 item 10: the nesting check answers as before, builds one path only, and takes wide
bodies (its speed on 4 MB bodies is measured by ``python -m bench.nesting``, not here)."""

from __future__ import annotations

import json

import pytest

from mockserver.basics import nesting
from mockserver.basics.nesting import nesting_problem


def _deep(levels: int) -> list:
    value: list = []
    for _ in range(levels - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    "value, limit, expected",
    [
        # Expected answers as the check gave them before it was made linear.
        ({"a": [[{"b": [1, {"c": []}]}]]}, 7, None),
        ({"a": [[{"b": [1, {"c": []}]}]]}, 6, "x is nested too deeply (more than 6 levels at x.a[0][0].b[1].c)"),
        ({"a": [[{"b": [1, {"c": []}]}]]}, 5, "x is nested too deeply (more than 5 levels at x.a[0][0].b[1])"),
        ({"a": [[{"b": [1, {"c": []}]}]]}, 3, "x is nested too deeply (more than 3 levels at x.a[0][0])"),
        ({"a": [[{"b": [1, {"c": []}]}]]}, 0, "x is nested too deeply (more than 0 levels at x)"),
        # The last too-deep container is named first (children are visited last first, as always).
        ([[[]], [[]], 1, [[]]], 2, "x is nested too deeply (more than 2 levels at x[3][0])"),
        ({"first": [[]], "second": {"k": {}}}, 2, "x is nested too deeply (more than 2 levels at x.second.k)"),
        ("text", 0, None),
    ],
)
def test_the_reported_place_and_message_are_the_same(value, limit, expected):
    assert nesting_problem(value, "x", limit) == expected


def test_json_bytes_held_in_a_list_are_looked_into():
    held = [json.dumps({"data": _deep(5)}).encode(), b'{"data": 1}']
    assert (
        nesting_problem(held, "state", 5) == "state is nested too deeply (more than 5 levels at state[0].data[0][0][0])"
    )
    assert (
        nesting_problem(held, "state", 6)
        == "state is nested too deeply (more than 6 levels at state[0].data[0][0][0][0])"
    )
    assert nesting_problem(held, "state", 7) is None


def test_a_wide_body_is_accepted_and_only_the_reported_path_is_built(monkeypatch):
    wide = [{} for _ in range(200_000)] + [{"a": [1]} for _ in range(100_000)]
    built = []
    original = nesting._problem
    monkeypatch.setattr(nesting, "_problem", lambda *args: built.append(args) or original(*args))
    assert nesting_problem(wide, "request body") is None
    assert built == []
    wide.append(_deep(nesting.MAX_NESTING + 1))
    problem = nesting_problem(wide, "request body")
    assert problem == (
        "request body is nested too deeply (more than 64 levels at request body[300000]" + "[0]" * 63 + ")"
    )
    assert len(built) == 1


def test_a_4_mb_wide_body_is_accepted_by_the_api(api):
    body = (
        b'{"agent_id": "a", "user_id": "u", "conversation_id": "c", "pad": [' + b",".join([b"{}"] * 1_300_000) + b"]}"
    )
    assert len(body) > 2_600_000
    answer = api.request("POST", "/runs", data=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 201 and "pad" not in answer.json
