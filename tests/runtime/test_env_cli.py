"""``runagents-mock env`` against a served mock, and ``serve --agent-endpoint`` parsing."""

from __future__ import annotations

import json

import pytest
from runtime_support import AGENT, NAMESPACE

from mockserver.web.cli import build_parser, main


def test_env_prints_the_agent_env_in_each_format(world, capsys):
    expected = world.build()
    args = ["env", f"{NAMESPACE}/{AGENT}", "--url", world.url, "--admin-key", "runtime-test"]
    assert main([*args, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == expected
    assert main([*args, "--format", "shell"]) == 0
    shell = capsys.readouterr().out.splitlines()
    assert f"export AGENT_NAME={AGENT}" in shell and "export SYSTEM_PROMPT='You pay bills.'" in shell
    assert main(args) == 0  # dotenv by default
    assert f"TOOL_URL_BILLING={expected['TOOL_URL_BILLING']}" in capsys.readouterr().out.splitlines()


def test_env_of_an_agent_in_a_named_workspace(live_mock, capsys):
    from runtime_support import WorkspaceWorld

    WorkspaceWorld(live_mock.url, "default").call("POST", "/_mock/workspaces/default/reset")
    expected = WorkspaceWorld(live_mock.url, "team-env").build()
    args = ["env", f"{NAMESPACE}/{AGENT}", "--url", live_mock.url, "--admin-key", "runtime-test"]
    assert main([*args, "--workspace", "team-env", "--format", "json"]) == 0
    env = json.loads(capsys.readouterr().out)
    assert env == expected and env["GOVERNANCE_URL"] == f"{live_mock.url}/_workspaces/team-env"
    assert main(args) == 1  # the default workspace has no such agent
    assert "404" in capsys.readouterr().err


def test_env_errors_are_one_line(world, capsys):
    world.build()
    assert main(["env", f"{NAMESPACE}/ghost", "--url", world.url, "--admin-key", "runtime-test"]) == 1
    assert capsys.readouterr().err.strip() == 'runagents-mock: 404: {"error":"agent agent-system/ghost not found"}'
    assert main(["env", "no-slash", "--url", world.url]) == 2


def test_agent_endpoint_flag():
    args = build_parser().parse_args(["serve", "--agent-endpoint", "agent-system/bot=http://127.0.0.1:9000"])
    assert args.agent_endpoint == [("agent-system/bot", "http://127.0.0.1:9000")]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--agent-endpoint", "bot=localhost:9000"])
