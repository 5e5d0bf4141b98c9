"""``python -m bench scale``: the mock with 0, 100k and 1M stored events, memory-only and with
``--state-file``, side by side.

For each size, one state is built (the bench's usual seed through the API of the memory-only
mock, plus filler runs holding the stored events) and written as a JSON export. The memory-only mock gets it with
``PUT /_mock/state``; the state-file mock starts from it as a JSON state file (migrated to the
store on that first start), is stopped, and is started again from the store, which is the
start-up time reported. Then, workload by workload, both are measured in turn. Reported per
size and mode: req/s and p99 per workload, RSS, store size, start-up time, ``GET /_mock/state``
time. Targets (issue 13) are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from . import report, targets
from .compare import Settings, measure_once
from .seeding import EVENTS_PER_RUN_LIMIT, http_call, runs_needed, seed
from .server_process import ServerProcess
from .workloads import AUTH_HEADERS, WORKLOADS_BY_NAME, Workload

SCHEMA = "runagents-mock-bench-scale/1"
MODES = ("memory", "state-file")
# What issue 13 asks; reported, never asserted.
STATE_FILE_RPS_FACTOR = 0.8
STATE_FILE_P99_FACTOR = 2.0
SIZE_RPS_FACTOR = 0.8
RSS_MB_GOAL = 600.0
STARTUP_S_GOAL = 5.0
BIG = 1_000_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sizes", default="0,100000,1000000", help="stored events per measurement (default 0,100000,1000000)"
    )
    parser.add_argument("--modes", default=",".join(MODES), help="memory, state-file or both (default)")


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


# --- the stored state ---------------------------------------------------------------------


def write_state(path: Path, seeded: dict[str, Any], events: int) -> None:
    """``seeded`` plus filler runs holding ``events`` events (full logs of 10 000), as a JSON
    export. Written in a stream: the events are never all in memory."""
    from mockserver.basics.jsonhttp import iter_json

    state = json.loads(json.dumps(seeded))
    runs = state["runs"]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for number in range(math.ceil(events / EVENTS_PER_RUN_LIMIT)):
        run_id = str(uuid.uuid4())
        runs["runs"].append(
            {
                "id": run_id,
                "agent_id": "bench-agent-01",
                "namespace": "agent-system",
                "user_id": f"filler{number}@example.com",
                "status": "COMPLETED",
                "invoke_url": "http://bench-agent-01.agent-system.svc.cluster.local:8080/invoke",
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
        count = min(EVENTS_PER_RUN_LIMIT, events - number * EVENTS_PER_RUN_LIMIT)
        runs["events"][run_id] = _FillerLog(run_id, count, stamp)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        for chunk in iter_json(state):
            fh.write(chunk)


class _FillerLog(list[bytes]):
    """A run's event log made while it is written out (JSON bytes, as the mock keeps them)."""

    def __init__(self, run_id: str, count: int, stamp: str):
        super().__init__([b""])  # non-empty with a bytes item: iter_json streams it item by item
        self.run_id, self.size, self.stamp = run_id, count, stamp

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[bytes]:
        for seq in range(1, self.size + 1):
            yield json.dumps(
                {
                    "event_id": str(uuid.uuid4()),
                    "run_id": self.run_id,
                    "seq": seq,
                    "type": "AGENT_MESSAGE",
                    "actor": "bench-agent-01",
                    "data": {"content": "a stored answer of ordinary length"},
                    "timestamp": self.stamp,
                },
                separators=(",", ":"),
            ).encode()


# --- measuring ----------------------------------------------------------------------------


def rss_mb(server: ServerProcess) -> float | None:
    """Resident memory of the server's largest process (granian's worker holds the state)."""
    proc = server._proc
    if proc is None or not Path("/proc/self/stat").exists():
        return None
    largest = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            if int(text[text.rfind(")") + 2 :].split()[2]) != proc.pid:
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, ValueError):
            continue
        kb = int(status.split("VmRSS:")[1].split()[0]) if "VmRSS:" in status else 0
        largest = max(largest, kb)
    return round(largest / 1024, 1)


