"""`python -m bench` runs end to end (about 1 s per target and workload, Prism skipped) and
writes a well-formed JSON result. No timing assertions: this machine's speed is not under test,
only that every workload reached every target and was answered without errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKLOADS = {"list_agents", "get_run", "add_event", "chat"}


def test_bench_runs_and_writes_well_formed_json(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--duration", "1", "--warmup", "0", "--concurrency", "2",
         "--no-prism", "--fixture-runs", "1", "--reset-iterations", "20", "--out", str(tmp_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    document = json.loads((tmp_path / "latest.json").read_text())

    assert document["schema"] == "runagents-mock-bench/1"
    assert document["settings"]["loadgen"] in ("wrk", "python")
    assert document["targets"]["mock"]["status"] == "ok"
    assert document["targets"]["ceiling"]["status"] == "ok"
    assert document["targets"]["prism"] == {"status": "skipped", "reason": "--no-prism"}

    rows = document["results"]
    assert {(r["target"], r["workload"]) for r in rows} == {(t, w) for t in ("mock", "ceiling") for w in WORKLOADS}
    for row in rows:
        assert isinstance(row["requests"], int) and row["requests"] > 0, row
        assert row["rps"] > 0 and row["seconds"] > 0, row
        assert 0 <= row["p50_ms"] <= row["p99_ms"], row
        assert row["errors"] == 0, row  # a wrong id or body would show here as 4xx

    assert set(document["ratios"]) == WORKLOADS
    for ratio in document["ratios"].values():
        assert ratio["mock_vs_prism_rps"] is None  # Prism was skipped
        assert ratio["mock_vs_ceiling_rps"] > 0

    fixture = document["fixture"]
    startup = fixture["startup_ms"]
    assert startup["n"] == 1 and startup["median"] > 0
    assert startup["import_ms"] > 0 and startup["start_ms"] > 0 and startup["first_answer_ms"] > 0
    assert fixture["reset_plus_request_us"]["n"] == 20
    assert 0 < fixture["reset_plus_request_us"]["median"] <= fixture["reset_plus_request_us"]["max"]

    assert document["checks"] and all(c["met"] in (True, False, None) for c in document["checks"])
    if document["chart"] is not None:  # matplotlib is optional
        assert Path(document["chart"]).stat().st_size > 0
