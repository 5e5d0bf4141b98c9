"""A served mock (``runagents-mock serve --run-agents``, strict) whose agents run on the vendor
runtime of SDK 1.4.2, shared by the tests of this folder; helpers to drive it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from agents_run_support import MOCK_ONLY, Served, start_served
from sdk_versions import install_sdk


@pytest.fixture(scope="session")
def sdk142_dir() -> str:
    return str(install_sdk("1.4.2"))


@pytest.fixture(scope="package")
def served(sdk142_dir, tmp_path_factory) -> Iterator[Served]:
    server = start_served(
        ["--server", "waitress", "--agent-sdk", sdk142_dir], MOCK_ONLY, tmp_path_factory.mktemp("served")
    )
    yield server
    server.stop()


@pytest.fixture
def fresh(served) -> Served:
    """The shared server, reset for this test (its agent processes stop)."""
    served.call("POST", "/_mock/reset")
    return served
