"""The pytest-fixture path: session start-up (LiveServer until the first answer) and the
per-test reset plus one request, as the ``runagents_mock`` fixture does them."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from typing import Any

from .http_client import KeepAliveClient
from .loadgen.pyload import percentile
from .paths import REPO_ROOT
from .workloads import AUTH_HEADERS


def _summary(values: list[float], unit_scale: float) -> dict[str, float | int | None]:
    ordered = sorted(v * unit_scale for v in values)
    return {"n": len(ordered), "median": statistics.median(ordered) if ordered else None,
            "p99": percentile(ordered, 99), "min": ordered[0] if ordered else None,
            "max": ordered[-1] if ordered else None}


def startup_in_process(runs: int) -> dict[str, Any]:
    """create_app + bind + serving thread + first answer, modules already imported (what a
    session pays when the plugin is loaded before the fixture is first used)."""
    from mockserver.testing import LiveServer

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        live = LiveServer().start()
        status, _ = KeepAliveClient(live.url).request("GET", "/api/agents", AUTH_HEADERS)
        times.append(time.perf_counter() - started)
        live.stop()
        if status != 200:
            raise RuntimeError(f"first answer was {status}")
    return _summary(times, 1000)


def startup_cold(runs: int) -> dict[str, Any]:
    """The same in a fresh interpreter, imports included (``python -m bench.fixture_cold``)."""
    samples = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-m", "bench.fixture_cold"], capture_output=True, text=True,
                              cwd=REPO_ROOT, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"cold start-up probe failed: {done.stderr.strip()[-500:]}")
        samples.append(json.loads(done.stdout.strip().splitlines()[-1]))
    out = _summary([s["total_ms"] for s in samples], 1.0)
    for part in ("import_ms", "create_ms", "first_answer_ms"):
        out[part] = statistics.median(s[part] for s in samples)
    return out


def reset_and_request(iterations: int) -> dict[str, Any]:
    """platform.reset() + journal/faults clear, then one GET over a kept-alive connection."""
    from mockserver.testing import LiveServer

    with LiveServer() as live:
        mock = live.mock
        client = KeepAliveClient(live.url)
        reset_only: list[float] = []
        total: list[float] = []
        for i in range(iterations + 20):  # the first 20 warm the connection and caches
            started = time.perf_counter()
            mock.platform.reset()
            mock.journal.clear()
            mock.faults.clear()
            after_reset = time.perf_counter()
            status, _ = client.request("GET", "/api/agents", AUTH_HEADERS)
            finished = time.perf_counter()
            if status != 200:
                raise RuntimeError(f"request after reset answered {status}")
            if i >= 20:
                reset_only.append(after_reset - started)
                total.append(finished - started)
        client.close()
    return {"reset_us": _summary(reset_only, 1e6), "reset_plus_request_us": _summary(total, 1e6)}


def measure(startup_runs: int = 5, reset_iterations: int = 300) -> dict[str, Any]:
    return {
        "startup_ms": startup_in_process(startup_runs),
        "startup_cold_ms": startup_cold(max(1, min(startup_runs, 3))),
        **reset_and_request(reset_iterations),
    }
