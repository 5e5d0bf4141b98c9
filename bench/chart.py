"""A bar chart of req/s per workload and target. matplotlib is a bench-only dependency,
imported lazily: without it the run still writes its JSON."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

COLOURS = {"mock": "#1f77b4", "prism": "#ff7f0e", "ceiling": "#7f7f7f"}


def write_chart(
    rows: Sequence[dict[str, Any]], workloads: Sequence[str], labels: dict[str, str], path: Path
) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: chart skipped (pip install matplotlib into the venv)", flush=True)
        return None
    present = [t for t in COLOURS if any(r["target"] == t for r in rows)]
    if not present:
        print("no results to chart: chart skipped", flush=True)
        return None
    width = 0.8 / max(1, len(present))
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for i, target in enumerate(present):
        values = [next((r["rps"] for r in rows if r["target"] == target and r["workload"] == w), 0) for w in workloads]
        xs = [n + (i - (len(present) - 1) / 2) * width for n in range(len(workloads))]
        bars = ax.bar(xs, values, width, label=target, color=COLOURS[target])
        ax.bar_label(bars, fmt="%.0f", fontsize=7, padding=2)
    ax.set_xticks(range(len(workloads)), [labels[w] for w in workloads], fontsize=8)
    ax.set_ylabel("requests / s (higher is better)")
    ax.set_title("runagents-mock vs Prism vs bare-Flask ceiling (loopback)")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
