"""Vendor SDK releases beside the venv's own (the test extras pin runagents<1.4).

A release is installed once with ``pip install --target`` into ``.pytest-cache/runagents-<v>``
at the repo root (gitignored) and reused by later runs; tests put that directory on a
subprocess's ``PYTHONPATH`` (or hand it to ``serve --agent-sdk``), so several SDK versions run
in one test session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

CACHE_ROOT = Path(__file__).resolve().parents[1] / ".pytest-cache"


def install_sdk(version: str) -> Path:
    """The directory holding ``runagents`` ``version``; the test skips when pip cannot get it."""
    cache = CACHE_ROOT / f"runagents-{version}"
    if (cache / "runagents" / "__init__.py").exists():
        return cache
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="runagents-sdk-", dir=CACHE_ROOT))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(staging),
            f"runagents=={version}",
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        pytest.skip(f"cannot install runagents=={version}: {result.stderr.strip()[-300:]}")
    try:
        os.rename(staging, cache)  # atomic: another xdist worker may have won the race
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return cache
