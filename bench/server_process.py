"""A server under test as a child process in its own process group, stopped only by us."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from .http_client import wait_until_answering
from .workloads import AUTH_HEADERS


class ServerProcess:
    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        port: int,
        log_path: Path,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        ready_path: str = "/api/agents",
        ready_timeout: float = 30.0,
    ):
        self.name = name
        self.argv = list(argv)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.cwd = cwd
        self.env = {**os.environ, **(env or {})}
        self.ready_path = ready_path
        self.ready_timeout = ready_timeout
        self.startup_seconds: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        # A file, not a pipe: servers that log every request must never block on one. A new
        # session makes the server its own process-group leader, so stop() reaches the workers
        # that gunicorn/granian fork, and nothing else.
        with open(self.log_path, "wb") as log:
            self._proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.cwd,
                env=self.env,
                start_new_session=True,
            )
        try:
            wait_until_answering(
                self.url,
                self.ready_path,
                AUTH_HEADERS,
                self.ready_timeout,
                alive=lambda: self._proc is not None and self._proc.poll() is None,
            )
        except (RuntimeError, TimeoutError) as exc:
            self.stop()
            raise RuntimeError(f"{self.name} did not start: {exc}\n{self.log_tail()}") from None
        self.startup_seconds = time.perf_counter() - started
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
        # Workers may outlive a leader that exited first; the group id is still ours.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) used so far by every process in the server's group.

        Per request it is a steadier measure than req/s on a shared machine: other load
        slows the server down but hardly changes the work each request costs it.
        """
        if self._proc is None or not Path("/proc/self/stat").exists():
            return None
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
            except OSError:  # the process ended while we looked
                continue
            fields = text[text.rfind(")") + 2 :].split()  # the name in parentheses may hold spaces
            if int(fields[2]) == self._proc.pid:  # process group
                ticks += int(fields[11]) + int(fields[12])  # utime + stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
