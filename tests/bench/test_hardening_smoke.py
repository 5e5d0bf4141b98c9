"""`python -m bench hardening` runs its idle, slow, soak and import cases end to end, small (issue 23.18, 23.13).
No timing assertions: only that each case ran and ordinary requests were answered."""

from __future__ import annotations

import re

from bench_support import run_bench


def test_hardening_cases_run_small() -> None:
    done = run_bench(
        "hardening",
        *("--server", "granian", "--cases", "idle,slow,soak", "--timeout", "1"),
        *("--idle-connections", "8", "--slow-clients", "4", "--soak-seconds", "1", "--soak-clients", "2"),
        timeout=120,
    )
    lines = {line.split(":", 1)[0]: line for line in done.stdout.splitlines()}
    assert re.search(r"8/8 answered then idle; meanwhile 20/20 probes answered", lines["idle"]), lines
    assert "closed by the server 8/8" in lines["idle"], lines
    assert re.search(r"4 trickling clients: .*; meanwhile 20/20 probes answered", lines["slow"]), lines
    assert re.search(r"from 2 clients \(\d+/s\), 0 errors or 5xx", lines["soak"]), lines


def test_the_import_case_runs_small() -> None:
    done = run_bench("hardening", "--server", "waitress", "--cases", "import", "--import-events", "2000", timeout=120)
    assert re.search(r"^import \(waitress\): \d+ MiB export of 2,000 events: 200 in ", done.stdout, re.M), done.stdout