def _http(method: str, url: str, body: bytes | None = None, timeout: float = 900) -> tuple[int, int, float]:
    """Status, body size and seconds of one request."""
    started = time.perf_counter()
    request = urllib.request.Request(
        url, data=body, method=method, headers={**AUTH_HEADERS, "Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        size = len(answer.read())
        return answer.status, size, round(time.perf_counter() - started, 3)


def _store_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())


def _start(log_dir: Path, name: str, extra: Sequence[str] = ()) -> ServerProcess:
    """A started mock (stop it with ``stop()``, not as a context manager, which starts it)."""
    server = targets.mock_cli(log_dir, log_name=name, extra_args=extra)
    server.ready_timeout = 600
    return server.start()


def measure_size(
    size: int, modes: Sequence[str], workloads: Sequence[Workload], loadgen: Any, settings: Settings, work: Path
) -> dict[str, Any]:
    """Both modes at one size: their facts, and one row per (mode, workload)."""
    print(f"\n== {size} stored events ==", flush=True)
    logs = settings.log_dir
    seconds = settings.rounds * (settings.duration + settings.warmup) * 2
    facts: dict[str, dict[str, Any]] = {}
    servers: dict[str, ServerProcess] = {}
    try:
        # The memory-only mock is seeded through the API; its export plus the filler is the state.
        first = _start(logs, f"scale-memory-{size}")
        if "memory" in modes:
            servers["memory"] = first
        try:
            run_ids = seed(http_call(first.url), runs_needed(seconds)).run_ids
            seeded = json.loads(
                urllib.request.urlopen(
                    urllib.request.Request(first.url + "/_mock/state", headers=AUTH_HEADERS), timeout=60
                ).read()
            )
        finally:
            if "memory" not in modes:
                first.stop()
        state_json = work / f"state-{size}.json"
        started = time.perf_counter()
        write_state(state_json, seeded, size)
        print(
            f"  wrote {state_json} ({state_json.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f}s",
            flush=True,
        )
        if "memory" in modes:
            status, _, put_s = _http("PUT", first.url + "/_mock/state", state_json.read_bytes())
            facts["memory"] = {
                "startup_s": round(first.startup_seconds or 0, 3),
                "import_s": put_s,
                "import_status": status,
            }
        if "state-file" in modes:
            store = work / f"store-{size}.db"
            for leftover in (store, Path(f"{store}-wal"), Path(f"{store}-shm"), Path(f"{store}.v1.json")):
                leftover.unlink(missing_ok=True)
            shutil.copyfile(state_json, store)
            migrating = _start(logs, f"scale-migrate-{size}", ["--state-file", str(store)])
            migration_s = migrating.startup_seconds
            migrating.stop()
            Path(f"{store}.v1.json").unlink(missing_ok=True)
            server = servers["state-file"] = _start(logs, f"scale-state-file-{size}", ["--state-file", str(store)])
            # CPU seconds of the start (both processes): steadier than its wall time on a busy machine.
            cpu = server.cpu_seconds()
            facts["state-file"] = {
                "startup_s": round(server.startup_seconds or 0, 3),
                "startup_cpu_s": None if cpu is None else round(cpu, 2),
                "first_start_with_json_migration_s": round(migration_s or 0, 3),
                "store_mb": round(_store_bytes(store) / 1e6, 3),
            }
        for mode, server in servers.items():
            status, size_bytes, export_s = _http("GET", server.url + "/_mock/state")
            facts[mode].update(rss_start_mb=rss_mb(server), export_s=export_s, export_mb=round(size_bytes / 1e6, 3))
            print(f"  {mode:10} {json.dumps(facts[mode])}", flush=True)

        rows = []
        for workload in workloads:
            for mode, server in servers.items():
                row = measure_once(server, run_ids, workload, loadgen, settings, f"{mode}@{size}", settings.warmup)
                rows.append({**row, "mode": mode, "stored_events": size})
        for mode, server in servers.items():
            facts[mode]["rss_end_mb"] = rss_mb(server)
            if mode == "state-file":
                facts[mode]["store_end_mb"] = round(_store_bytes(work / f"store-{size}.db") / 1e6, 3)
    finally:
        for server in servers.values():
            server.stop()
    return {"stored_events": size, "modes": facts, "rows": rows}


# --- the report ---------------------------------------------------------------------------


def _find(rows: Sequence[dict[str, Any]], mode: str, size: int, workload: str) -> dict[str, Any] | None:
    return next(
        (r for r in rows if r["mode"] == mode and r["stored_events"] == size and r["workload"] == workload), None
    )


def checks(sizes: Sequence[dict[str, Any]], workloads: Sequence[str]) -> list[dict[str, Any]]:
    rows = [row for s in sizes for row in s["rows"]]
    largest = max(s["stored_events"] for s in sizes)
    out: list[dict[str, Any]] = []
    for name in workloads:
        mem, disk, zero = (
            _find(rows, "memory", largest, name),
            _find(rows, "state-file", largest, name),
            _find(rows, "memory", 0, name),
        )
        if mem and disk:
            rps, p99 = report._ratio(disk["rps"], mem["rps"]), report._ratio(disk["p99_ms"], mem["p99_ms"])
            cpu = report._ratio(disk["server_cpu_us_per_request"], mem["server_cpu_us_per_request"])
            out.append(
                {
                    "goal": f"{name} at {largest} events: state-file >= {STATE_FILE_RPS_FACTOR:g}x memory req/s, "
                    f"p99 <= {STATE_FILE_P99_FACTOR:g}x",
                    "value": {"rps_ratio": rps, "p99_ratio": p99, "server_cpu_ratio": cpu},
                    "met": rps is not None
                    and p99 is not None
                    and rps >= STATE_FILE_RPS_FACTOR
                    and p99 <= STATE_FILE_P99_FACTOR,
                }
            )
        if mem and zero and largest:
            ratio = report._ratio(mem["rps"], zero["rps"])
            out.append(
                {
                    "goal": f"{name}: memory-only at {largest} events >= {SIZE_RPS_FACTOR:g}x its req/s at 0",
                    "value": ratio,
                    "met": ratio is not None and ratio >= SIZE_RPS_FACTOR,
                }
            )
    for s in sizes:
        if s["stored_events"] < BIG:
            continue
        for mode, facts in s["modes"].items():
            rss = facts.get("rss_end_mb")
            out.append(
                {
                    "goal": f"{mode}: RSS <= {RSS_MB_GOAL:g} MB with {s['stored_events']} events",
                    "value": rss,
                    "met": None if rss is None else rss <= RSS_MB_GOAL,
                }
            )
        start = s["modes"].get("state-file", {}).get("startup_s")
        if start is not None:
            out.append(
                {
                    "goal": f"start-up from a {s['stored_events']}-event store < {STARTUP_S_GOAL:g} s",
                    "value": start,
                    "met": start < STARTUP_S_GOAL,
                }
            )
    return out


def write_chart(sizes: Sequence[dict[str, Any]], workloads: Sequence[str], path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: chart skipped", flush=True)
        return None
    rows = [row for s in sizes for row in s["rows"]]
    series = [(s["stored_events"], mode) for s in sizes for mode in MODES if mode in s["modes"]]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    width = 0.8 / max(1, len(series))
    for ax, key, label in (
        (axes[0], "rps", "requests / s (higher is better)"),
        (axes[1], "p99_ms", "p99 latency, ms (lower is better)"),
    ):
        for i, (size, mode) in enumerate(series):
            values = [(_find(rows, mode, size, w) or {}).get(key) or 0 for w in workloads]
            xs = [n + (i - (len(series) - 1) / 2) * width for n in range(len(workloads))]
            bars = ax.bar(
                xs,
                values,
                width,
                label=f"{size:,} events, {mode}",
                hatch="//" if mode == "state-file" else None,
                alpha=0.9,
            )
            ax.bar_label(bars, fmt="%.0f" if key == "rps" else "%.1f", fontsize=6, padding=1)
        ax.set_xticks(range(len(workloads)), [WORKLOADS_BY_NAME[w].label for w in workloads], fontsize=7)
        ax.set_ylabel(label)
    axes[0].legend(fontsize=7)
    fig.suptitle("runagents-mock with stored events: memory-only vs --state-file")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run_scale(args: argparse.Namespace) -> int:
    from .loadgen import choose

    stamp = time.strftime("%Y%m%d-%H%M%S")
    loadgen = choose(args.loadgen)
    modes = [m for m in args.modes.split(",") if m in MODES]
    settings = Settings(
        duration=args.duration,
        concurrency=args.concurrency,
        warmup=args.warmup,
        threads=8,
        log_dir=args.out / "logs",
        rounds=1,
    )
    workloads = [WORKLOADS_BY_NAME[w] for w in args.workloads]
    work = args.out / "scale-work"
    started = time.time()
    load_before = os.getloadavg()[0]
    print(
        f"load generator: {loadgen.name}; {args.duration:g}s per workload after {args.warmup:g}s warm-up; "
        f"{args.concurrency} connections; sizes {args.sizes}; modes {','.join(modes)}",
        flush=True,
    )
    sizes = [measure_size(size, modes, workloads, loadgen, settings, work) for size in _ints(args.sizes)]
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "elapsed_s": round(time.time() - started, 1),
        "machine": {**report.machine(), "load_before": load_before, "load_after": os.getloadavg()[0]},
        "settings": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "concurrency": args.concurrency,
            "loadgen": loadgen.name,
            "workloads": args.workloads,
            "sizes": _ints(args.sizes),
            "modes": modes,
            "server": "granian (runagents-mock serve default)",
        },
        "sizes": sizes,
        "checks": checks(sizes, args.workloads),
        "chart": None,
    }
    print("\ntargets (reported, not asserted):")
    report.print_checks(document["checks"])
    if not args.no_chart:
        chart = write_chart(sizes, args.workloads, args.out / f"scale-{stamp}.png")
        document["chart"] = str(chart) if chart else None
    json_path = args.out / f"scale-{stamp}.json"
    report.write_json(document, json_path)
    report.write_json(document, args.out / "scale-latest.json")
    if not args.keep_files:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nwrote {json_path}" + (f" and {document['chart']}" if document["chart"] else ""))
    return 0
