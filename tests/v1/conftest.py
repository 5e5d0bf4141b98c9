"""The vendor SDK 1.4.2 (the /api/v1 client) in its own directory, beside the venv's 1.3.1.

It is installed once into ``.pytest-cache/runagents-1.4.2`` (tests/sdk_versions.py); tests drive
it in a subprocess with ``PYTHONPATH`` pointing there, so both SDK versions run in one session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sdk_versions import install_sdk

SDK_VERSION = "1.4.2"
SCRIPT = Path(__file__).with_name("sdk142_session.py")


@pytest.fixture(scope="session")
def sdk142_path() -> Path:
    return install_sdk(SDK_VERSION)


@pytest.fixture
def run_sdk142(sdk142_path, tmp_path):
    """``run_sdk142(endpoint, api_key, scenario)``: the scenario's JSON report (see sdk142_session.py)."""

    def run(endpoint: str, api_key: str, scenario: str) -> dict:
        env = {
            **os.environ,
            "PYTHONPATH": str(sdk142_path),
            "HOME": str(tmp_path),
            "RUNAGENTS_ENDPOINT": endpoint,
            "RUNAGENTS_API_KEY": api_key,
        }
        result = subprocess.run(
            [sys.executable, str(SCRIPT), scenario], env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout)

    return run
