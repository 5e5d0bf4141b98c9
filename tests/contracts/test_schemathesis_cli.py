"""The bare schemathesis CLI finds nothing wrong with the served mock (issue 12).

A user who knows schemathesis points ``st run --checks all`` at ``runagents-mock serve``; every
phase (the spec's examples, coverage, fuzzing, stateful) must pass. The run here is small and
seeded (the kit's tests use the same seed); ``-m st_long`` runs the long, time-bounded one.
Point ``SPECS`` at further documents to hold them to the same bar.
"""

from __future__ import annotations

import os

import pytest
from contract_kit_support import REPO, run_st, serve_mock

# Each document the served mock answers, checked on its own at its base URL (the June one on the
# default workspace; a bearer key is accepted there too).
# Workers: with two, schemathesis 4.32 on Python 3.11 sometimes reports Hypothesis errors of its
# own ("Inconsistent results", "AST constructor recursion depth mismatch") on the June document's
# larger schemas, which would fail the run for no fault of the mock: that one runs on one.
SPECS = [
    pytest.param(REPO / name, mount, workers, id=name)
    for name, mount, workers in (("openapi.yaml", "", "2"), ("openapi-v1.yaml", "/api/v1", "1"))
]
PHASES = ("Examples", "Coverage", "Fuzzing", "Stateful")
# Small enough for the normal run (about 15-25 s each on two cores), large enough that every
# phase sends real traffic. No --max-time here: st spends all of it (fuzzing repeats until it is up).
QUICK = ("--max-examples", "3")
# The long run (pytest -m st_long): a time budget, like the reproduction.
LONG_SECONDS = os.environ.get("ST_LONG_SECONDS", "240")
# Open mode (any key but one that says it is invalid): what `runagents-mock serve` does by default.
KEY = "st-cli-key"


@pytest.fixture(scope="module")
def served_mock():
    yield from serve_mock()  # strict: the suite's conftest sets RUNAGENTS_MOCK_STRICT=1


def _assert_clean(run) -> None:
    assert run.exit_code == 0, run.output[-6000:]
    assert not run.failing_operations(), run.output[-6000:]
    for phase in PHASES:  # each phase ran and passed: a skipped phase would prove nothing
        line = run.phase_line(phase)
        assert line.lstrip().startswith("✅"), f"{line}\n{run.output[-3000:]}"


@pytest.mark.parametrize("spec, mount, workers", SPECS)
def test_st_run_all_checks_finds_nothing(served_mock, spec, mount, workers, tmp_path):
    _assert_clean(run_st(spec, served_mock.url + mount, KEY, tmp_path, *QUICK, "-w", workers))


@pytest.mark.st_long
@pytest.mark.parametrize("spec, mount, workers", SPECS)
def test_st_run_all_checks_with_a_time_budget(served_mock, spec, mount, workers, tmp_path):
    seconds = int(LONG_SECONDS)
    # A random seed unless ST_SEED is set; st prints the one it used.
    run = run_st(
        spec,
        served_mock.url + mount,
        KEY,
        tmp_path,
        "--max-time",
        str(seconds),
        "-w",
        "1",
        seed=os.environ.get("ST_SEED"),
        timeout=seconds + 120,
    )
    assert run.exit_code == 0, run.output[-6000:]
    assert not run.failing_operations(), run.output[-6000:]
