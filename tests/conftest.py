"""Shared fixtures: an in-process mock whose every response is checked against openapi.yaml."""

from __future__ import annotations

import os
import sys

import pytest
from api_support import CheckedClient

from mockserver import create_app


@pytest.fixture
def make_api():
    """Build a checked client for a mock with the given settings."""
    return lambda **config: CheckedClient(create_app(config))


@pytest.fixture
def api(make_api) -> CheckedClient:
    return make_api()


def pytest_configure(config):
    # Every mock this test run creates, in-process or `runagents-mock serve` in a subprocess,
    # checks each response against openapi.yaml and answers 500 on any deviation.
    os.environ["RUNAGENTS_MOCK_STRICT"] = "1"
    # The `serve` subprocesses the tests start log no request (their stderr is a pipe that many
    # read only on failure); tests/test_access_log.py turns the log on where it checks it.
    os.environ["RUNAGENTS_MOCK_LOG_LEVEL"] = "warning"
    # With PYTHONDONTWRITEBYTECODE set (CI images often set it), every process this run starts
    # (xdist workers, `serve`, the contract kit's and the plugin tests' own pytest runs) compiled
    # the mock from source and redid pytest's assertion rewriting of every plugin package it
    # loads (schemathesis, hypothesis): about 1.5 s of CPU per pytest process. Their bytecode
    # goes to the suite's cache directory instead (never next to the sources), reused by the
    # processes after the first and by later runs.
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
        os.environ.setdefault("PYTHONPYCACHEPREFIX", str(config.rootpath / ".pytest-cache" / "pycache"))
        if not hasattr(config, "workerinput"):  # the controlling process, before any worker starts
            _precompile(config, os.environ["PYTHONPYCACHEPREFIX"])


def _precompile(config, prefix: str) -> None:
    """Compile the installed packages and the repo into the cache once, on every core, before
    the workers start. Otherwise, in a fresh clone, each xdist worker and each early subprocess
    compiled the same modules at once (about a minute of the first run on 2 cores); when the
    cache is warm this only compares timestamps (about 1 s)."""
    import compileall
    import sysconfig

    sys.pycache_prefix = prefix  # compileall writes where the workers (PYTHONPYCACHEPREFIX) read
    roots = [sysconfig.get_paths()["purelib"]] + [
        str(config.rootpath / name) for name in ("mockserver", "contracts", "tests", "bench")
    ]
    for root in roots:
        if os.path.isdir(root):
            compileall.compile_dir(root, quiet=2, workers=os.cpu_count() or 1)
