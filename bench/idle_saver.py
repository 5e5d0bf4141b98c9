"""``python -m bench idle-saver``: what a ``--state-file`` saver costs while nothing changes,
with N named workspaces (issue 23, item 11). Measured in a fresh process: the workspaces are
created, saved once, then the process's CPU time is read over ``--seconds`` of idleness, with
the saver running at its usual interval. Reported as a percentage of one core."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

_MEASURE = """
import json, sys, time
from pathlib import Path
from mockserver.web.app import create_app
from mockserver.surface.persistence import attach_state_file
app = create_app({"state_file": Path(sys.argv[1])})
workspaces = app.extensions["runagents_mock"].workspaces
for index in range(int(sys.argv[2])):
    workspaces.get(f"w{index}")
saver = attach_state_file(app)
saver.save()  # every workspace written once
time.sleep(1)
cpu, wall = time.process_time(), time.monotonic()
time.sleep(float(sys.argv[3]))
share = (time.process_time() - cpu) / (time.monotonic() - wall)
saver.stop()
print(json.dumps({"workspaces": int(sys.argv[2]), "idle_cpu_percent_of_a_core": round(share * 100, 2)}))
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workspaces", type=int, default=10_000, help="named workspaces (default 10,000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="idle time measured (default 10)")


def run_idle_saver(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-idle-") as work:
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE, str(Path(work) / "state.db"), str(args.workspaces), str(args.seconds)],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return 1
    print(json.loads(done.stdout.strip().splitlines()[-1]))
    return 0
