"""The OS part of running an agent: a private directory, a process started through the guard
(``guard.py``) with an environment built from scratch, and a thread that keeps its output.

The mock holds the write end of a pipe whose read end only the guard has; when the mock exits
in any way (SIGKILL included) the kernel closes it and the guard kills the agent's process
group. The guard and the agent each run in a new session, never in the mock's process group.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from .models import OutputLog

HERE = Path(__file__).resolve().parent
GUARD = HERE / "guard.py"
LOOPBACK_RUNTIME = HERE / "loopback_runtime.py"


def supported() -> bool:
    """Agents run on POSIX systems (process groups, rlimits, pipes): Linux and macOS."""
    return os.name == "posix"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def user_process_count() -> int:
    """Processes (threads, as the kernel counts RLIMIT_NPROC) of this user, where /proc says."""
    uid, count = os.getuid(), 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    for entry in entries:
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry}/task"))
            except OSError:
                continue
    return count


def write_sources(files: Mapping[str, str]) -> Path:
    """The agent's files in a new private directory (mode 0700). Names that would leave it
    (absolute, ``..``) were refused by the deploy; they are skipped here again."""
    root = Path(tempfile.mkdtemp(prefix="runagents-agent-"))
    for name, text in files.items():
        target = (root / name).resolve()
        if root.resolve() not in target.parents:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


class AgentProcess:
    """One running agent: ``start()``, then ``stop()``; ``on_exit(code)`` runs when it ends by
    itself (not after ``stop()``)."""

    def __init__(
        self,
        env: Mapping[str, str],
        workdir: Path,
        rlimits: Mapping[str, int],
        log: OutputLog,
        sdk_path: str,
        on_exit: Callable[[int], None],
        log_lock: threading.Lock,
    ):
        self.env = dict(env)
        self.workdir = workdir
        self.rlimits = dict(rlimits)
        self.log = log
        self.sdk_path = sdk_path
        self.on_exit = on_exit
        self._log_lock = log_lock
        self._proc: subprocess.Popen[bytes] | None = None
        self._lifeline: int | None = None
        self._stopped = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        read_end, write_end = os.pipe()  # both close-on-exec: only the guard gets read_end
        command = [sys.executable, "-I", str(LOOPBACK_RUNTIME), self.sdk_path]
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", str(GUARD), str(read_end), json.dumps(self.rlimits), "--", *command],
                env=self.env,
                cwd=self.workdir,
                pass_fds=(read_end,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        self._lifeline = write_end
        threading.Thread(target=self._keep_output, name="runagents-agent-output", daemon=True).start()

    def _keep_output(self) -> None:
        proc = self._proc
        assert proc is not None and isinstance(proc.stdout, io.BufferedReader)  # bufsize -1: buffered
        while True:
            chunk = proc.stdout.read1(8192)
            if not chunk:
                break
            with self._log_lock:
                self.log.write(chunk)
        code = proc.wait()
        with self._log_lock:
            self.log.close()
        self._cut_lifeline()
        if not self._stopped:
            self.on_exit(code)

    def stop(self) -> None:
        """Kill the agent and everything it started; wait for the guard; remove the directory."""
        self._stopped = True
        self._cut_lifeline()  # the guard kills the agent's group and exits
        proc = self._proc
        if proc is not None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _cut_lifeline(self) -> None:
        fd, self._lifeline = self._lifeline, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass
