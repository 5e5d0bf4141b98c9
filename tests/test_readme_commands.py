"""The README's two commands (issue 27.2): the test command must never reinstall the virtual
environment the served mock runs from, and `.ci/run` runs the test command exactly as written."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    """The command lines of the README's first code block (comments dropped)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", readme, re.S)
    assert block, "the README starts with a bash block"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


def _venvs(command: str) -> tuple[set[str], set[str]]:
    """The venvs a command creates and the ones it activates."""
    return set(re.findall(r"-m venv (\S+)", command)), set(re.findall(r"\. (\S+)/bin/activate", command))


def test_each_command_installs_into_a_venv_of_its_own():
    serve, test = _commands()
    assert "runagents-mock serve" in serve and "pytest" in test
    serve_made, serve_used = _venvs(serve)
    test_made, test_used = _venvs(test)
    assert serve_made == serve_used and len(serve_made) == 1, serve
    assert test_made == test_used and len(test_made) == 1, test
    assert not serve_made & test_made, "command 2 would reinstall the venv command 1's server runs from"
    assert re.search(r"\bpip install\b", test) and re.search(r"\bpip install\b", serve)


def test_ci_runs_command_2_verbatim_and_ignores_both_venvs():
    _, test = _commands()
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert [line for line in ci if not line.startswith("#")][-1] == test
    ignored = (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()
    for command in _commands():
        (venv,) = _venvs(command)[0]
        assert f"{venv}/" in ignored, venv
