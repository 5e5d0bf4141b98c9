"""The bare schemathesis CLI finds nothing wrong with the served mock (issues 12 and 26).

A user who knows schemathesis points ``st run --checks all`` at ``runagents-mock serve``; every
phase (the spec's examples, coverage, fuzzing, stateful) must pass, on each of the three
documents the mock serves, as the README shows them. The run here is small and seeded (the
kit's tests use the same seed); ``-m st_long`` runs the long, time-bounded one.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from contract_kit_support import REPO, run_st, serve_mock

# Each document the served mock answers, checked on its own at its base URL (the June one on the
# default workspace; a bearer key is accepted there too).
# Workers: with two, schemathesis 4.32 on Python 3.11 sometimes reports Hypothesis errors of its
# own ("Inconsistent results", "AST constructor recursion depth mismatch") on the June document's
# larger schemas, which would fail the run for no fault of the mock: that one runs on one.
# The mock's own document (the control API and the runtime path) is run as the README shows it:
# on a mock of its own with an admin key (without one the control API is open, which --checks
# all reports as "accepts requests without authentication"; its calls also reset the mock and
# set its rate limit), and without addFault: a fault rule answers later requests with whatever
# status it names, which is its purpose, not a deviation. It has no examples and no links, so
# st skips those two phases.
MOCK_DOCUMENT = "mock-openapi.yaml"
MOCK_DOCUMENT_ARGS = ("--exclude-operation-id", "addFault")
SPECS = [
    pytest.param(REPO / name, mount, workers, id=name)
    for name, mount, workers in (
        ("openapi.yaml", "", "2"),
        ("openapi-v1.yaml", "/api/v1", "1"),
        (MOCK_DOCUMENT, "", "2"),
    )
]
PHASES = {"openapi.yaml": ("Examples", "Coverage", "Fuzzing", "Stateful"), MOCK_DOCUMENT: ("Coverage", "Fuzzing")}
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


@pytest.fixture(scope="module")
def served_mock_with_admin_key():
    yield from serve_mock("--admin-key", KEY)  # the API stays in open mode: KEY works there too


def _target(request: pytest.FixtureRequest, spec: Path, mount: str) -> tuple[str, tuple[str, ...]]:
    """The base URL a document is checked at, and the st arguments it needs."""
    if spec.name == MOCK_DOCUMENT:
        return request.getfixturevalue("served_mock_with_admin_key").url, MOCK_DOCUMENT_ARGS
    return request.getfixturevalue("served_mock").url + mount, ()


def _assert_clean(run, spec: Path) -> None:
    assert run.exit_code == 0, run.output[-6000:]
    assert not run.failing_operations(), run.output[-6000:]
    for phase in PHASES.get(spec.name, PHASES["openapi.yaml"]):  # each ran and passed: a skipped one proves nothing
        line = run.phase_line(phase)
        assert line.lstrip().startswith("✅"), f"{line}\n{run.output[-3000:]}"


@pytest.mark.parametrize("spec, mount, workers", SPECS)
def test_st_run_all_checks_finds_nothing(request, spec, mount, workers, tmp_path):
    url, args = _target(request, spec, mount)
    _assert_clean(run_st(spec, url, KEY, tmp_path, *QUICK, "-w", workers, *args), spec)


@pytest.mark.st_long
@pytest.mark.parametrize("spec, mount, workers", SPECS)
def test_st_run_all_checks_with_a_time_budget(request, spec, mount, workers, tmp_path):
    seconds = int(LONG_SECONDS)
    url, args = _target(request, spec, mount)
    # A random seed unless ST_SEED is set; st prints the one it used.
    run = run_st(
        spec,
        url,
        KEY,
        tmp_path,
        "--max-time",
        str(seconds),
        "-w",
        "1",
        *args,
        seed=os.environ.get("ST_SEED"),
        timeout=seconds + 120,
    )
    assert run.exit_code == 0, run.output[-6000:]
    assert not run.failing_operations(), run.output[-6000:]
