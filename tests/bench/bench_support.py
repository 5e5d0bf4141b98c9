"""Running ``python -m bench`` from the smoke tests: every run short, its output shown on failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# A few requests per workload and target: enough to see every one answered, never a measurement.
SHORT = ("--duration", "0.5", "--warmup", "0", "--concurrency", "2")


def run_bench(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m bench ARGS`` in the repository (bench/ is not an installed package); asserts
    it exited 0, with the end of its output as the message."""
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done
