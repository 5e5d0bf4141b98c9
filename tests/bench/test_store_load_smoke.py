"""`python -m bench store-load` builds a small store and loads it in a fresh process, reporting
CPU seconds (never asserted: only that it runs and says what it measured)."""

from __future__ import annotations

import json

from bench_support import run_bench


def test_store_load_runs_on_a_small_store():
    done = run_bench("store-load", "--events", "2000", "--repeat", "1", timeout=120)
    result = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("{")))
    assert set(result) == {"imports_cpu_s", "create_app_cpu_s", "load_cpu_s", "process_cpu_s", "peak_rss_mb"}
    assert "best: load" in done.stdout
