"""The side-by-side run. All targets are started, then measured in turns: for each round, for
each workload, each target in a row. Interleaving this finely means a burst of other work on
the machine hits every target alike instead of one target's whole run; with several rounds
the median round is reported."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import targets
from .loadgen import LoadGenerator, LoadSpec
from .prism import PrismUnavailable, ensure_prism
from .seeding import http_call, runs_needed, seed
from .server_process import ServerProcess
from .workloads import PLACEHOLDER_RUN_ID, Workload

SERVERS = ("granian", "waitress")  # `runagents-mock serve --server X`; the first is its default


@dataclass(frozen=True)
class Settings:
    duration: float
    concurrency: int
    warmup: float
    threads: int  # waitress threads for both the mock and the ceiling (granian has none)
    log_dir: Path
    rounds: int = 1
    mock_server: str = "granian"  # `runagents-mock serve --server X`; the ceiling runs on the same


def _starter(name: str, settings: Settings) -> Callable[[], ServerProcess]:
    if name == "mock":
        return lambda: targets.mock_cli(settings.log_dir, settings.mock_server, settings.threads)
    if name == "ceiling":
        # The ceiling runs on the mock's server stack, so the ratio shows the mock's own cost.
        return lambda: targets.ceiling(settings.log_dir, settings.mock_server, settings.threads)
    if name == "prism":
        prism_bin = ensure_prism()  # may raise PrismUnavailable
        return lambda: targets.prism(settings.log_dir, prism_bin)
    raise ValueError(f"unknown target {name}")


def measure_once(
    server: ServerProcess,
    run_ids: Sequence[str],
    workload: Workload,
    loadgen: LoadGenerator,
    settings: Settings,
    target: str,
    warmup: float,
) -> dict[str, Any]:
    """Warm up, then one measured run; the row includes the server's CPU time per request."""

    def spec(seconds: float) -> LoadSpec:
        return LoadSpec(
            server.url,
            workload.method,
            workload.paths(run_ids),
            workload.headers,
            workload.body,
            seconds,
            settings.concurrency,
        )

    if warmup > 0:
        loadgen.run(spec(warmup))  # JIT (Prism), caches, connection set-up
    cpu_before = server.cpu_seconds()
    result = loadgen.run(spec(settings.duration))
    cpu_after = server.cpu_seconds()
    cpu_us = None
    if cpu_before is not None and cpu_after is not None and result.requests:
        cpu_us = round((cpu_after - cpu_before) / result.requests * 1e6, 1)
    print(
        f"  {target:16} {workload.label:28} {result.rps:7.0f} req/s  p50 {_ms(result.p50_ms)}  "
        f"p99 {_ms(result.p99_ms)}  errors {result.errors}  server CPU {cpu_us} us/req",
        flush=True,
    )
    return {
        "target": target,
        "workload": workload.name,
        "label": workload.label,
        **result.to_json(),
        "server_cpu_us_per_request": cpu_us,
    }


def _ms(value: float | None) -> str:
    return f"{value:6.2f} ms" if value is not None else "     - ms"


def median_row(rounds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One row from several rounds: medians of the measures, errors and requests summed."""

    def med(key: str) -> Any:
        values = [r[key] for r in rounds if r.get(key) is not None]
        return round(statistics.median(values), 3) if values else None

    return {
        **rounds[0],
        "rps": med("rps"),
        "p50_ms": med("p50_ms"),
        "p99_ms": med("p99_ms"),
        "seconds": sum(r["seconds"] for r in rounds),
        "requests": sum(r["requests"] for r in rounds),
        "errors": sum(r["errors"] for r in rounds),
        "server_cpu_us_per_request": med("server_cpu_us_per_request"),
        "rounds": len(rounds),
        "rps_rounds": [round(r["rps"], 1) for r in rounds],
    }


def run_targets(
    names: Sequence[str], workloads: Sequence[Workload], loadgen: LoadGenerator, settings: Settings
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """mock / prism / ceiling: rows per (target, workload), and per target ok / skipped / failed."""
    starters: dict[str, Callable[[], ServerProcess | None]] = {}
    status: dict[str, dict[str, Any]] = {}
    for name in names:
        try:
            starters[name] = _starter(name, settings)
        except PrismUnavailable as exc:
            print(f"Prism skipped: {exc}", flush=True)
            status[name] = {"status": "skipped", "reason": str(exc)}
    rows, started = run_interleaved(starters, {"mock"}, workloads, loadgen, settings)
    return rows, {**status, **started}


def run_interleaved(
    starters: Mapping[str, Callable[[], ServerProcess | None]],
    stateful: set[str],
    workloads: Sequence[Workload],
    loadgen: LoadGenerator,
    settings: Settings,
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Start every server (seeding those named in ``stateful``), then measure round by round,
    workload by workload, server by server. A starter may answer None: not installed."""
    status: dict[str, dict[str, Any]] = {}
    servers: dict[str, tuple[ServerProcess, list[str]]] = {}
    per_round: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with ExitStack() as stack:
        for name, start in starters.items():
            print(f"starting {name} ...", flush=True)
            try:
                process = start()
                if process is None:
                    status[name] = {"status": "skipped", "reason": "not installed"}
                    continue
                server = stack.enter_context(process)
                run_ids = [PLACEHOLDER_RUN_ID]
                if name in stateful:
                    # Enough runs that POST /events never reaches the mock's per-run event cap.
                    seconds = settings.rounds * (settings.duration + settings.warmup)
                    run_ids = seed(http_call(server.url), runs_needed(seconds)).run_ids
            except RuntimeError as exc:
                print(f"{name} failed: {exc}", flush=True)
                status[name] = {"status": "failed", "reason": str(exc)}
                continue
            servers[name] = (server, run_ids)
            status[name] = {"status": "ok", "startup_s": round(server.startup_seconds or 0, 3), "argv": server.argv}

        for round_no in range(settings.rounds):
            if settings.rounds > 1:
                print(f"round {round_no + 1}/{settings.rounds}", flush=True)
            for workload in workloads:
                for name, (server, run_ids) in servers.items():
                    warmup = settings.warmup if round_no == 0 else min(settings.warmup, 1.0)
                    try:
                        row = measure_once(server, run_ids, workload, loadgen, settings, name, warmup)
                    except RuntimeError as exc:
                        print(f"{name} failed on {workload.label}: {exc}", flush=True)
                        status[name] = {"status": "failed", "reason": str(exc)}
                        continue
                    per_round.setdefault((name, workload.name), []).append(row)
    rows = [median_row(rounds) for rounds in per_round.values()]
    return rows, status
