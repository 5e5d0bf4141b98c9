"""A served mock (``runagents-mock serve --run-agents``, strict) whose agents run on the vendor
runtime of SDK 1.4.2, shared by the tests of this folder; helpers to drive it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Iterator

import pytest

from agents_run_support import Served, start_served
from sdk_versions import install_sdk

# A variable of the mock's own environment: no agent may see it (test_agent_isolation.py).
MOCK_ONLY = {"RUNAGENTS_MOCK_PRIVATE_MARKER": "mock-only-value-7f3a"}


@pytest.fixture(scope="session")
def sdk142_dir() -> str:
    return str(install_sdk("1.4.2"))


@pytest.fixture(scope="package")
def served(sdk142_dir, tmp_path_factory) -> Iterator[Served]:
    server = start_served(["--server", "waitress", "--agent-sdk", sdk142_dir], MOCK_ONLY,
                          tmp_path_factory.mktemp("served"))
    yield server
    server.stop()


@pytest.fixture
def fresh(served) -> Served:
    """The shared server, reset for this test (its agent processes stop)."""
    served.call("POST", "/_mock/reset")
    return served
