"""The pytest-fixture path: session start-up (until the first answer) and the per-test reset
plus one request, as the ``runagents_mock`` fixture does them."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from .http_client import KeepAliveClient
from .loadgen.pyload import percentile
from .paths import CACHE_DIR, REPO_ROOT
from .workloads import AUTH_HEADERS


def _summary(values: list[float], unit_scale: float = 1.0) -> dict[str, Any]:
    ordered = sorted(v * unit_scale for v in values)
    return {
        "n": len(ordered),
        "median": statistics.median(ordered) if ordered else None,
        "p99": percentile(ordered, 99),
        "min": ordered[0] if ordered else None,
        "max": ordered[-1] if ordered else None,
    }


def _probe_env() -> dict[str, str]:
    """The probe's environment: bytecode cached, as an installed package has it. With
    PYTHONDONTWRITEBYTECODE set (some CI images) and no ``__pycache__`` in a clone, every probe
    would compile the mock from source, which no user's session does twice; the bytecode goes
    to ``bench/.cache/pycache`` instead (never next to the sources)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.setdefault("PYTHONPYCACHEPREFIX", str(CACHE_DIR / "pycache"))
    return env


def session_startup(runs: int) -> dict[str, Any]:
    """Fresh interpreters (``python -m bench.fixture_cold``): a session's first start-up,
    imports included, split into its parts (medians). One unmeasured run first writes the
    bytecode and the parsed-document cache a session finds in place."""
    samples = []
    env = _probe_env()
    for n in range(runs + 1):
        done = subprocess.run(
            [sys.executable, "-m", "bench.fixture_cold"],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            timeout=120,
            env=env,
        )
        if done.returncode != 0:
            raise RuntimeError(f"start-up probe failed: {done.stderr.strip()[-800:]}")
        sample = json.loads(done.stdout.strip().splitlines()[-1])
        if sample["status"] != 200:
            raise RuntimeError(f"start-up probe got {sample['status']}")
        if n:  # the first run only warmed the caches
            samples.append(sample)
    out = _summary([s["total_ms"] for s in samples])
    out["via"] = samples[0]["via"]
    for part in ("import_ms", "start_ms", "first_answer_ms", "second_server_ms", "total_cpu_ms"):
        out[part] = statistics.median(s[part] for s in samples)
    return out


def _time_resets(reset: Callable[[], None], url: str, headers: dict[str, str], iterations: int) -> dict[str, Any]:
    client = KeepAliveClient(url)
    reset_only: list[float] = []
    total: list[float] = []
    for i in range(iterations + 20):  # the first 20 warm the connection and caches
        started = time.perf_counter()
        reset()
        after_reset = time.perf_counter()
        status, _ = client.request("GET", "/api/agents", headers)
        finished = time.perf_counter()
        if status != 200:
            raise RuntimeError(f"request after reset answered {status}")
        if i >= 20:
            reset_only.append(after_reset - started)
            total.append(finished - started)
    client.close()
    return {"reset_us": _summary(reset_only, 1e6), "reset_plus_request_us": _summary(total, 1e6)}


def reset_bare(iterations: int) -> dict[str, Any]:
    """``platform.reset()`` + journal/faults clear, then one GET over a kept-alive connection."""
    from mockserver.testkit.live_server import LiveServer

    with LiveServer() as live:
        mock = live.mock

        def reset() -> None:
            mock.platform.reset()
            mock.journal.clear()
            mock.faults.clear()

        return _time_resets(reset, live.url, AUTH_HEADERS, iterations)


def reset_plugin(iterations: int) -> dict[str, Any] | None:
    """The plugin's own ``MockHandle.reset()`` and its response checker on the same request;
    None when the plugin is not there."""
    try:
        from mockserver.testkit.plugin import ServerPool
    except ImportError:
        return None
    pool = ServerPool(strict=True)
    try:
        handle = pool.get()
        return _time_resets(handle.reset, handle.url, dict(handle.headers), iterations)
    finally:
        pool.stop_all()


def measure(startup_runs: int = 5, reset_iterations: int = 500) -> dict[str, Any]:
    bare = reset_bare(reset_iterations)
    return {
        "startup_ms": session_startup(startup_runs),
        "reset_us": bare["reset_us"],
        "reset_plus_request_us": bare["reset_plus_request_us"],
        "plugin_reset": reset_plugin(reset_iterations),
    }
