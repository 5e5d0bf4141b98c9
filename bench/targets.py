"""How each server under test is started: the mock as users run it, Prism, the ceiling (on the
mock's server stack), and the alternative serving stacks for the same mock app."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from .http_client import free_port
from .paths import REPO_ROOT, SPEC_PATH
from .server_process import ServerProcess

BIN_DIR = Path(sys.executable).parent


def _script(name: str) -> str | None:
    """A console script of this venv (next to the interpreter), else one on PATH."""
    local = BIN_DIR / name
    return str(local) if local.exists() else shutil.which(name)


def mock_cli(
    log_dir: Path, server: str = "granian", threads: int = 8, log_name: str = "mock", extra_args: Sequence[str] = ()
) -> ServerProcess:
    """``runagents-mock serve --port N --server X`` exactly as a user starts it; ``--threads T``
    only for waitress (granian has no thread setting); ``extra_args`` such as ``--state-file``."""
    port = free_port()
    script = _script("runagents-mock")
    argv = [script] if script else [sys.executable, "-m", "mockserver.web.cli"]
    # No access log (on by default): the bench measures the mock, not the log's writes.
    argv += ["serve", "--port", str(port), "--server", server, "--log-level", "warning"]
    if server == "waitress":
        argv += ["--threads", str(threads)]
    argv += list(extra_args)
    return ServerProcess("mock", argv, port, log_dir / f"{log_name}.log", cwd=REPO_ROOT)


def ceiling(log_dir: Path, server: str = "granian", threads: int = 8, log_name: str = "ceiling") -> ServerProcess:
    """The constant-answer app on the same server stack as the mock (``bench/ceiling_app.py``)."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.ceiling_app", "--port", str(port), "--server", server]
    if server == "waitress":
        argv += ["--threads", str(threads)]
    return ServerProcess("ceiling", argv, port, log_dir / f"{log_name}.log", cwd=REPO_ROOT)


def prism(log_dir: Path, prism_bin: str) -> ServerProcess:
    port = free_port()
    argv = [prism_bin, "mock", "-h", "127.0.0.1", "-p", str(port), str(SPEC_PATH)]
    # Node start-up plus parsing the spec takes a few seconds.
    return ServerProcess("prism", argv, port, log_dir / "prism.log", cwd=REPO_ROOT, ready_timeout=90)


# --- alternative serving stacks (python -m bench stacks) ------------------------------------

# The WSGI app factory each stack serves: the mock, or the ceiling to see the server's own cost.
FACTORIES = {"mock": "mockserver.web.app:create_app", "ceiling": "bench.ceiling_app:create_ceiling_app"}


def waitress_threads(log_dir: Path, threads: int, app: str = "mock") -> ServerProcess:
    """``serve --server waitress --threads N`` (or the ceiling on the same)."""
    start = mock_cli if app == "mock" else ceiling
    return start(log_dir, "waitress", threads, log_name=f"waitress-{app}-{threads}")


def granian_rsgi(log_dir: Path, threads: int, app: str = "mock") -> ServerProcess:
    """``serve --server granian``: the app through ``RSGIBridge`` on granian, one worker (or the
    ceiling on the same). ``threads`` does not apply: the bridge calls the app on the event loop."""
    start = mock_cli if app == "mock" else ceiling
    return start(log_dir, "granian", log_name=f"granian-rsgi-{app}")


def gunicorn_gthread(log_dir: Path, threads: int, app: str = "mock") -> ServerProcess | None:
    script = _script("gunicorn")
    if script is None:
        return None
    port = free_port()
    # One worker: the mock keeps its state in process memory, so more workers would split it.
    argv = [
        script,
        "--worker-class",
        "gthread",
        "--workers",
        "1",
        "--threads",
        str(threads),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        f"{FACTORIES[app]}()",
    ]
    return ServerProcess(
        f"gunicorn-gthread-{threads}", argv, port, log_dir / f"gunicorn-{app}-{threads}.log", cwd=REPO_ROOT
    )


def granian_wsgi(log_dir: Path, threads: int, app: str = "mock") -> ServerProcess | None:
    """Granian's own WSGI mode, N blocking threads (what ``serve --server granian`` ran before the
    RSGI bridge; kept for comparison)."""
    script = _script("granian")
    if script is None:
        return None
    port = free_port()
    argv = [
        script,
        "--interface",
        "wsgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--blocking-threads",
        str(threads),
        "--no-access-log",
        "--log-level",
        "warning",
        "--factory",
        FACTORIES[app],
    ]
    return ServerProcess(
        f"granian-wsgi-{threads}", argv, port, log_dir / f"granian-wsgi-{app}-{threads}.log", cwd=REPO_ROOT
    )
