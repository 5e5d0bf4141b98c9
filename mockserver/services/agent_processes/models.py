"""The rules for running users' agents: who may start code, how many run, how often they
start, how a crash is retried, and how much of their output is kept. Plain Python, no OS calls."""

from __future__ import annotations

import collections
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Agent phases as the process registry sees them (the console and the control API show them).
NOT_STARTED = "not_started"  # source known, no process yet (restored from state, or not allowed to start)
STARTING = "starting"
RUNNING = "running"
RESTARTING = "restarting"
CRASHED = "crashed"
STOPPED = "stopped"


@dataclass(frozen=True)
class ProcessLimits:
    """Bounds on agent processes; ``serve --run-agents`` uses the defaults (docs/runtime.md)."""

    max_running: int = 8
    starts_per_minute: int = 30
    max_restarts: int = 3  # then the agent is crashed until it is deployed again
    start_timeout_seconds: float = 30.0
    output_bytes: int = 64 * 1024  # the log kept per agent; older lines are dropped
    address_space_bytes: int = 2 * 1024**3  # RLIMIT_AS
    open_files: int = 256  # RLIMIT_NOFILE
    processes: int = 4096  # RLIMIT_NPROC (counted per user by the kernel: see rlimits())
    file_size_bytes: int = 64 * 1024**2  # RLIMIT_FSIZE: what one file the agent writes may hold

    def rlimits(self, user_processes: int = 0) -> dict[str, int]:
        """The rlimits an agent runs under. RLIMIT_NPROC counts all of the user's processes,
        so it is set above what the user already runs, or the agent could not start a thread."""
        return {
            "RLIMIT_AS": self.address_space_bytes,
            "RLIMIT_NOFILE": self.open_files,
            "RLIMIT_NPROC": max(self.processes, user_processes + 256),
            "RLIMIT_FSIZE": self.file_size_bytes,
        }


def may_start_code(keyed: bool, origin: str | None, host: str | None) -> bool:
    """Whether a request may start an agent process (docs/runtime.md, "Running agents").

    Only a request that carried a valid API key (``keyed``: the API checked it) or came from
    the mock's own pages (the console: same origin), never one a page on another origin sent.
    A request without an Origin header is not from a browser page (browsers send one with every
    POST); one with ``Origin: null`` (sandboxed frames, local files) is foreign. The mock's own
    origin must name it by IP address or ``localhost``: a page on a domain that resolves to this
    machine (DNS rebinding) is same-origin to the browser, but not the mock's."""
    if origin is None or origin == "":
        return keyed
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or not host:
        return False
    if parts.netloc.lower() != host.lower():
        return False
    name = (parts.hostname or "").lower()
    if name == "localhost":
        return keyed
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return keyed


def backoff_seconds(restarts: int) -> float:
    """Wait before restart number ``restarts`` (1-based): 0.5 s, 1 s, 2 s, ..., at most 8 s."""
    return min(0.5 * 2.0 ** max(restarts - 1, 0), 8.0)


class StartBudget:
    """At most ``per_minute`` starts in any 60 seconds (a crash loop or a deploy loop cannot
    fork without end)."""

    def __init__(self, per_minute: int, now: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self._now = now
        self._starts: collections.deque[float] = collections.deque()

    def take(self) -> bool:
        now = self._now()
        while self._starts and now - self._starts[0] >= 60.0:
            self._starts.popleft()
        if len(self._starts) >= self.per_minute:
            return False
        self._starts.append(now)
        return True


class OutputLog:
    """An agent's stdout and stderr, as lines, at most ``max_bytes`` of them (oldest dropped)."""

    LINE_BYTES = 4096  # a longer line is cut: one huge line cannot push out everything else

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.lines: collections.deque[str] = collections.deque()
        self.size = 0
        self.dropped_bytes = 0
        self._partial = b""

    def write(self, chunk: bytes) -> None:
        data = self._partial + chunk
        *complete, self._partial = data.split(b"\n")
        if len(self._partial) > self.LINE_BYTES:
            complete.append(self._partial)
            self._partial = b""
        for raw in complete:
            self._add(raw)

    def close(self) -> None:
        if self._partial:
            self._add(self._partial)
            self._partial = b""

    def note(self, text: str) -> None:
        """A line of the mock's own about this agent (started, exited, restarting)."""
        self._add(("[runagents-mock] " + text).encode())

    def _add(self, raw: bytes) -> None:
        if len(raw) > self.LINE_BYTES:
            self.dropped_bytes += len(raw) - self.LINE_BYTES
            raw = raw[: self.LINE_BYTES]
        line = raw.decode("utf-8", errors="replace").rstrip("\r")
        self.lines.append(line)
        self.size += len(raw) + 1
        while self.size > self.max_bytes and self.lines:
            dropped = len(self.lines.popleft().encode("utf-8", errors="replace")) + 1
            self.size -= dropped
            self.dropped_bytes += dropped

    def snapshot(self) -> dict[str, object]:
        return {"lines": list(self.lines), "dropped_bytes": self.dropped_bytes}


@dataclass
class AgentProcessRecord:
    """One agent's process as the registry tracks it (what the console and control API show)."""

    workspace: str
    namespace: str
    name: str
    fingerprint: str  # of its source and environment: a change restarts it
    log: OutputLog
    phase: str = NOT_STARTED
    restarts: int = 0
    port: int | None = None
    pid: int | None = None
    reason: str = ""  # why it is not running (crashed, limit reached, not allowed to start)
    started_at: float | None = None
    generation: int = 0  # bumped on each start: a stale exit callback is ignored
    extra: dict[str, object] = field(default_factory=dict)

    def describe(self) -> dict[str, object]:
        return {
            "workspace": self.workspace,
            "namespace": self.namespace,
            "name": self.name,
            "phase": self.phase,
            "restarts": self.restarts,
            "pid": self.pid,
            "port": self.port,
            "reason": self.reason,
            "log_bytes": self.log.size,
        }
