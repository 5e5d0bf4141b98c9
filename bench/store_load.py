"""``python -m bench store-load``: CPU seconds a start spends loading a ``--state-file`` store of
N run events, measured in a fresh process (so on a shared machine it says what the load costs,
whatever the neighbours do to the wall clock).

The store is built directly through a platform (runs of 10,000 events, as ``bench scale``'s
filler), saved by the store itself, then loaded the way ``serve`` does: ``create_app`` and
``restore_state_file``. Reported: CPU seconds for imports, ``create_app``, the load itself and
the whole process, and its peak RSS. Start-up of a served mock (to its first answer) is
``bench scale``'s figure; this one isolates the store.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

EVENTS_PER_RUN = 10_000

_MEASURE = """
import resource, sys, time
t0 = time.process_time()
from pathlib import Path
from mockserver.web.app import create_app
from mockserver.surface.persistence import restore_state_file
t1 = time.process_time()
app = create_app({"state_file": Path(sys.argv[1])})
t2 = time.process_time()
restore_state_file(app).close()
t3 = time.process_time()
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"imports_cpu_s": round(t1 - t0, 3), "create_app_cpu_s": round(t2 - t1, 3),
                  "load_cpu_s": round(t3 - t2, 3), "process_cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
                  "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}))
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events", type=int, default=1_000_000, help="stored run events (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="loads measured (default 3; the least CPU wins)")
    parser.add_argument(
        "--store",
        type=Path,
        help="measure this store instead of building one (it is loaded "
        "once first: a store of an older format is migrated by that load)",
    )


def build_store(path: Path, events: int) -> None:
    """A store holding ``events`` run events (and their runs), written by the store itself."""
    from mockserver.surface.persistence import Store
    from mockserver.web.app import create_app

    server = create_app({}).extensions["runagents_mock"]
    store = Store(path)
    store.open(server)
    runs = server.platform.runs
    stamp = "2026-11-30T00:00:00Z"
    for first in range(0, events, EVENTS_PER_RUN):
        run_id = str(uuid.uuid4())
        runs.runs[run_id] = {
            "id": run_id,
            "agent_id": "bench-agent-01",
            "namespace": "agent-system",
            "user_id": f"filler{first}@example.com",
            "status": "COMPLETED",
            "invoke_url": "http://bench-agent-01.agent-system.svc.cluster.local:8080/invoke",
            "created_at": stamp,
            "updated_at": stamp,
        }
        runs.events[run_id] = [
            json.dumps(
                {
                    "event_id": str(uuid.uuid4()),
                    "run_id": run_id,
                    "seq": seq,
                    "type": "AGENT_MESSAGE",
                    "actor": "bench-agent-01",
                    "data": {"content": "a stored answer of ordinary length"},
                    "timestamp": stamp,
                },
                separators=(",", ":"),
            ).encode()
            for seq in range(1, min(EVENTS_PER_RUN, events - first) + 1)
        ]
    server.platform.recount_budget()
    store.save()
    store.close()


def measure(path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", "import json\n" + _MEASURE, str(path)], capture_output=True, text=True, check=True
    )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def run_store_load(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-store-") as work:
        path = args.store
        if path is None:
            path = Path(work) / "state.db"
            print(f"building a store of {args.events:,} events ...", flush=True)
            build_store(path, args.events)
        else:
            print(f"first load of {path} (migrates an older format): {measure(path)}", flush=True)
        runs = [measure(path) for _ in range(max(1, args.repeat))]
        for result in runs:
            print(json.dumps(result))
        best = min(runs, key=lambda r: r["process_cpu_s"])
        print(
            f"best: load {best['load_cpu_s']} s CPU, whole process {best['process_cpu_s']} s CPU, "
            f"peak RSS {best['peak_rss_mb']} MB"
        )
    return 0
