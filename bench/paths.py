"""Where the benchmark finds the repo, the spec, its npm cache and its results folder."""

from __future__ import annotations

from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
SPEC_PATH = REPO_ROOT / "openapi.yaml"
CACHE_DIR = BENCH_DIR / ".cache"  # npm --prefix target for Prism (gitignored)
RESULTS_DIR = BENCH_DIR / "results"  # JSON, PNG and server logs (gitignored)
