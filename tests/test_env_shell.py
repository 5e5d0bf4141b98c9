"""``runagents-mock env --format shell`` output is safe to ``eval`` (issue 23.17): hostile values
come back verbatim and run nothing; names that are not shell variable names are refused by
the API (400) and by the writers."""

from __future__ import annotations

import subprocess

import pytest
import requests

from mockserver.web.cli import env_lines, main

HOSTILE_VALUES = {
    "SUBST": "$(touch pwned-subst)",
    "BACKTICK": "`touch pwned-backtick`",
    "QUOTE": "it's'; touch pwned-quote; echo '",
    "DOUBLE": '"; touch pwned-double; echo "',
    "NEWLINE": "line one\ntouch pwned-newline",
    "VAR": "${HOME} $PATH \\ ; & | < > * ?",
}
HOSTILE_NAMES = ["A;touch pwned", "$(touch pwned)", "1ABC", "A B", "A=B", "A\nB", "ÄB", "A-B"]


def _deploy(url: str, env: list[dict[str, str]], v1: bool = False) -> requests.Response:
    if v1:
        return requests.post(
            url + "/api/v1/deploy",
            headers={"X-RunAgents-API-Key": "ra_ws_k"},
            timeout=10,
            json={"agent_name": "shell-bot", "image": "registry.example/bot:1", "env": env},
        )
    return requests.post(
        url + "/api/deploy",
        headers={"Authorization": "Bearer k"},
        timeout=10,
        json={"agent_name": "shell-bot", "image": "registry.example/bot:1", "env": env},
    )


@pytest.mark.parametrize("fmt", ["shell", "dotenv"])
def test_hostile_values_come_back_verbatim_and_run_nothing(runagents_mock, capsys, tmp_path, fmt):
    assert _deploy(runagents_mock.url, [{"name": k, "value": v} for k, v in HOSTILE_VALUES.items()]).status_code == 201
    assert main(["env", "agent-system/shell-bot", "--url", runagents_mock.url, "--format", fmt]) == 0
    printed = capsys.readouterr().out
    # Evaluated (shell) or sourced with every name exported (dotenv), then each value printed
    # back NUL-separated.
    script = (
        ('eval "$(cat env.out)"' if fmt == "shell" else "set -a; . ./env.out; set +a")
        + "; "
        + "; ".join(f'printf "%s\\0" "${name}"' for name in HOSTILE_VALUES)
    )
    (tmp_path / "env.out").write_text(printed)
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().split("\0")[:-1] == list(HOSTILE_VALUES.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["env.out"]  # no pwned-* file


@pytest.mark.parametrize("v1", [False, True], ids=["february", "june"])
@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_the_api_refuses_env_names_a_shell_cannot_hold(runagents_mock, name, v1):
    response = _deploy(runagents_mock.url, [{"name": name, "value": "v"}], v1=v1)
    assert response.status_code == 400
    assert response.json() == {"error": "env name must be letters, digits and underscores, not starting with a digit"}
    assert runagents_mock.state()["agents"]["items"] == []


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_the_writers_refuse_a_bad_name_and_print_nothing(name, tmp_path):
    with pytest.raises(ValueError, match="not shell variable names"):
        env_lines({"GOOD": "x", name: "v"}, export=True)
    assert env_lines({"_A1": "v", "b": ""}, export=True) == "export _A1=v\nexport b=''\n"


@pytest.mark.parametrize("role", ["x; touch pwned", "a b", "$(id)", "x-y"])
def test_a_june_config_role_that_cannot_name_an_env_variable_is_refused(runagents_mock, role):
    # A role other than chat names LLM_MODEL_<ROLE> in the agent's env (docs: any string).
    headers = {"X-RunAgents-API-Key": "ra_ws_k"}
    assert _deploy(runagents_mock.url, [], v1=True).status_code == 201
    before = runagents_mock.state()["agents"]
    response = requests.put(
        runagents_mock.url + "/api/v1/agents/shell-bot/config",
        headers=headers,
        timeout=10,
        json={"llm_configs": [{"provider": "openai", "model": "gpt-4o-mini", "role": role}]},
    )
    assert response.status_code == 400
    assert "role must be letters, digits and underscores" in response.json()["error"]
    assert runagents_mock.state()["agents"] == before
