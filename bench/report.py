"""The result document (JSON), the ratios and target checks, and the printed table."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SCHEMA = "runagents-mock-bench/1"

# What issue 5 asks of the mock; reported, never asserted in tests.
PRISM_RPS_FACTOR = 3.0
CEILING_RPS_FACTOR = 0.5  # GET /api/agents only
STARTUP_MS_GOAL = 200.0  # issue 21
RESET_US_GOAL = 2000.0


def _row(rows: Sequence[dict[str, Any]], target: str, workload: str) -> dict[str, Any] | None:
    return next((r for r in rows if r["target"] == target and r["workload"] == workload), None)


def _ratio(a: Any, b: Any) -> float | None:
    """a / b (rounded), or None when either is missing (a target or a figure not measured)."""
    return round(a / b, 3) if a is not None and b else None


def ratios(rows: Sequence[dict[str, Any]], workloads: Sequence[str]) -> dict[str, dict[str, float | None]]:
    out = {}
    for name in workloads:
        mock, prism, ceiling = (_row(rows, t, name) for t in ("mock", "prism", "ceiling"))
        out[name] = {
            "mock_vs_prism_rps": _ratio(mock and mock["rps"], prism and prism["rps"]),
            "mock_vs_ceiling_rps": _ratio(mock and mock["rps"], ceiling and ceiling["rps"]),
            "mock_vs_prism_p99": _ratio(mock and mock["p99_ms"], prism and prism["p99_ms"]),
            # Server CPU per request: steadier than req/s when the machine is shared.
            "mock_vs_ceiling_cpu": _ratio(
                mock and mock.get("server_cpu_us_per_request"), ceiling and ceiling.get("server_cpu_us_per_request")
            ),
        }
    return out


def target_checks(
    rows: Sequence[dict[str, Any]], workloads: Sequence[str], fixture: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Each goal with its measured value and met: true / false / null (not measured)."""
    checks: list[dict[str, Any]] = []
    table = ratios(rows, workloads)
    for name in workloads:
        r = table[name]
        met = None
        if r["mock_vs_prism_rps"] is not None and r["mock_vs_prism_p99"] is not None:
            met = r["mock_vs_prism_rps"] >= PRISM_RPS_FACTOR and r["mock_vs_prism_p99"] <= 1.0
        checks.append(
            {
                "goal": f"{name}: mock >= {PRISM_RPS_FACTOR:g}x Prism req/s, p99 no worse",
                "value": {"rps_ratio": r["mock_vs_prism_rps"], "p99_ratio": r["mock_vs_prism_p99"]},
                "met": met,
            }
        )
    if "list_agents" in workloads:
        value = table["list_agents"]["mock_vs_ceiling_rps"]
        checks.append(
            {
                "goal": f"list_agents: mock >= {CEILING_RPS_FACTOR:g}x ceiling req/s",
                "value": value,
                "met": None if value is None else value >= CEILING_RPS_FACTOR,
            }
        )
    if fixture:
        startup = fixture["startup_ms"]["median"]
        checks.append(
            {
                "goal": f"fixture session start-up < {STARTUP_MS_GOAL:g} ms (median, imports included)",
                "value": startup,
                "met": startup < STARTUP_MS_GOAL,
            }
        )
        reset = fixture["reset_plus_request_us"]["p99"]
        checks.append(
            {"goal": f"reset + one request < {RESET_US_GOAL:g} us (p99)", "value": reset, "met": reset < RESET_US_GOAL}
        )
    return checks


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform()}


def write_json(document: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


def _fmt(value: float | None, spec: str) -> str:
    if value is not None:
        return format(value, spec)
    width = spec.split(".")[0]
    return format("-", f">{width}" if width else "")


def print_table(
    rows: Sequence[dict[str, Any]],
    workloads: Sequence[str],
    labels: dict[str, str],
    target_status: dict[str, dict[str, Any]],
) -> None:
    print()
    print(f"{'workload':28} {'target':8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'CPU us/req':>11}")
    print("-" * 84)
    for name in workloads:
        for target in ("mock", "prism", "ceiling"):
            row = _row(rows, target, name)
            if row is None:
                if target in target_status and target_status[target]["status"] != "ok":
                    print(f"{labels[name]:28} {target:8} {target_status[target]['status']:>9}")
                continue
            print(
                f"{labels[name]:28} {target:8} {row['rps']:9.0f} {_fmt(row['p50_ms'], '8.2f')} "
                f"{_fmt(row['p99_ms'], '8.2f')} {row['errors']:7d} {_fmt(row.get('server_cpu_us_per_request'), '11.0f')}"
            )
    print()
    table = ratios(rows, workloads)
    print(
        f"{'workload':28} {'mock/Prism req/s':>17} {'mock/Prism p99':>15} {'mock/ceiling req/s':>19} "
        f"{'mock/ceiling CPU':>17}"
    )
    print("-" * 100)
    for name in workloads:
        r = table[name]
        print(
            f"{labels[name]:28} {_fmt(r['mock_vs_prism_rps'], '17.2f')} {_fmt(r['mock_vs_prism_p99'], '15.2f')} "
            f"{_fmt(r['mock_vs_ceiling_rps'], '19.2f')} {_fmt(r['mock_vs_ceiling_cpu'], '17.2f')}"
        )


def print_fixture(fixture: dict[str, Any]) -> None:
    s = fixture["startup_ms"]
    r, t = fixture["reset_us"], fixture["reset_plus_request_us"]
    print()
    print(f"fixture path (via {s['via']})")
    print(
        f"  session start-up     : median {s['median']:.1f} ms (import {s['import_ms']:.0f} + app and server "
        f"{s['start_ms']:.0f} + first answer {s['first_answer_ms']:.1f}; n={s['n']}); "
        f"a second server in the session {s['second_server_ms']:.1f} ms"
    )
    print(f"  reset only           : median {r['median']:.1f} us, p99 {r['p99']:.1f} us")
    print(f"  reset + one request  : median {t['median']:.0f} us, p99 {t['p99']:.0f} us (n={t['n']})")
    plugin = fixture.get("plugin_reset")
    if plugin:
        pt = plugin["reset_plus_request_us"]
        print(
            f"  same via MockHandle.reset() and the response checker: median {pt['median']:.0f} us, "
            f"p99 {pt['p99']:.0f} us"
        )


def print_checks(checks: Sequence[dict[str, Any]]) -> None:
    print()
    print("targets")
    for check in checks:
        mark = {True: "met", False: "NOT met", None: "not measured"}[check["met"]]
        print(f"  [{mark:>12}] {check['goal']}: {check['value']}")
