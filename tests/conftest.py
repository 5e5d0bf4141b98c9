"""Shared fixtures: an in-process mock whose every response is checked against openapi.yaml."""

from __future__ import annotations

import os

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
