"""``runagents-mock serve`` on granian's Rust HTTP server (the default).

Granian handles connections and HTTP in Rust; the mock's WSGI app runs on its RSGI interface through
``rsgi_bridge`` (why not granian's WSGI mode: see there). It serves ~3x waitress' requests at
about a third of the CPU (bench/README.md). Granian runs the app in one worker process (the mock's
state lives in that process's memory), so the settings travel to it in an environment variable
and the worker builds its own app, state-file saver included. ``serve`` has already built one
app in the main process to report a bad seed or state file before anything starts.

The worker, not the main process, prints the URL line once its port answers: a thread polling
the port in the main process could hold an import lock at the moment granian forks, and the
worker would inherit it locked and hang on its first request.
"""

from __future__ import annotations

import atexit
import gc
import json
import multiprocessing.util
import os
import signal
import socket
import struct
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .connection_gate import ConnectionGate, find_listener, port_sockets
from .rsgi_bridge import RSGIBridge
from .serving import announce_serving

if TYPE_CHECKING:
    from ..config import MockConfig

SETTINGS_ENV = "RUNAGENTS_MOCK_SERVE_SETTINGS"


# The app ``serve`` built and restored in the main process. Granian forks its worker, which
# then uses this one instead of loading a large state file a second time.
_BUILT_APP: Any = None


def serve(
    config: dict[str, Any],
    host: str,
    port: int,
    limits: dict[str, Any] | None = None,
    built_app: Any = None,
    log: dict[str, str] | None = None,
) -> int:
    """Serve the mock with ``config`` until SIGINT/SIGTERM; the exit status. ``limits``: see
    ``cli.connection_settings``; ``built_app``: an app already restored from ``config``'s state
    file; ``log``: ``access_log.configure``'s arguments, applied in the worker."""
    global _BUILT_APP
    _BUILT_APP = built_app
    code = run(
        "mockserver.web.granian_serve:worker_app",
        host,
        port,
        {"app": config, "host": host, "port": port, "limits": limits or {}, "log": log},
    )
    if code == 0 and config.get("state_file"):
        from ..surface.persistence import stopped_cleanly

        if not stopped_cleanly(Path(config["state_file"])):
            print(
                f"runagents-mock: state file {config['state_file']}: the last changes could not be saved",
                file=sys.stderr,
            )
            return 1
    return code


def run(factory: str, host: str, port: int, settings: dict[str, Any]) -> int:
    """Serve the RSGI app that ``factory`` ("module:function") builds in granian's worker, which
    reads ``settings`` with ``worker_settings()``. Also used by bench/ for its ceiling app."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings

    try:
        port = _unused_port(host, port)
    except OSError as exc:
        print(f"runagents-mock: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 2
    os.environ[SETTINGS_ENV] = json.dumps({**settings, "host": host, "port": port}, default=str)
    limits = settings.get("limits") or {}
    # granian's header read timeout also closes keep-alive connections idle that long; its
    # backpressure is how many connections one worker serves at once (the rest wait to be accepted).
    http1 = HTTP1Settings(header_read_timeout=int(limits.get("idle_timeout", 30) * 1000))
    # One worker: the mock's state lives in that process's memory.
    server = Granian(
        factory,
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        workers=1,
        log_enabled=False,
        http1_settings=http1,
        backpressure=limits.get("max_connections"),
        backlog=max(1024, limits.get("max_connections", 0)),
    )
    _repeat_stop_signal(server)
    server.serve()
    print("runagents-mock stopped", flush=True)
    return 0


def _repeat_stop_signal(server: Any) -> None:
    """On Ctrl-C/SIGTERM granian sends its worker one SIGTERM and waits for it to end. Now and
    then the worker misses that signal (seen once in about six stops right after 1,100 stalled
    connections dropped at once) and the stop hangs for good; a second SIGTERM always works.
    So, once the stop begins, the signal is sent again every second while the worker lives. A
    worker already stopping ignores it: its handler only sets the event it is already acting on."""
    interrupt = server.signal_handler_interrupt
    started = threading.Event()

    def handler(*args: Any, **kwargs: Any) -> None:
        interrupt(*args, **kwargs)
        if not started.is_set():  # in the main process, after the worker was forked
            started.set()
            threading.Thread(
                target=_signal_workers_until_gone, args=(server,), name="runagents-mock-stop", daemon=True
            ).start()

    server.signal_handler_interrupt = handler  # looked up when granian installs its handlers


def _signal_workers_until_gone(server: Any, every: float = 1.0, attempts: int = 120) -> None:
    pids = [worker.inner.pid for worker in server.wrks]
    for _ in range(attempts):
        time.sleep(every)
        for pid in list(pids):
            try:
                # Not is_alive(): that reaps the process under granian's own join. A worker that
                # has exited but is not yet reaped gets the signal harmlessly.
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pids.remove(pid)
        if not pids:
            return


def worker_settings() -> dict[str, Any]:
    """In the worker: ``run``'s settings. Starts the thread that prints the URL line once the port
    answers, closes connections that never send a byte, and ends the worker if the main process
    dies."""
    # Taken out of the environment: the settings may hold API keys, and granian's WSGI mode
    # (bench/ compares it) copies os.environ into every request's environ.
    settings: dict[str, Any] = json.loads(os.environ.pop(SETTINGS_ENV))
    limits = settings.get("limits") or {}
    threading.Thread(
        target=_announce_then_watch,
        args=(
            settings["host"],
            settings["port"],
            os.getppid(),
            float(limits.get("idle_timeout", 30.0)),
            limits.get("max_connections"),
        ),
        name="runagents-mock-watch",
        daemon=True,
    ).start()
    return settings


def worker_app() -> RSGIBridge:
    """Granian's factory, called in its worker process."""
    from ..surface.control import reads_own_body
    from ..surface.persistence import attach_state_file
    from .app import create_app

    settings = worker_settings()
    if settings.get("log"):  # the worker logs its requests as the main process was told to
        from .access_log import configure

        configure(**settings["log"])
    config = settings["app"]
    config["api_keys"] = tuple(config["api_keys"])
    for key in ("seed_file", "state_file"):
        config[key] = Path(config[key]) if config[key] else None
    app = _BUILT_APP or create_app(config)
    if config["state_file"]:
        saver = attach_state_file(app, app.extensions["runagents_mock"].store if _BUILT_APP else None)
        # The last save when the worker ends: granian forks it, and a forked process runs
        # multiprocessing's finalizers on exit but not atexit; a spawned one runs atexit.
        multiprocessing.util.Finalize(app, saver.stop, exitpriority=10)
        atexit.register(saver.stop)
    # Objects alive now (spec, validators, app) never die: keep them out of the collector's
    # scans, which otherwise show up as latency spikes on this single-threaded worker.
    gc.freeze()
    return RSGIBridge(
        app,
        body_limit=config["max_body_bytes"],
        unlimited=reads_own_body,
        body_timeout=(settings.get("limits") or {}).get("body_timeout", 30.0),
        # Every forwarded tool call and every agent call can wait at once, with room to spare
        # for the blocking calls that are answered by refusals (a busy pool's 503).
        blocking_threads=blocking_threads(app.extensions["runagents_mock"].config),
    )


