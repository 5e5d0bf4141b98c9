"""pytest plugin: a fresh RunAgents mock for every test.

Installed with the package (entry point ``pytest11: runagents_mock``), so a downstream
project only needs the package installed (from a clone or git; it is not on PyPI) and a test argument::

    def test_lists_tools(runagents_mock):
        requests.post(runagents_mock.url + "/api/tools", headers=runagents_mock.headers,
                      json={"name": "stripe-api", "base_url": "https://api.stripe.com"})
        runagents_mock.assert_called("POST", "/api/tools")

How it is put together, one module each:

- ``handle.py``: ``MockHandle``, what a test gets. One per server; it drives the server
  in-process through the control service behind ``/_mock/`` (no HTTP round trip for
  reset/seed/clock/faults), which keeps reset + a request ~1 ms; ``WorkspaceHandle``.
- ``checker.py``: ``ResponseChecker``, an observer of the mock's request pipeline: it gets the
  problems the pipeline's check stage finds in every answer (against the operation that
  answered it) and remembers what was exchanged (for readable failure messages).
- ``pool.py``: ``ServerPool``, session-scoped; starts one server per distinct configuration,
  lazily, and stops them at the end. Under pytest-xdist each worker is its own session, so
  each worker gets its own servers and port.
- this module: the fixtures ``runagents_mock``, ``runagents_mock_factory`` and
  ``runagents_workspace``, the ``runagents_seed`` marker, the ``--runagents-seed`` /
  ``runagents_seed`` / ``runagents_strict`` options, and a ``pytest_runtest_call`` wrapper
  that fails a test whose responses broke the spec. Every name the plugin had is still
  importable from here.

The server side (Flask app, waitress, ``requests``) is imported inside fixtures, so a
session that never asks for ``runagents_mock`` starts no server and loads no more of it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from .checker import ResponseChecker
from .handle import (
    DEFAULT_API_KEY,
    DEFAULT_WORKSPACE_KEY,
    SEED_SUFFIXES,
    Faults,
    MockHandle,
    SeedError,
    WorkspaceHandle,
)
from .pool import ServerPool

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_WORKSPACE_KEY",
    "RUN_AGENTS_MARKER",
    "SEED_MARKER",
    "SEED_SUFFIXES",
    "Faults",
    "MockHandle",
    "ResponseChecker",
    "SeedError",
    "ServerPool",
    "WorkspaceHandle",
]

SEED_MARKER = "runagents_seed"
RUN_AGENTS_MARKER = "runagents_run_agents"


# --- options and markers --------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("runagents-mock")
    group.addoption(
        "--runagents-seed",
        action="append",
        metavar="FILE",
        dest="runagents_seed",
        default=None,
        help="YAML/JSON fixture loaded into runagents_mock before each test (repeatable; "
        "replaces the runagents_seed ini option).",
    )
    group.addoption(
        "--runagents-run-agents",
        action="store_true",
        dest="runagents_run_agents",
        default=False,
        help="runagents_mock runs deployed source agents as local processes (serve --run-agents; "
        "or mark a test with runagents_run_agents).",
    )
    parser.addini(
        "runagents_seed",
        type="paths",
        default=[],
        help="fixture file(s) loaded into runagents_mock before each test (relative to the ini file).",
    )
    parser.addini(
        "runagents_strict",
        type="bool",
        default=True,
        help="fail a test when a mock response does not match openapi.yaml (default true).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{SEED_MARKER}(*fixtures): load these YAML/JSON fixtures (paths relative to the test "
        "file, YAML/JSON text, or dicts) into runagents_mock before the test.",
    )
    config.addinivalue_line(
        "markers",
        f"{RUN_AGENTS_MARKER}: runagents_mock runs deployed source agents as local processes "
        "(serve --run-agents; docs/runtime.md, 'Running agents').",
    )


# --- fixtures ---------------------------------------------------------------------------

_HANDLES = pytest.StashKey[list[MockHandle]]()


@pytest.fixture(scope="session")
def _runagents_mock_pool(pytestconfig: pytest.Config) -> Iterator[ServerPool]:
    """Session-scoped: the running servers (one per xdist worker, since each is a session)."""
    pool = ServerPool(strict=bool(pytestconfig.getini("runagents_strict")))
    yield pool
    pool.stop_all()


@pytest.fixture
def _runagents_mock_used(request: pytest.FixtureRequest) -> list[MockHandle]:
    """The handles this test uses, reset once each; ``pytest_runtest_call`` checks them."""
    handles: list[MockHandle] = []
    request.node.stash[_HANDLES] = handles
    return handles


@pytest.fixture
def runagents_mock(
    _runagents_mock_pool: ServerPool, _runagents_mock_used: list[MockHandle], request: pytest.FixtureRequest
) -> MockHandle:
    """A mock RunAgents API on a real port, reset (and seeded, if asked) for this test."""
    run_agents = request.config.getoption(RUN_AGENTS_MARKER) or request.node.get_closest_marker(RUN_AGENTS_MARKER)
    return _prepare(
        _runagents_mock_pool.get({"run_agents": True} if run_agents else None), _runagents_mock_used, request
    )


@pytest.fixture
def runagents_mock_factory(
    _runagents_mock_pool: ServerPool, _runagents_mock_used: list[MockHandle], request: pytest.FixtureRequest
) -> Callable[..., MockHandle]:
    """``runagents_mock_factory(api_keys=["k"])``: a mock with other settings (MockConfig
    fields), started once per session per distinct settings and reset for this test."""

    def make(**config: Any) -> MockHandle:
        return _prepare(_runagents_mock_pool.get(config), _runagents_mock_used, request)

    return make


@pytest.fixture
def runagents_workspace(
    _runagents_mock_pool: ServerPool, _runagents_mock_used: list[MockHandle]
) -> Iterator[WorkspaceHandle]:
    """A fresh, empty workspace on the session's mock, without resetting the server: a cheap
    isolation for tests on the /api/v1 surface (``.url``, ``.api_key``, ``.headers``, ``.env``).
    Responses are still checked against the specs; the workspace is dropped afterwards."""
    handle = _runagents_mock_pool.get()
    if handle not in _runagents_mock_used:
        _runagents_mock_used.append(handle)  # its responses are checked at the end of the test
        handle._checker.clear()  # only this test's exchanges count
        handle.strict = handle.default_strict
    workspace = handle.new_workspace()
    yield workspace
    workspace.reset()


def _prepare(handle: MockHandle, used: list[MockHandle], request: pytest.FixtureRequest) -> MockHandle:
    """Reset and seed a handle the first time this test asks for it (never mid-test)."""
    __tracebackhide__ = True
    if handle not in used:
        handle.reset()
        for source, search_dirs in _seed_sources(request):
            handle.seed(source, search_dirs)
        used.append(handle)
    return handle


def _seed_sources(request: pytest.FixtureRequest) -> Iterable[tuple[Any, Sequence[Path]]]:
    """Option seeds first, then markers from the outermost (module) to the innermost."""
    config = request.config
    from_cli = config.getoption("runagents_seed")
    if from_cli:
        for source in from_cli:
            yield source, (config.invocation_params.dir,)
    else:
        for path in config.getini("runagents_seed"):
            yield path, ()
    test_dir = Path(str(request.node.path)).parent
    for marker in reversed(list(request.node.iter_markers(SEED_MARKER))):
        for source in marker.args:
            yield source, (test_dir, config.rootpath)


# --- failing tests whose responses broke the spec ---------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    handles = item.stash.get(_HANDLES, [])
    try:
        result = yield
    except BaseException:
        # The test failed on its own; still show spec problems, they may be the cause.
        for handle in handles:
            report = handle._checker.report()
            if report:
                item.add_report_section("call", "runagents-mock conformance", report)
        raise
    for handle in handles:
        handle.check_conformance()
    return result
