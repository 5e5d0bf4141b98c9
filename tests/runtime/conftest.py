"""A live mock (strict, with API keys) shared by the runtime tests, and the vendor SDK's agent
runtime as a real agent process."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from runtime_support import World, free_port, start_agent_process, stop_process

from mockserver.testkit.live_server import LiveServer


@pytest.fixture(scope="package")
def live_mock() -> Iterator[LiveServer]:
    server = LiveServer({"api_keys": ("runtime-test",), "strict_responses": True}).start()
    yield server
    server.stop()


@pytest.fixture
def world(live_mock) -> World:
    return World(live_mock.url)


@pytest.fixture(scope="package")
def sdk_agent(live_mock) -> Iterator[str]:
    """``python -m runagents.runtime`` (SDK 1.3.1) with the env the mock gives the agent and a
    user handler (sdk_agent/agent_main.py); its URL. The env is the same for every test."""
    env = World(live_mock.url).build()
    here = Path(__file__).parent / "sdk_agent"
    port = free_port()
    process = start_agent_process(
        [sys.executable, "-m", "runagents.runtime"],
        {**env, "USER_ENTRY_POINT": "agent_main", "RUNAGENTS_USER_CODE_DIR": str(here)},
        port,
        here,
    )
    yield f"http://127.0.0.1:{port}"
    stop_process(process)
