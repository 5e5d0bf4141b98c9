"""``runagents-mock serve --server granian``: the mock on granian's Rust HTTP server.

About twice waitress' throughput at half the CPU per request (bench/README.md). Granian runs
the app in one worker process (the mock's state lives in that process's memory), so the
settings travel to it in an environment variable and the worker builds its own app, state-file
saver included. ``serve`` has already built one app in the main process to report a bad seed or
state file before anything starts.
"""

from __future__ import annotations

import atexit
import gc
import json
import multiprocessing.util
import os
import socket
import threading
from pathlib import Path
from typing import Any

from flask import Flask

CONFIG_ENV = "RUNAGENTS_MOCK_SERVE_CONFIG"


def serve(config: dict[str, Any], host: str, port: int, threads: int) -> int:
    from granian import Granian
    from granian.constants import Interfaces

    os.environ[CONFIG_ENV] = json.dumps(config, default=str)
    port = port or _free_port(host)
    # Printed as granian starts: unlike waitress the port may take a moment to answer.
    print(f"runagents-mock serving on http://{host}:{port}", flush=True)
    # One thread: more make granian's p99 jump (bench/README.md), and the GIL allows no more work.
    Granian("mockserver.granian_serve:worker_app", factory=True, address=host, port=port,
            interface=Interfaces.WSGI, workers=1, blocking_threads=threads,
            log_enabled=False).serve()
    print("runagents-mock stopped", flush=True)
    return 0


def worker_app() -> Flask:
    """Granian's factory, called in its worker process."""
    from .app import create_app
    from .persistence import attach_state_file

    config = json.loads(os.environ[CONFIG_ENV])
    config["api_keys"] = tuple(config["api_keys"])
    for key in ("seed_file", "state_file"):
        config[key] = Path(config[key]) if config[key] else None
    app = create_app(config)
    if config["state_file"]:
        saver = attach_state_file(app)
        # The last save when the worker ends: granian forks it, and a forked process runs
        # multiprocessing's finalizers on exit but not atexit; a spawned one runs atexit.
        multiprocessing.util.Finalize(app, saver.stop, exitpriority=10)
        atexit.register(saver.stop)
    _exit_with_parent()
    # Objects alive now (spec, validators, app) never die: keep them out of the collector's
    # scans, which otherwise show up as latency spikes on this single-threaded worker.
    gc.freeze()
    return app


def _exit_with_parent() -> None:
    """If the main process is killed (SIGKILL), the worker must not live on serving requests."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            threading.Event().wait(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
