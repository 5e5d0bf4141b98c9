"""``python -m bench profile``: where a request's time goes inside the mock.

Runs the mock in-process (no sockets, no WSGI server): seeded through the test client, then
each request is a prebuilt WSGI environ handed straight to the app, so the profile holds only
what the app does per request (Flask/Werkzeug plus the mock's own work), not the client's. Prints per-request wall time without the profiler,
then cProfile's top functions by own time and the mock's functions by inclusive time, and
writes a .prof per workload (open with ``python -m pstats`` or snakeviz).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import time
from pathlib import Path
from typing import Any

from .seeding import in_process_call, runs_needed, seed
from .workloads import PLACEHOLDER_RUN_ID, WORKLOADS_BY_NAME, Workload

Func = tuple[str, int, str]


_PREFIX = re.compile(r"^.*?/(?:site-packages|python3\.\d+)/|^.*?/(?=mockserver/)")


def _short(func: Func) -> str:
    filename, line, name = func
    return f"{_PREFIX.sub('', filename)}:{line}({name})" if line else name


def _environs(workload: Workload, run_ids: list[str]) -> list[dict[str, Any]]:
    from werkzeug.test import EnvironBuilder

    return [
        EnvironBuilder(
            path=path, method=workload.method, headers=list(workload.headers.items()), data=workload.body
        ).get_environ()
        for path in workload.paths(run_ids)
    ]


def _requests(app: Any, workload: Workload, environs: list[dict[str, Any]], count: int) -> None:
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)
        return lambda data: None

    body = workload.body or b""
    for i in range(count):
        environ = dict(environs[i % len(environs)])
        environ["wsgi.input"] = io.BytesIO(body)  # a fresh stream, as a server hands over
        for _ in app(environ, start_response):
            pass
        if not statuses[-1].startswith(("200", "201")):
            raise RuntimeError(f"{workload.label} answered {statuses[-1]}")


def _app(which: str, count: int, repeat: int) -> tuple[Any, list[str]]:
    if which == "ceiling":
        from .ceiling_app import create_ceiling_app

        return create_ceiling_app(), [PLACEHOLDER_RUN_ID]
    from mockserver.web.app import create_app

    app = create_app()
    return app, seed(in_process_call(app), runs_needed((repeat + 2) * count / 2000)).run_ids


def profile_workload(
    workload: Workload, count: int, top: int, out_dir: Path, which: str = "mock", repeat: int = 5
) -> dict[str, Any]:
    app, run_ids = _app(which, count, repeat)
    environs = _environs(workload, run_ids)
    _requests(app, workload, environs, 200)  # warm caches before timing
    walls = []
    for _ in range(repeat):  # the fastest of several runs is the least disturbed by other load
        started = time.perf_counter()
        _requests(app, workload, environs, count)
        walls.append((time.perf_counter() - started) / count * 1e6)
    wall_us = min(walls)

    profiler = cProfile.Profile()
    profiler.enable()
    _requests(app, workload, environs, count)
    profiler.disable()
    out_dir.mkdir(parents=True, exist_ok=True)
    prof_path = out_dir / f"profile-{which}-{workload.name}.prof"
    profiler.dump_stats(prof_path)

    stats = pstats.Stats(profiler)
    raw: dict[Func, tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for _, _, tt, _, _ in raw.values())
    by_own = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    mock_funcs = [(f, v) for f, v in raw.items() if "/mockserver/" in f[0]]
    by_inclusive = sorted(mock_funcs, key=lambda kv: kv[1][3], reverse=True)[:top]
    # Own time grouped by package: which layer the cost is in.
    layers: dict[str, float] = {}
    for func, (_, _, tt, _, _) in raw.items():
        layers[_layer(func[0])] = layers.get(_layer(func[0]), 0.0) + tt
    return {
        "app": which,
        "workload": workload.name,
        "label": workload.label,
        "requests": count,
        "wall_us_per_request": wall_us,
        "wall_us_runs": [round(w, 1) for w in walls],
        "profile": str(prof_path),
        "own_time_by_layer": {k: round(v / total * 100, 1) for k, v in sorted(layers.items(), key=lambda kv: -kv[1])},
        "top_own": [
            {
                "function": _short(f),
                "calls_per_request": v[1] / count,
                "own_us_per_request": v[2] / count * 1e6,
                "share_pct": v[2] / total * 100,
            }
            for f, v in by_own
        ],
        "top_mock_inclusive": [
            {"function": _short(f), "calls_per_request": v[1] / count, "inclusive_us_per_request": v[3] / count * 1e6}
            for f, v in by_inclusive
        ],
    }


def _layer(filename: str) -> str:
    """Which package a function's own time belongs to (C builtins count on their own)."""
    if filename.startswith(("~", "<")):
        return "builtins"
    if "/site-packages/" in filename:
        return filename.split("/site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/mockserver/" in filename:
        return "mockserver"
    match = re.search(r"/python3\.\d+/([^/]+)", filename)
    return "stdlib:" + match.group(1).removesuffix(".py") if match else "other"


def run_profile(args: argparse.Namespace) -> int:
    from .report import write_json

    results = []
    for name in args.workloads:
        result = profile_workload(WORKLOADS_BY_NAME[name], args.requests, args.top, args.out, args.app, args.repeat)
        results.append(result)
        print(
            f"\n[{args.app}] {result['label']}: {result['wall_us_per_request']:.0f} us/request in-process "
            f"(no profiler, best of {args.repeat}); own time by layer: "
            + ", ".join(f"{k} {v}%" for k, v in result["own_time_by_layer"].items() if v >= 1)
        )
        print("  top own time (profiled us/request, share):")
        for row in result["top_own"]:
            print(
                f"    {row['own_us_per_request']:7.1f} us {row['share_pct']:5.1f}%  x{row['calls_per_request']:<5.1f} "
                f"{row['function']}"
            )
        print("  mock functions by inclusive time (profiled us/request):")
        for row in result["top_mock_inclusive"]:
            print(f"    {row['inclusive_us_per_request']:7.1f} us  x{row['calls_per_request']:<5.1f} {row['function']}")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = args.out / f"profile-{stamp}.json"
    write_json({"schema": "runagents-mock-bench-profile/1", "results": results}, path)
    print(f"\nwrote {path}")
    return 0
