"""The proxy's tests reuse the contract kit's served mock and its deliberately deviating server."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contracts"))

import importlib.util

import pytest

_V1_CONFTEST = Path(__file__).resolve().parents[1] / "v1" / "conftest.py"


def _v1_support():
    """tests/v1's SDK 1.4.2 installer (one cached copy for the whole suite)."""
    spec = importlib.util.spec_from_file_location("v1_sdk142_support", _V1_CONFTEST)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def sdk142_path() -> Path:
    return _v1_support()._install()


@pytest.fixture
def run_sdk142(sdk142_path, tmp_path):
    """``run_sdk142(endpoint, api_key, scenario)``: tests/v1/sdk142_session.py's JSON report."""
    import json
    import os
    import subprocess

    script = _V1_CONFTEST.with_name("sdk142_session.py")

    def run(endpoint: str, api_key: str, scenario: str) -> dict:
        env = {**os.environ, "PYTHONPATH": str(sdk142_path), "HOME": str(tmp_path),
               "RUNAGENTS_ENDPOINT": endpoint, "RUNAGENTS_API_KEY": api_key}
        result = subprocess.run([sys.executable, str(script), scenario], env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout)

    return run
