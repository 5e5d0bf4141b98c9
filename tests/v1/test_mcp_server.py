"""The vendor SDK 1.4.2's MCP server (``runagents-mcp``) against the mock, unchanged (issue 27.6).

The server runs from the directory the suite installs SDK 1.4.2 into (conftest.py), talks to
a served mock through ``RUNAGENTS_ENDPOINT``/``RUNAGENTS_API_KEY`` as README says, and is driven
over stdio by the ``mcp`` client package (``mcp_session.py``, in a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mcp", reason="the mcp package is in the test extras")

SCRIPT = Path(__file__).with_name("mcp_session.py")


def test_runagents_mcp_lists_and_calls_tools_against_the_mock(runagents_mock, sdk142_path, tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(sdk142_path),
        "HOME": str(tmp_path),
        "RUNAGENTS_ENDPOINT": runagents_mock.url,
        "RUNAGENTS_API_KEY": "ra_ws_assistant",
    }
    result = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)

    assert {
        "list_agents",
        "get_agent",
        "list_runs",
        "list_policies",
        "get_model_spend",
        "deploy_agent",
        "approve_request",
        "seed_starter_kit",
    } <= set(report["tools"])
    assert "error" not in report["seed"]
    assert {"echo-tool"} <= {tool["name"] for tool in report["list_tools"]}
    assert report["deploy"]["agent_name"] == "mcp-agent"
    assert [agent["name"] for agent in report["list_agents"]] == ["mcp-agent"]
    assert report["get_agent"]["name"] == "mcp-agent"
    assert report["missing_agent"] == {"error": "HTTP 404", "detail": {"error": "agent nope not found"}}
    assert report["list_runs"] == [] and isinstance(report["list_policies"], list)
    assert "error" not in report["model_spend"]
    # What the assistant's calls did is the mock's state, seen by the documented API.
    assert [a["name"] for a in runagents_mock.state()["agents"]["items"]] == ["mcp-agent"]
