"""The vendor SDK 1.4.2 (the /api/v1 client) in its own directory, beside the venv's 1.3.1.

It is installed once with ``pip install --target`` into ``.pytest-cache/runagents-1.4.2`` at the
repo root (gitignored) and reused by later runs; tests drive it in a subprocess with
``PYTHONPATH`` pointing there, so both SDK versions run in one test session.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

SDK_VERSION = "1.4.2"
CACHE = Path(__file__).resolve().parents[2] / ".pytest-cache" / f"runagents-{SDK_VERSION}"
SCRIPT = Path(__file__).with_name("sdk142_session.py")


def _install() -> Path:
    marker = CACHE / "runagents" / "__init__.py"
    if marker.exists():
        return CACHE
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="runagents-sdk-", dir=CACHE.parent))
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                             str(staging), f"runagents=={SDK_VERSION}"], capture_output=True, text=True)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        pytest.skip(f"cannot install runagents=={SDK_VERSION}: {result.stderr.strip()[-300:]}")
    try:
        os.rename(staging, CACHE)  # atomic: another xdist worker may have won the race
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return CACHE


@pytest.fixture(scope="session")
def sdk142_path() -> Path:
    return _install()


@pytest.fixture
def run_sdk142(sdk142_path, tmp_path):
    """``run_sdk142(endpoint, api_key, scenario)``: the scenario's JSON report (see sdk142_session.py)."""

    def run(endpoint: str, api_key: str, scenario: str) -> dict:
        env = {**os.environ, "PYTHONPATH": str(sdk142_path), "HOME": str(tmp_path),
               "RUNAGENTS_ENDPOINT": endpoint, "RUNAGENTS_API_KEY": api_key}
        result = subprocess.run([sys.executable, str(SCRIPT), scenario], env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout)

    return run
