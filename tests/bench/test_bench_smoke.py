"""`python -m bench` runs end to end (about 1 s per target and workload, Prism skipped) and
writes a well-formed JSON result: on its default server stack (granian, through the RSGI bridge,
for the mock and the ceiling alike), and `python -m bench stacks` on granian RSGI and waitress.
No timing assertions: this machine's speed is not under test, only that every workload reached
every target and was answered without errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench_support import REPO_ROOT, SHORT, run_bench

sys.path.insert(0, str(REPO_ROOT))  # bench/ is not an installed package

from bench import targets

WORKLOADS = {"list_agents", "get_run", "add_event", "chat"}


def _check_rows(rows: list[dict]) -> None:
    for row in rows:
        assert isinstance(row["requests"], int) and row["requests"] > 0, row
        assert row["rps"] > 0 and row["seconds"] > 0, row
        assert 0 <= row["p50_ms"] <= row["p99_ms"], row
        assert row["errors"] == 0, row  # a wrong id or body would show here as 4xx


def _option(argv: list[str], flag: str) -> str | None:
    return argv[argv.index(flag) + 1] if flag in argv else None


def test_bench_runs_and_writes_well_formed_json(tmp_path: Path) -> None:
    run_bench(*SHORT, "--no-prism", "--fixture-runs", "1", "--reset-iterations", "20", "--out", str(tmp_path))
    document = json.loads((tmp_path / "latest.json").read_text())

    assert document["schema"] == "runagents-mock-bench/1"
    settings = document["settings"]
    assert settings["loadgen"] in ("wrk", "python")
    # The default: `runagents-mock serve`'s own default server, for the ceiling too; no threads.
    assert settings["mock_server"] == settings["ceiling_server"] == "granian"
    assert settings["threads"] is None
    assert document["targets"]["mock"]["status"] == "ok"
    assert document["targets"]["ceiling"]["status"] == "ok"
    mock_argv, ceiling_argv = document["targets"]["mock"]["argv"], document["targets"]["ceiling"]["argv"]
    assert mock_argv[1:2] == ["serve"] or mock_argv[1:4] == ["-m", "mockserver.web.cli", "serve"], mock_argv
    assert _option(mock_argv, "--server") == "granian" and "--threads" not in mock_argv
    assert "bench.ceiling_app" in ceiling_argv and _option(ceiling_argv, "--server") == "granian"
    assert "--threads" not in ceiling_argv
    assert document["targets"]["prism"] == {"status": "skipped", "reason": "--no-prism"}

    rows = document["results"]
    assert {(r["target"], r["workload"]) for r in rows} == {(t, w) for t in ("mock", "ceiling") for w in WORKLOADS}
    _check_rows(rows)

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


def test_stacks_runs_granian_rsgi_once_and_waitress_per_thread_count(tmp_path: Path) -> None:
    run_bench(
        "stacks",
        *("--servers", "granian-rsgi,waitress", "--thread-counts", "1,2", "--workloads", "list_agents"),
        *SHORT,
        "--out",
        str(tmp_path),
    )
    (path,) = tmp_path.glob("stacks-mock-*.json")
    document = json.loads(path.read_text())
    stacks = {"granian-rsgi/1", "waitress/1", "waitress/2"}  # granian-rsgi has no threads: once
    assert set(document["stacks"]) == stacks
    assert all(s["status"] == "ok" for s in document["stacks"].values()), document["stacks"]
    assert _option(document["stacks"]["granian-rsgi/1"]["argv"], "--server") == "granian"
    rows = document["results"]
    assert {(r["target"], r["workload"]) for r in rows} == {(s, "list_agents") for s in stacks}
    _check_rows(rows)


def test_waitress_targets_pass_threads_and_granian_ones_do_not(tmp_path: Path) -> None:
    # Built, not started: only the command lines are checked.
    for start in (targets.mock_cli, targets.ceiling):
        waitress = start(tmp_path, "waitress", 3).argv
        assert _option(waitress, "--server") == "waitress" and _option(waitress, "--threads") == "3"
        granian = start(tmp_path, "granian", 3).argv
        assert _option(granian, "--server") == "granian" and "--threads" not in granian
    assert "--threads" not in targets.granian_rsgi(tmp_path, 8, app="ceiling").argv
    assert _option(targets.waitress_threads(tmp_path, 4, app="ceiling").argv, "--threads") == "4"


def test_bench_proxy_runs_and_writes_well_formed_json(tmp_path: Path) -> None:
    run_bench("proxy", *SHORT, "--no-prism", "--workloads", "list_agents", "--out", str(tmp_path))
    document = json.loads((tmp_path / "proxy-latest.json").read_text())
    assert document["schema"] == "runagents-mock-proxy-bench/1"
    assert document["targets"]["prism-proxy"] == {"status": "skipped", "reason": "--no-prism"}
    assert "proxy" in document["targets"]["proxy"]["argv"]
    rows = document["results"]
    assert {(r["target"], r["workload"]) for r in rows} == {("direct", "list_agents"), ("proxy", "list_agents")}
    _check_rows(rows)
    assert set(document["added_latency_ms"]["list_agents"]) == {"proxy"}


def test_scale_runs_both_modes_and_writes_well_formed_json(tmp_path: Path) -> None:
    run_bench(
        "scale", "--sizes", "150", "--workloads", "get_run,add_event", *SHORT, "--no-chart", "--out", str(tmp_path)
    )
    document = json.loads((tmp_path / "scale-latest.json").read_text())
    assert document["schema"] == "runagents-mock-bench-scale/1"
    (size,) = document["sizes"]
    assert size["stored_events"] == 150
    memory, state_file = size["modes"]["memory"], size["modes"]["state-file"]
    assert memory["import_status"] == 200
    assert state_file["store_mb"] > 0 and state_file["startup_s"] > 0
    for facts in (memory, state_file):
        assert facts["export_mb"] > 0 and facts["rss_start_mb"] > 0 and facts["rss_end_mb"] > 0
    rows = size["rows"]
    assert {(r["mode"], r["workload"]) for r in rows} == {
        (m, w) for m in ("memory", "state-file") for w in ("get_run", "add_event")
    }
    _check_rows(rows)
    assert not (tmp_path / "scale-work").exists()  # the generated states are removed
