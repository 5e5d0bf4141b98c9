"""Helpers for plugin tests that run pytest in a subprocess, as a downstream project would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class PytestRun:
    returncode: int
    output: str

    def outcomes(self) -> dict[str, int]:
        """{"passed": 3, "failed": 1, ...} from the summary line."""
        summary = self.output.strip().splitlines()[-1] if self.output.strip() else ""
        return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|errors?|skipped)", summary)}


@pytest.fixture
def run_pytest() -> Callable[..., PytestRun]:
    """``run_pytest(*args, cwd=...)``: a fresh ``python -m pytest`` with this interpreter.

    The child gets a clean environment: no PYTEST_* variables from this run (xdist sets
    some in its workers), no bytecode files written into the repo or the projects (when
    tests/conftest.py sent bytecode to the suite's cache directory, ``PYTHONPYCACHEPREFIX``,
    the children share it).
    """

    def run(*args: str, cwd: Path = REPO_ROOT, env: dict[str, str] | None = None) -> PytestRun:
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        if "PYTHONPYCACHEPREFIX" not in child_env:  # set by tests/conftest.py when bytecode is off
            child_env["PYTHONDONTWRITEBYTECODE"] = "1"
        child_env.update(env or {})
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
            cwd=cwd,
            env=child_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return PytestRun(done.returncode, done.stdout + done.stderr)

    return run
