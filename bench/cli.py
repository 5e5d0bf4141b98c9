"""``python -m bench [run|stacks|profile|proxy|scale|store-load|hardening|idle-saver] ...``: the command line of the benchmark."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .compare import SERVERS
from .paths import RESULTS_DIR
from .stacks import STACKS
from .workloads import WORKLOADS, WORKLOADS_BY_NAME

DEFAULT_THREADS = 8  # `runagents-mock serve --threads` default (waitress only)

COMMANDS = ("run", "stacks", "profile", "proxy", "scale", "store-load", "hardening", "idle-saver")


def _names(text: str, allowed: Sequence[str]) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = sorted(set(names) - set(allowed))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)}")
    return names


def _load_args(parser: argparse.ArgumentParser, duration: float) -> None:
    parser.add_argument(
        "--duration", type=float, default=duration, help=f"seconds per measurement (default {duration:g})"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="open keep-alive connections (default 8)")
    # Prism (Node) needs a few seconds of load before its JIT settles; 1 s under-rates it ~2x.
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds of unmeasured load before each measurement (default 3)"
    )
    parser.add_argument(
        "--loadgen",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="wrk if installed (auto), or the pure-Python generator",
    )
    parser.add_argument(
        "--workloads",
        type=lambda t: _names(t, list(WORKLOADS_BY_NAME)),
        default=[w.name for w in WORKLOADS],
        help="comma-separated subset of: " + ", ".join(WORKLOADS_BY_NAME),
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="results folder (default bench/results)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", help="mock vs Prism vs ceiling, plus the fixture path (default)")
    _load_args(run, duration=5.0)
    run.add_argument(
        "--targets",
        type=lambda t: _names(t, ["mock", "prism", "ceiling"]),
        default=["mock", "prism", "ceiling"],
        help="comma-separated subset of mock,prism,ceiling",
    )
    run.add_argument("--no-prism", action="store_true", help="skip Prism (no npm install)")
    run.add_argument(
        "--threads",
        type=int,
        default=None,
        help="waitress threads of the mock and the ceiling (--mock-server waitress only; default 8, "
        "as `runagents-mock serve`)",
    )
    run.add_argument("--no-fixture", action="store_true", help="skip the fixture-path measurement")
    run.add_argument(
        "--fixture-runs", type=int, default=5, help="session start-ups to time, each in a fresh interpreter (default 5)"
    )
    run.add_argument("--reset-iterations", type=int, default=500, help="reset+request samples (default 500)")
    run.add_argument("--no-chart", action="store_true", help="do not draw the PNG")
    run.add_argument(
        "--mock-server",
        choices=SERVERS,
        default=SERVERS[0],
        help="the mock is `runagents-mock serve --server X` as users run it, and the ceiling runs "
        "on the same stack: granian (default, as `serve`: the Flask app through the RSGI "
        "bridge on granian, 1 worker) or waitress (--threads N)",
    )
    run.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure every target and workload this many times, interleaved; "
        "report the median (use 3+ on a shared machine)",
    )

    stacks = sub.add_parser(
        "stacks",
        help="the mock app on waitress, gunicorn gthread, granian WSGI and granian RSGI (the bridge `serve` uses)",
    )
    _load_args(stacks, duration=3.0)
    stacks.set_defaults(workloads=["list_agents", "add_event"])
    stacks.add_argument("--thread-counts", default="1,2,4,8,16", help="threads to try (default 1,2,4,8,16)")
    stacks.add_argument(
        "--servers",
        default=",".join(STACKS),
        help=f"comma-separated subset of {','.join(STACKS)} (default all; granian-rsgi has no "
        "threads and runs once, reported as threads 1)",
    )
    stacks.add_argument("--rounds", type=int, default=1, help="interleaved rounds; the median is reported")
    stacks.add_argument(
        "--app",
        choices=("mock", "ceiling"),
        default="mock",
        help="serve the mock (default) or the constant-answer ceiling app",
    )

    proxy = sub.add_parser(
        "proxy",
        help="latency and throughput added by `runagents-mock proxy`, next to Prism's `prism proxy`, on one upstream",
    )
    _load_args(proxy, duration=3.0)
    proxy.add_argument("--no-prism", action="store_true", help="skip Prism (no npm install)")
    proxy.add_argument("--rounds", type=int, default=1, help="interleaved rounds; the median is reported")
    scale = sub.add_parser("scale", help="0, 100k and 1M stored events, memory-only and with --state-file")
    _load_args(scale, duration=3.0)
    scale.set_defaults(warmup=1.0, concurrency=16)
    scale.add_argument("--no-chart", action="store_true", help="do not draw the PNG")
    scale.add_argument("--keep-files", action="store_true", help="keep the generated states and stores")
    from .scale import add_arguments

    add_arguments(scale)

    store_load = sub.add_parser("store-load", help="CPU seconds to load a --state-file store of N events")
    from .store_load import add_arguments as store_load_arguments

    store_load_arguments(store_load)

    hardening = sub.add_parser(
        "hardening",
        help="hostile clients at size: silent, stalled, idle and slow "
        "connections, large bodies, a soak (docs/reliability.md)",
    )
    from .hardening import add_arguments as hardening_arguments

    hardening_arguments(hardening)

    idle = sub.add_parser("idle-saver", help="CPU a --state-file saver spends while N workspaces sit idle")
    from .idle_saver import add_arguments as idle_saver_arguments

    idle_saver_arguments(idle)

    prof = sub.add_parser("profile", help="cProfile of the mock's hot path on the in-process test client")
    prof.add_argument("--requests", type=int, default=3000, help="requests per profiled workload")
    prof.add_argument("--top", type=int, default=20, help="functions to list per workload")
    prof.add_argument(
        "--workloads",
        type=lambda t: _names(t, list(WORKLOADS_BY_NAME)),
        default=["list_agents", "add_event"],
        help="comma-separated workloads to profile",
    )
    prof.add_argument("--out", type=Path, default=RESULTS_DIR, help="where .prof files go")
    prof.add_argument("--app", choices=("mock", "ceiling"), default="mock", help="profile the mock or the ceiling")
    prof.add_argument("--repeat", type=int, default=5, help="timed runs before profiling; the best is reported")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS and argv[0] not in ("-h", "--help"):
        argv = ["run", *argv]  # `python -m bench --duration 3` means `run`
    args = build_parser().parse_args(argv)
    if args.command == "stacks":
        from .stacks import run_stacks

        return run_stacks(args)
    if args.command == "scale":
        from .scale import run_scale

        return run_scale(args)
    if args.command == "store-load":
        from .store_load import run_store_load

        return run_store_load(args)
    if args.command == "hardening":
        from .hardening import run_hardening

        return run_hardening(args)
    if args.command == "idle-saver":
        from .idle_saver import run_idle_saver

        return run_idle_saver(args)
    if args.command == "profile":
        from .profiling import run_profile

        return run_profile(args)
    if args.command == "proxy":
        from .proxy_bench import run_proxy_bench

        return run_proxy_bench(args)
    return run_comparison(args)


def run_comparison(args: argparse.Namespace) -> int:
    from . import report
    from .chart import write_chart
    from .compare import Settings, run_targets
    from .loadgen import choose

    stamp = time.strftime("%Y%m%d-%H%M%S")
    names = [t for t in args.targets if not (args.no_prism and t == "prism")]
    loadgen = choose(args.loadgen)
    waitress = args.mock_server == "waitress"
    if args.threads is not None and not waitress:
        print(f"note: --threads applies to waitress only; ignored with --mock-server {args.mock_server}", flush=True)
    threads = (DEFAULT_THREADS if args.threads is None else args.threads) if waitress else None
    settings = Settings(
        duration=args.duration,
        concurrency=args.concurrency,
        warmup=args.warmup,
        threads=threads or DEFAULT_THREADS,
        log_dir=args.out / "logs",
        rounds=max(1, args.rounds),
        mock_server=args.mock_server,
    )
    stack = f"waitress, {threads} threads" if waitress else "granian, RSGI bridge, 1 worker"
    print(
        f"load generator: {loadgen.name}; {args.duration:g}s per workload after {args.warmup:g}s warm-up; "
        f"{args.concurrency} connections; mock and ceiling on {stack}; {args.rounds} round(s)",
        flush=True,
    )
    load_before = os.getloadavg()[0]
    if load_before > 0.5:
        print(f"note: load average is {load_before:.1f} before the run; other work will skew the numbers", flush=True)
    started = time.time()
    rows, status = run_targets(names, [WORKLOADS_BY_NAME[w] for w in args.workloads], loadgen, settings)
    if args.no_prism:
        status["prism"] = {"status": "skipped", "reason": "--no-prism"}

    fixture: dict[str, Any] | None = None
    if not args.no_fixture:
        from .fixture_timing import measure

        print("timing the fixture path ...", flush=True)
        fixture = measure(args.fixture_runs, args.reset_iterations)

    labels = {w.name: w.label for w in WORKLOADS}
    load_after = os.getloadavg()[0]
    document: dict[str, Any] = {
        "schema": report.SCHEMA,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "elapsed_s": round(time.time() - started, 1),
        # Other work on the machine skews everything; the 1-minute load average says how much.
        "machine": {**report.machine(), "load_before": load_before, "load_after": load_after},
        "settings": {
            "duration_s": args.duration,
            "concurrency": args.concurrency,
            "warmup_s": args.warmup,
            "loadgen": loadgen.name,
            "workloads": args.workloads,
            "rounds": args.rounds,
            # The mock and the ceiling run on the same server; threads: waitress' (null on granian).
            "mock_server": args.mock_server,
            "ceiling_server": args.mock_server,
            "threads": threads,
        },
        "targets": status,
        "results": rows,
        "ratios": report.ratios(rows, args.workloads),
        "fixture": fixture,
        "checks": report.target_checks(rows, args.workloads, fixture),
        "chart": None,
    }
    report.print_table(rows, args.workloads, labels, status)
    if fixture:
        report.print_fixture(fixture)
    report.print_checks(document["checks"])
    if not args.no_chart:
        chart = write_chart(rows, args.workloads, labels, args.out / f"bench-{stamp}.png")
        document["chart"] = str(chart) if chart else None
    json_path = args.out / f"bench-{stamp}.json"
    report.write_json(document, json_path)
    report.write_json(document, args.out / "latest.json")
    print(f"\nwrote {json_path}" + (f" and {document['chart']}" if document["chart"] else ""))
    failed = [n for n, s in status.items() if s["status"] == "failed"]
    return 1 if failed else 0
