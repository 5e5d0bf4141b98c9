"""``python -m bench stacks``: the same app on waitress (N threads), gunicorn gthread
(1 worker, N threads: the mock's state lives in one process), granian's own WSGI mode (1 worker,
N blocking threads; kept for comparison) and granian RSGI (the Flask app through
``mockserver.web.rsgi_bridge.RSGIBridge``, 1 worker: what ``runagents-mock serve`` runs by default;
it has no threads, so it runs once and is reported as threads 1), each loaded with the same
workloads by the same generator, interleaved like the main run."""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Callable
from typing import Any

from . import targets
from .compare import Settings, run_interleaved
from .loadgen import choose
from .report import machine, write_json
from .server_process import ServerProcess
from .workloads import WORKLOADS_BY_NAME

SERVERS: dict[str, Callable[..., ServerProcess | None]] = {
    "waitress": targets.waitress_threads,
    "gunicorn": targets.gunicorn_gthread,
    "granian-wsgi": targets.granian_wsgi,
    "granian-rsgi": targets.granian_rsgi,
}
STACKS = tuple(SERVERS)
# Stacks without a thread count: run once, reported as threads 1.
THREADLESS = {"granian-rsgi"}


def run_stacks(args: argparse.Namespace) -> int:
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = set(servers) - set(SERVERS)
    if unknown:
        raise SystemExit(f"unknown server(s) {sorted(unknown)}: choose from {', '.join(SERVERS)}")
    thread_counts = [int(n) for n in args.thread_counts.split(",")]
    loadgen = choose(args.loadgen)
    settings = Settings(
        args.duration, args.concurrency, args.warmup, threads=0, log_dir=args.out / "logs", rounds=max(1, args.rounds)
    )
    workloads = [WORKLOADS_BY_NAME[w] for w in args.workloads]
    print(
        f"load generator: {loadgen.name}; app: {args.app}; {args.duration:g}s per workload; "
        f"{args.concurrency} connections; {settings.rounds} round(s)",
        flush=True,
    )
    starters = {
        f"{server}/{threads}": functools.partial(SERVERS[server], settings.log_dir, threads, app=args.app)
        for server in servers
        for threads in ([1] if server in THREADLESS else thread_counts)
    }
    stateful = set(starters) if args.app == "mock" else set()
    rows, status = run_interleaved(starters, stateful, workloads, loadgen, settings)
    for row in rows:
        row["server"], row["threads"] = row["target"].split("/")[0], int(row["target"].split("/")[1])
    _print(rows, args.workloads, list(starters))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = args.out / f"stacks-{args.app}-{stamp}.json"
    write_json(
        {
            "schema": "runagents-mock-bench-stacks/1",
            "machine": machine(),
            "app": args.app,
            "settings": {
                "duration_s": args.duration,
                "concurrency": args.concurrency,
                "warmup_s": args.warmup,
                "loadgen": loadgen.name,
                "rounds": settings.rounds,
                "servers": servers,
                "thread_counts": thread_counts,
            },
            "results": rows,
            "stacks": status,
        },
        path,
    )
    print(f"\nwrote {path}")
    return 0


def _print(rows: list[dict[str, Any]], workloads: list[str], stacks: list[str]) -> None:
    print()
    header = f"{'stack':16}" + "".join(f" {w + ' req/s':>18} {'p99 ms':>8} {'CPU us':>7}" for w in workloads)
    print(header)
    print("-" * len(header))
    for stack in stacks:
        cells = []
        for w in workloads:
            row = next((r for r in rows if r["target"] == stack and r["workload"] == w), None)
            cpu = row and row.get("server_cpu_us_per_request")
            cells.append(
                f" {row['rps']:18.0f} {row['p99_ms'] or 0:8.2f} {cpu if cpu is not None else '-':>7}"
                if row
                else f" {'-':>18} {'-':>8} {'-':>7}"
            )
        print(f"{stack:16}" + "".join(cells))
