"""The side-by-side run: each target started alone, seeded, warmed, then loaded per workload."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from . import targets
from .loadgen import LoadGenerator, LoadSpec
from .prism import PrismUnavailable, ensure_prism
from .seeding import http_call, runs_needed, seed
from .server_process import ServerProcess
from .workloads import PLACEHOLDER_RUN_ID, Workload

TARGET_NAMES = ("mock", "prism", "ceiling")


@dataclass(frozen=True)
class Settings:
    duration: float
    concurrency: int
    warmup: float
    threads: int  # waitress threads for both the mock and the ceiling
    log_dir: Path


def _starter(name: str, settings: Settings) -> Callable[[], ServerProcess]:
    if name == "mock":
        return lambda: targets.mock_cli(settings.log_dir, settings.threads)
    if name == "ceiling":
        return lambda: targets.ceiling(settings.log_dir, settings.threads)
    if name == "prism":
        prism_bin = ensure_prism()  # may raise PrismUnavailable
        return lambda: targets.prism(settings.log_dir, prism_bin)
    raise ValueError(f"unknown target {name}")


def load_workloads(server: ServerProcess, run_ids: Sequence[str], workloads: Sequence[Workload],
                   loadgen: LoadGenerator, settings: Settings, target: str) -> list[dict[str, Any]]:
    rows = []
    for workload in workloads:
        def spec(seconds: float) -> LoadSpec:
            return LoadSpec(server.url, workload.method, workload.paths(run_ids), workload.headers,
                            workload.body, seconds, settings.concurrency)

        if settings.warmup > 0:
            loadgen.run(spec(settings.warmup))  # JIT (Prism), caches, connection set-up
        cpu_before = server.cpu_seconds()
        result = loadgen.run(spec(settings.duration))
        cpu_after = server.cpu_seconds()
        cpu_us = None
        if cpu_before is not None and cpu_after is not None and result.requests:
            cpu_us = round((cpu_after - cpu_before) / result.requests * 1e6, 1)
        print(f"  {target:8} {workload.label:28} {result.rps:9.0f} req/s  p50 {_ms(result.p50_ms)}  "
              f"p99 {_ms(result.p99_ms)}  errors {result.errors}  server CPU {cpu_us} us/req", flush=True)
        rows.append({"target": target, "workload": workload.name, "label": workload.label,
                     **result.to_json(), "server_cpu_us_per_request": cpu_us})
    return rows


def _ms(value: float | None) -> str:
    return f"{value:6.2f} ms" if value is not None else "     - ms"


def run_targets(names: Sequence[str], workloads: Sequence[Workload], loadgen: LoadGenerator,
                settings: Settings) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Rows per (target, workload), and per target its status: ok / skipped / failed."""
    rows: list[dict[str, Any]] = []
    status: dict[str, dict[str, Any]] = {}
    for name in names:
        try:
            start = _starter(name, settings)
        except PrismUnavailable as exc:
            print(f"Prism skipped: {exc}", flush=True)
            status[name] = {"status": "skipped", "reason": str(exc)}
            continue
        print(f"starting {name} ...", flush=True)
        try:
            with start() as server:
                if name == "mock":
                    # Enough runs that POST /events never reaches the per-run event cap.
                    run_ids = seed(http_call(server.url),
                                   runs_needed(settings.duration + settings.warmup)).run_ids
                else:
                    run_ids = [PLACEHOLDER_RUN_ID]
                rows += load_workloads(server, run_ids, workloads, loadgen, settings, name)
                status[name] = {"status": "ok", "startup_s": server.startup_seconds, "argv": server.argv}
        except RuntimeError as exc:
            print(f"{name} failed: {exc}", flush=True)
            status[name] = {"status": "failed", "reason": str(exc)}
    return rows, status
