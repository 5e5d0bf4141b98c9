"""At the run limit, creating a run evicts the run that finished longest ago (plain Python).

The order of finished runs is an index kept beside the runs, so an eviction is O(1): these
tests check whom it evicts (also after a state load, a reset, a store restore and a
fixture's rename) and that the index is built once, not on every eviction.
"""

from __future__ import annotations

import pytest

from mockserver.basics.clock import Clock
from mockserver.basics.errors import ApiError
from mockserver.config import MockConfig
from mockserver.services.changes import ChangeSet, track
from mockserver.services.platform import Platform
from mockserver.services.runs import models as runs_models


def platform_with_limit(limit: int) -> Platform:
    return Platform(MockConfig.from_mapping({"max_objects_per_kind": limit}), Clock())


def new_run(platform: Platform) -> str:
    return platform.runs.create({"agent_id": "a", "user_id": "u"})["id"]


def finish(platform: Platform, run_id: str, status: str = "COMPLETED") -> None:
    platform.clock.advance(1)  # each finish at its own time
    platform.runs.transition(run_id, status)


def test_the_run_finished_longest_ago_is_evicted_with_its_events_and_actions():
    platform = platform_with_limit(4)
    first, second, third, fourth = (new_run(platform) for _ in range(4))
    action = platform.runs.create_action(second, "stripe-api")["action_id"]
    platform.runs.reject_action(second, action)  # logs REJECTED and fails the run
    finish(platform, first)  # finished after `second`, though created before it
    fifth = new_run(platform)
    assert set(platform.runs.runs) == {first, third, fourth, fifth}
    assert second not in platform.runs.events and action not in platform.runs.actions
    sixth = new_run(platform)
    assert set(platform.runs.runs) == {third, fourth, fifth, sixth}
    with pytest.raises(ApiError, match="limit of 4 runs reached"):  # all in progress: nothing evicted
        new_run(platform)
    assert set(platform.runs.runs) == {third, fourth, fifth, sixth}


@pytest.mark.parametrize("reload", ["state load", "store restore", "change tracking"])
def test_the_order_survives_a_load(reload):
    platform = platform_with_limit(3)
    runs = [new_run(platform) for _ in range(3)]
    for run_id in (runs[2], runs[0], runs[1]):
        finish(platform, run_id, "FAILED" if run_id == runs[0] else "COMPLETED")
    if reload == "state load":  # PUT /_mock/state, a JSON state file, a seed's rollback
        loaded = platform_with_limit(3)
        loaded.load(platform.export())
        platform = loaded
    elif reload == "store restore":  # persistence.py sets the stored containers back
        backend = platform.runs
        backend.runs, backend.events, backend.actions = dict(backend.runs), dict(backend.events), dict(backend.actions)
    else:  # a store attached: the containers are replaced by tracked ones
        track(ChangeSet(), "runs", platform.runs)
    evicted = []
    for _ in range(3):
        before = set(platform.runs.runs)
        new_run(platform)
        evicted += before - set(platform.runs.runs)
    assert evicted == [runs[2], runs[0], runs[1]]


def test_a_reset_and_a_renamed_run_keep_the_index_right():
    platform = platform_with_limit(2)
    kept, renamed = new_run(platform), new_run(platform)
    finish(platform, renamed)
    platform.runs.rename(renamed, "recorded-run")  # a fixture keeping a recorded run's id
    new_run(platform)
    assert "recorded-run" not in platform.runs.runs and kept in platform.runs.runs
    platform.reset()
    assert [new_run(platform) for _ in range(2)] and len(platform.runs.runs) == 2
    with pytest.raises(ApiError, match="limit of 2 runs reached"):
        new_run(platform)


def test_evictions_use_the_kept_index_instead_of_scanning_the_runs(monkeypatch):
    builds = []

    def counted(build):
        def wrapper(source):
            builds.append(build.__name__)
            return build(source)

        return wrapper

    monkeypatch.setattr(runs_models, "_finished_in_order", counted(runs_models._finished_in_order))
    monkeypatch.setattr(runs_models, "_actions_by_run", counted(runs_models._actions_by_run))
    platform = platform_with_limit(5)
    for _ in range(40):
        run_id = new_run(platform)
        platform.runs.create_action(run_id, "t")
        platform.runs.transition(run_id, "FAILED")
    assert len(platform.runs.runs) == 5 and len(platform.runs.actions) == 5
    assert sorted(builds) == ["_actions_by_run", "_finished_in_order"]  # each built once, then kept
