"""``python -m bench stacks``: the same app on waitress (N threads), gunicorn gthread
(1 worker, N threads: the mock's state lives in one process) and granian WSGI (1 worker,
N blocking threads), each loaded with the same workloads by the same generator."""

from __future__ import annotations

import argparse
import time
from typing import Any, Callable

from . import targets
from .compare import Settings, load_workloads
from .loadgen import choose
from .report import machine, write_json
from .seeding import http_call, runs_needed, seed
from .server_process import ServerProcess
from .workloads import PLACEHOLDER_RUN_ID, WORKLOADS_BY_NAME

Starter = Callable[..., "ServerProcess | None"]
SERVERS: dict[str, Starter] = {
    "waitress": targets.waitress_threads,
    "gunicorn": targets.gunicorn_gthread,
    "granian": targets.granian_wsgi,
}


def run_stacks(args: argparse.Namespace) -> int:
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = set(servers) - set(SERVERS)
    if unknown:
        raise SystemExit(f"unknown server(s) {sorted(unknown)}: choose from {', '.join(SERVERS)}")
    thread_counts = [int(n) for n in args.thread_counts.split(",")]
    loadgen = choose(args.loadgen)
    settings = Settings(args.duration, args.concurrency, args.warmup, threads=0, log_dir=args.out / "logs")
    workloads = [WORKLOADS_BY_NAME[w] for w in args.workloads]
    print(f"load generator: {loadgen.name}; app: {args.app}; {args.duration:g}s per workload; "
          f"{args.concurrency} connections", flush=True)
    rows: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for server_name in servers:
        for threads in thread_counts:
            server = SERVERS[server_name](settings.log_dir, threads, app=args.app)
            if server is None:
                skipped[server_name] = f"{server_name} is not installed in this venv"
                print(f"{server_name} skipped: not installed (pip install {server_name})", flush=True)
                break
            stack = f"{server_name}/{threads}"
            try:
                with server:
                    run_ids = [PLACEHOLDER_RUN_ID]
                    if args.app == "mock":
                        run_ids = seed(http_call(server.url), runs_needed(args.duration + args.warmup)).run_ids
                    for row in load_workloads(server, run_ids, workloads, loadgen, settings, stack):
                        rows.append({**row, "server": server_name, "threads": threads})
            except RuntimeError as exc:
                print(f"{stack} failed: {exc}", flush=True)
                skipped[stack] = str(exc)
    _print(rows, args.workloads)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = args.out / f"stacks-{args.app}-{stamp}.json"
    write_json({"schema": "runagents-mock-bench-stacks/1", "machine": machine(), "app": args.app,
                "settings": {"duration_s": args.duration, "concurrency": args.concurrency,
                             "warmup_s": args.warmup, "loadgen": loadgen.name},
                "results": rows, "skipped": skipped}, path)
    print(f"\nwrote {path}")
    return 0


def _print(rows: list[dict[str, Any]], workloads: list[str]) -> None:
    print()
    header = f"{'stack':16}" + "".join(f" {w + ' req/s':>18} {'p99 ms':>8} {'CPU us':>7}" for w in workloads)
    print(header)
    print("-" * len(header))
    stacks = list(dict.fromkeys(r["target"] for r in rows))
    for stack in stacks:
        cells = []
        for w in workloads:
            row = next((r for r in rows if r["target"] == stack and r["workload"] == w), None)
            cpu = row and row.get("server_cpu_us_per_request")
            cells.append(f" {row['rps']:18.0f} {row['p99_ms'] or 0:8.2f} {cpu if cpu is not None else '-':>7}"
                         if row else f" {'-':>18} {'-':>8} {'-':>7}")
        print(f"{stack:16}" + "".join(cells))
