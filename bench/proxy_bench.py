"""``python -m bench proxy``: what the validating proxy costs, next to Prism's.

One upstream (``runagents-mock serve``, seeded), three ways to reach it, measured in turns:
``direct`` (no proxy), ``proxy`` (``runagents-mock proxy --upstream``) and ``prism-proxy``
(``prism proxy SPEC UPSTREAM``, Prism's validating proxy on the same spec). The latency a proxy
adds is its p50/p99 minus the direct ones; throughput is req/s at the same concurrency.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from . import report, targets
from .compare import Settings, measure_once, median_row
from .http_client import free_port
from .paths import REPO_ROOT, SPEC_PATH
from .prism import PrismUnavailable, ensure_prism
from .seeding import http_call, runs_needed, seed
from .server_process import ServerProcess
from .workloads import WORKLOADS_BY_NAME

DEFAULT_WORKLOADS = ("list_agents", "get_run", "add_event", "chat")
TARGETS = ("direct", "proxy", "prism-proxy")


def _proxy(upstream: str, settings: Settings) -> ServerProcess:
    port = free_port()
    script = targets._script("runagents-mock")
    argv = [script] if script else ["python", "-m", "mockserver.web.cli"]
    argv += ["proxy", "--upstream", upstream, "--port", str(port), "--quiet"]
    return ServerProcess("proxy", argv, port, settings.log_dir / "proxy.log", cwd=REPO_ROOT)


def _prism_proxy(upstream: str, settings: Settings, prism_bin: str) -> ServerProcess:
    port = free_port()
    argv = [prism_bin, "proxy", "-h", "127.0.0.1", "-p", str(port), str(SPEC_PATH), upstream]
    return ServerProcess(
        "prism-proxy", argv, port, settings.log_dir / "prism-proxy.log", cwd=REPO_ROOT, ready_timeout=90
    )


def run_proxy_bench(args: argparse.Namespace) -> int:
    from .loadgen import choose

    loadgen = choose(args.loadgen)
    settings = Settings(
        duration=args.duration,
        concurrency=args.concurrency,
        warmup=args.warmup,
        threads=8,
        log_dir=args.out / "logs",
        rounds=max(1, args.rounds),
    )
    workloads = [WORKLOADS_BY_NAME[w] for w in args.workloads]
    status: dict[str, dict[str, Any]] = {}
    rounds: dict[tuple[str, str], list[dict[str, Any]]] = {}
    started = time.time()
    print(
        f"load generator: {loadgen.name}; {args.duration:g}s per workload after {args.warmup:g}s warm-up; "
        f"{args.concurrency} connections; upstream: runagents-mock serve (granian)",
        flush=True,
    )
    with ExitStack() as stack:
        upstream = stack.enter_context(targets.mock_cli(settings.log_dir, "granian", log_name="proxy-upstream"))
        seconds = settings.rounds * (settings.duration + settings.warmup) * len(TARGETS)
        run_ids = seed(http_call(upstream.url), runs_needed(seconds)).run_ids
        servers: dict[str, ServerProcess] = {"direct": upstream}
        starters: dict[str, Callable[[], ServerProcess]] = {"proxy": lambda: _proxy(upstream.url, settings)}
        if not args.no_prism:
            try:
                prism_bin = ensure_prism()
                starters["prism-proxy"] = lambda: _prism_proxy(upstream.url, settings, prism_bin)
            except PrismUnavailable as exc:
                print(f"Prism skipped: {exc}", flush=True)
                status["prism-proxy"] = {"status": "skipped", "reason": str(exc)}
        else:
            status["prism-proxy"] = {"status": "skipped", "reason": "--no-prism"}
        for name, start in starters.items():
            print(f"starting {name} ...", flush=True)
            try:
                servers[name] = stack.enter_context(start())
            except RuntimeError as exc:
                print(f"{name} failed: {exc}", flush=True)
                status[name] = {"status": "failed", "reason": str(exc)}
        for name, server in servers.items():
            status[name] = {"status": "ok", "argv": server.argv}
        for round_no in range(settings.rounds):
            for workload in workloads:
                for name, server in servers.items():
                    warmup = settings.warmup if round_no == 0 else min(settings.warmup, 1.0)
                    row = measure_once(server, run_ids, workload, loadgen, settings, name, warmup)
                    rounds.setdefault((name, workload.name), []).append(row)
    rows = [median_row(r) for r in rounds.values()]
    added = _added_latency(rows, args.workloads)
    _print_table(rows, added, args.workloads)
    document = {
        "schema": "runagents-mock-proxy-bench/1",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "elapsed_s": round(time.time() - started, 1),
        "machine": report.machine(),
        "settings": {
            "duration_s": args.duration,
            "concurrency": args.concurrency,
            "warmup_s": args.warmup,
            "loadgen": loadgen.name,
            "workloads": args.workloads,
            "rounds": args.rounds,
        },
        "targets": status,
        "results": rows,
        "added_latency_ms": added,
    }
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = args.out / f"proxy-{stamp}.json"
    report.write_json(document, path)
    report.write_json(document, args.out / "proxy-latest.json")
    print(f"\nwrote {path}")
    return 1 if any(s["status"] == "failed" for s in status.values()) else 0


def _row(rows: list[dict[str, Any]], target: str, workload: str) -> dict[str, Any] | None:
    return next((r for r in rows if r["target"] == target and r["workload"] == workload), None)


def _added_latency(rows: list[dict[str, Any]], workloads: list[str]) -> dict[str, dict[str, Any]]:
    """Per workload and proxy: its p50/p99 minus the direct p50/p99, in ms."""
    out: dict[str, dict[str, Any]] = {}
    for workload in workloads:
        direct = _row(rows, "direct", workload)
        for target in TARGETS[1:]:
            row = _row(rows, target, workload)
            if direct and row and row["p50_ms"] is not None and direct["p50_ms"] is not None:
                out.setdefault(workload, {})[target] = {
                    "p50_ms": round(row["p50_ms"] - direct["p50_ms"], 3),
                    "p99_ms": round(row["p99_ms"] - direct["p99_ms"], 3),
                    "rps_vs_direct": round(row["rps"] / direct["rps"], 3) if direct["rps"] else None,
                }
    return out


def _print_table(rows: list[dict[str, Any]], added: dict[str, dict[str, Any]], workloads: list[str]) -> None:
    print(
        f"\n{'workload':28} {'target':12} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'+p50 ms':>8} "
        f"{'+p99 ms':>8} {'errors':>6}"
    )
    for workload in workloads:
        for target in TARGETS:
            row = _row(rows, target, workload)
            if row is None:
                continue
            extra = added.get(workload, {}).get(target, {})
            print(
                f"{row['label']:28} {target:12} {row['rps']:8.0f} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f} "
                f"{_num(extra.get('p50_ms')):>8} {_num(extra.get('p99_ms')):>8} {row['errors']:6}"
            )


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:+.2f}"