def blocking_threads(config: MockConfig) -> int:
    """Threads for requests that may wait on another server: every forwarded tool call and
    every agent call can wait at once, with room for the blocking calls answered at once (a
    refusal, a busy pool's 503)."""
    return config.forward_slots + config.agent_slots + 4


def _announce_then_watch(host: str, port: int, parent: int, idle_timeout: float, max_connections: int | None) -> None:
    """Print the URL line once the port answers and start the gate that refuses connections
    beyond ``max_connections``; then, every few seconds, close connections that have not sent
    a byte for ``idle_timeout``, and end this worker if its main process dies (SIGKILL), so it
    cannot live on serving requests."""
    target = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    while True:
        try:
            socket.create_connection((target, port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.01)
    announce_serving(host, port)
    listener = find_listener(port) if max_connections and ConnectionGate.supported() else None
    if listener is not None and max_connections:
        ConnectionGate(listener, max_connections).start()
    interval = min(max(idle_timeout / 4, 0.25), 0.5)
    next_sweep = time.monotonic() + idle_timeout / 2
    while os.getppid() == parent:
        time.sleep(interval)
        if time.monotonic() >= next_sweep:
            close_silent_connections(port, idle_timeout)
            next_sweep = time.monotonic() + idle_timeout / 2
    os._exit(1)


# struct tcp_info (linux/tcp.h): tcpi_last_data_recv (u32, ms) and tcpi_bytes_received (u64).
_TCPI_LAST_DATA_RECV = 52
_TCPI_BYTES_RECEIVED = 128
_TCP_INFO_SIZE = 136


def close_silent_connections(port: int, idle_timeout: float) -> int:
    """Shut down this process's connections on ``port`` that have not sent a single byte in
    ``idle_timeout`` seconds; how many. Linux only (elsewhere 0).

    granian's header read timeout starts with a request's first byte, so a connection that
    never sends one would hold one of its ``--max-connections`` slots forever. Such a
    connection has no request in progress, so closing it loses nothing. The sockets are
    granian's; a shutdown (not a close) on a duplicate of the descriptor ends the connection
    for granian too.
    """
    if sys.platform != "linux":
        return 0
    closed = 0
    limit_ms = idle_timeout * 1000
    for sock in port_sockets(port):
        try:
            if not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_SIZE)
                if len(info) >= _TCPI_BYTES_RECEIVED + 8:
                    (silent_ms,) = struct.unpack_from("I", info, _TCPI_LAST_DATA_RECV)
                    (received,) = struct.unpack_from("Q", info, _TCPI_BYTES_RECEIVED)
                    if received == 0 and silent_ms >= limit_ms:
                        sock.shutdown(socket.SHUT_RDWR)
                        closed += 1
        except OSError:
            pass
        finally:
            sock.close()
    return closed


def _unused_port(host: str, port: int) -> int:
    """``port``, or a free one for 0; OSError when something already listens there.

    Granian binds with SO_REUSEPORT, so a second mock on a busy port would silently share it
    with the first. A plain bind (as waitress does) refuses a port in use.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        if os.name != "nt":  # on Windows SO_REUSEADDR would let this bind a port in use
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        return int(sock.getsockname()[1])
