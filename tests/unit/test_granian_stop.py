"""A stop that granian's one SIGTERM misses is finished by the signal sent again: the worker
below ignores its first SIGTERM, as granian's worker now and then does."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

from mockserver.web.granian_serve import _repeat_stop_signal

DEAF_ONCE = """
import signal, sys, time
count = 0
def on_term(signum, frame):
    global count
    count += 1
    if count == 2:
        sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""


def test_the_stop_signal_is_repeated_until_the_worker_is_gone():
    worker = subprocess.Popen([sys.executable, "-c", DEAF_ONCE], stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().strip() == "ready"
        interrupts = []
        server = SimpleNamespace(
            wrks=[SimpleNamespace(inner=SimpleNamespace(pid=worker.pid))],
            signal_handler_interrupt=lambda *a, **k: interrupts.append(a),
        )
        _repeat_stop_signal(server)
        worker.terminate()  # granian's one SIGTERM: missed
        server.signal_handler_interrupt(15, None)  # what granian's own handler does, then the repeats
        assert worker.wait(timeout=20) == 0  # ended by a repeated SIGTERM, not killed
        assert interrupts == [(15, None)]
    finally:
        worker.kill()
        worker.wait()
