"""Pure-Python fallback load generator: processes x threads, one keep-alive http.client
connection per thread, each with one request in flight (the model wrk uses).

It needs more CPU per request than wrk, and on a small machine it competes with the server
for cores, so its absolute numbers are lower; ratios within one run stay comparable because
every target is driven by the same generator.
"""

from __future__ import annotations

import http.client
import math
import multiprocessing
import os
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from .base import LoadResult, LoadSpec


def percentile(sorted_values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _connection_loop(spec: LoadSpec, offset: int, deadline: float, out: dict[str, Any]) -> None:
    parts = urlsplit(spec.base_url)
    conn: http.client.HTTPConnection | None = None
    latencies: list[float] = []
    errors = 0
    i = offset
    headers = dict(spec.headers)
    while time.perf_counter() < deadline:
        path = spec.paths[i % len(spec.paths)]
        i += 1
        if conn is None:
            conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
        started = time.perf_counter()
        try:
            conn.request(spec.method, path, body=spec.body, headers=headers)
            reply = conn.getresponse()
            reply.read()
            latencies.append(time.perf_counter() - started)
            if reply.status >= 400:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = None
    if conn is not None:
        conn.close()
    out["latencies"] = latencies
    out["errors"] = errors


def _process_main(spec: LoadSpec, connections: int, first: int, go: Any, queue: Any) -> None:
    # Every process starts when all are ready (imported), so the measured windows overlap.
    queue.put(None)
    go.wait()
    deadline = time.perf_counter() + spec.duration
    outs: list[dict[str, Any]] = [{} for _ in range(connections)]
    threads = [
        threading.Thread(target=_connection_loop, args=(spec, first + n, deadline, outs[n])) for n in range(connections)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies = [x for o in outs for x in o.get("latencies", [])]
    queue.put((latencies, sum(o.get("errors", 0) for o in outs)))


class PythonLoad:
    name = "python"

    def __init__(self, processes: int | None = None):
        self.processes = processes or max(1, (os.cpu_count() or 2) // 2)

    def run(self, spec: LoadSpec) -> LoadResult:
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        procs = min(self.processes, spec.concurrency)
        shares = [spec.concurrency // procs + (1 if n < spec.concurrency % procs else 0) for n in range(procs)]
        go = ctx.Event()  # set once every spawned interpreter has imported this module
        workers = [
            ctx.Process(target=_process_main, args=(spec, share, sum(shares[:n]), go, queue))
            for n, share in enumerate(shares)
        ]
        for w in workers:
            w.start()
        for _ in workers:
            queue.get(timeout=60)  # ready
        go.set()
        results = [queue.get(timeout=spec.duration + 60) for _ in workers]
        for w in workers:
            w.join(timeout=10)
        latencies = sorted(x for lat, _ in results for x in lat)
        errors = sum(e for _, e in results)
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
        return LoadResult(
            requests=len(latencies),
            seconds=spec.duration,
            rps=len(latencies) / spec.duration if spec.duration else 0.0,
            p50_ms=p50 * 1000 if p50 is not None else None,
            p99_ms=p99 * 1000 if p99 is not None else None,
            errors=errors,
            detail={
                "processes": procs,
                "p90_ms": (percentile(latencies, 90) or 0) * 1000,
                "max_ms": (latencies[-1] * 1000) if latencies else None,
            },
        )
