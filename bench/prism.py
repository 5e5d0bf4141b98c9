"""Stoplight Prism, installed on demand into bench/.cache with npm (never globally)."""

from __future__ import annotations

import shutil
import subprocess

from .paths import CACHE_DIR

# Pinned so runs on different days compare the same Prism.
PRISM_PACKAGE = "@stoplight/prism-cli@5.14.2"
PRISM_BIN = CACHE_DIR / "node_modules" / ".bin" / "prism"


class PrismUnavailable(Exception):
    """Why Prism cannot be benchmarked here; the run goes on without it."""


def ensure_prism() -> str:
    """The prism executable, installing it first if needed."""
    if PRISM_BIN.exists():
        return str(PRISM_BIN)
    if shutil.which("node") is None:
        raise PrismUnavailable("node is not installed (Prism is a Node.js program)")
    npm = shutil.which("npm")
    if npm is None:
        raise PrismUnavailable("npm is not installed: install Node.js with npm, or pass --no-prism")
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    print(f"installing {PRISM_PACKAGE} into {CACHE_DIR} (once) ...", flush=True)
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(CACHE_DIR), PRISM_PACKAGE],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0 or not PRISM_BIN.exists():
        tail = "\n".join((done.stderr or done.stdout).splitlines()[-5:])
        raise PrismUnavailable(f"npm install {PRISM_PACKAGE} failed:\n{tail}")
    return str(PRISM_BIN)
