"""pytest plugin of the contract suite: options, the run's lifetime, cleanup, the report.

Load it explicitly: ``pytest -p contracts.pytest_plugin --pyargs contracts --base-url URL``.
``runagents-contract`` does exactly that. (A conftest.py would only register its options
when pytest is started from the package's own directory, hence a plugin.)

The plugin does nothing until a suite module asks for the run (``active_run()``), so loading
it into a session that does not collect the suite costs nothing and starts nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from contracts.report import flow_error_key, render_report
from contracts.run import ContractRun
from contracts.settings import DEFAULT_MAX_EXAMPLES, RunSettings
from contracts.target import TargetError

# (name, argparse keywords). Each option also exists as --contract-<name>, which is the only
# spelling left when another plugin already owns the plain one (pytest-base-url has --base-url).
OPTIONS = (
    ("base-url", dict(metavar="URL", help="server to test; default: start an in-process runagents-mock")),
    ("api-key", dict(metavar="KEY", help="bearer key (default: $RUNAGENTS_API_KEY)")),
    ("read-only", dict(action="store_true", default=False, help="only GET operations; nothing is created")),
    (
        "max-examples",
        dict(
            type=int,
            default=DEFAULT_MAX_EXAMPLES,
            metavar="N",
            help=f"generated requests per operation (default {DEFAULT_MAX_EXAMPLES})",
        ),
    ),
    ("seed", dict(type=int, metavar="N", help="seed for reproducible runs (default: random, printed)")),
    ("name-prefix", dict(metavar="PREFIX", help="prefix of every created name (default contract-test-)")),
    ("spec", dict(metavar="PATH", help="openapi.yaml to test against (default: the packaged one)")),
    ("api", dict(metavar="API", help="2026-02 or v1 (default: inferred from the base URL)")),
    (
        "positive-only",
        dict(
            action="store_true",
            default=False,
            help="send only spec-valid data: no invalid input, no unexpected methods",
        ),
    ),
    (
        "exclude-check",
        dict(action="append", default=[], metavar="NAME", help="leave out this schemathesis check (repeatable)"),
    ),
)


@dataclass
class _SessionState:
    """This pytest session's config and run; the suite modules reach them at import time."""

    config: pytest.Config | None = None
    run: ContractRun | None = None
    startup_error: str | None = None


_state = _SessionState()


def active_run() -> ContractRun:
    """The run of this pytest session, started on first use (the test modules call this)."""
    if _state.run is None:
        if _state.config is None:
            raise RuntimeError(
                "the contract suite needs its plugin: "
                "pytest -p contracts.pytest_plugin --pyargs contracts [--base-url URL]"
            )
        try:
            _state.run = ContractRun(settings_from_options(_state.config))
        except (TargetError, ValueError) as exc:
            _state.startup_error = f"runagents-contract: {exc}"
            pytest.exit(_state.startup_error, returncode=pytest.ExitCode.USAGE_ERROR)
    return _state.run


def current_run() -> ContractRun | None:
    return _state.run


# --- options ------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("runagents-contract", "RunAgents contract tests")
    for name, kwargs in OPTIONS:
        dest = "contract_" + name.replace("-", "_")
        try:
            group.addoption(f"--{name}", f"--contract-{name}", dest=dest, **kwargs)
        except ValueError:  # the plain spelling belongs to another plugin
            group.addoption(f"--contract-{name}", dest=dest, **kwargs)


def _option(config: pytest.Config, name: str) -> Any:
    return config.getoption("contract_" + name.replace("-", "_"))


def settings_from_options(config: pytest.Config) -> RunSettings:
    # pytest-base-url's own --base-url counts too, when it is the one that owns the spelling.
    base_url = _option(config, "base-url") or config.getoption("base_url", default=None)
    spec = _option(config, "spec")
    prefix = _option(config, "name-prefix")
    return RunSettings(
        base_url=base_url,
        api_key=_option(config, "api-key"),
        read_only=_option(config, "read-only"),
        max_examples=_option(config, "max-examples"),
        seed=_option(config, "seed"),
        name_prefix=RunSettings.name_prefix if prefix is None else prefix,
        spec_path=Path(spec) if spec else None,
        negative=not _option(config, "positive-only"),
        excluded_checks=tuple(_option(config, "exclude-check")),
        api=_option(config, "api"),
    )


# --- the run's lifetime -------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    _state.config, _state.run, _state.startup_error = config, None, None  # one pytest.main, one run


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # schemathesis 4 with pytest >= 9.2 gives every per-operation item the same node id
    # ("test_operation"), so JUnit cannot tell the operations apart; put the operation back in.
    for item in items:
        label = getattr(item, "operation_label", None)
        if not label or not isinstance(item, pytest.Function) or item.parent is None:
            continue
        if not item.nodeid.endswith(f"[{label}]"):
            if hasattr(item, "_id"):  # pytest >= 9.2: structured node ids
                item._id = item.parent.id.child(item.originalname).with_params(label)
            else:  # pytest < 9.2 (its attribute, unknown to the newer pytest mypy reads)
                setattr(item, "_nodeid", f"{item.parent.nodeid}::{item.originalname}[{label}]")  # noqa: B010


@pytest.fixture(scope="session", autouse=True)
def clean_up_created_resources() -> Iterator[None]:
    """After the last test, pass or fail: delete everything the run created."""
    yield
    run = current_run()
    result = run.clean_up() if run is not None else None
    if result is not None and result.problems:
        pytest.fail("cleanup could not remove everything the run created: " + result.summary(), pytrace=False)


def pytest_unconfigure(config: pytest.Config) -> None:
    run, error = _state.run, _state.startup_error
    quiet = config.pluginmanager.get_plugin("terminalreporter") is None  # the CLI turns it off
    if quiet and error:
        print(error, file=sys.stderr, flush=True)
    if run is not None:
        if quiet:
            print(render_report(run), flush=True)  # the report is all the CLI prints
        run.close()
    _state.config = _state.run = _state.startup_error = None


# --- what goes into the report ------------------------------------------------------------


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Keep a one-line reason for every failed test; the report shows it where no deviation explains it."""
    run = current_run()
    if run is None or not report.failed:
        return
    if report.when == "teardown" and run.cleanup_result is not None and run.cleanup_result.problems:
        return  # the cleanup failure; the report's Cleanup line lists it
    crash = getattr(report.longrepr, "reprcrash", None)
    message = crash.message if crash is not None else str(report.longrepr).strip()
    run.results.errors.setdefault(_where(report.nodeid, report.when), message.strip().splitlines()[0][:300])


def pytest_collectreport(report: pytest.CollectReport) -> None:
    run = current_run()
    if report.failed and run is not None:
        run.results.errors.setdefault(f"collecting {report.nodeid}", str(report.longrepr).strip()[-300:])


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    run = current_run()
    if run is not None:
        terminalreporter.section("runagents-contract report")
        terminalreporter.write_line(render_report(run))


def _where(nodeid: str, when: str) -> str:
    """What a failed test was about: an operation label, a flow, else the test's name."""
    name = nodeid.rsplit("::", 1)[-1]
    if when == "call" and name.startswith("test_operation["):
        return name.split("[", 1)[1].removesuffix("]")
    if when == "call" and name.startswith("test_linked_sequences["):
        return flow_error_key(name.split("[", 1)[1].removesuffix("]"))
    return name if when == "call" else f"{name} ({when})"
