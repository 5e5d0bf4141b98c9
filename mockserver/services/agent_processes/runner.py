"""The agent runner: which deployed source agents run, started, replaced and stopped as the
platform's agents change (one per mock, shared by its workspaces)."""

from __future__ import annotations

import atexit
import hashlib
import ipaddress
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...basics.errors import ApiError
from ...spec.paths import runtime_prefix
from ..runtime.models import agent_env
from . import supervisor
from .models import (
    CRASHED,
    NOT_STARTED,
    RESTARTING,
    RUNNING,
    STARTING,
    STOPPED,
    AgentProcessRecord,
    OutputLog,
    ProcessLimits,
    StartBudget,
    backoff_seconds,
)

if TYPE_CHECKING:
    from ...config import MockConfig
    from ..ports import PlatformPort

log = logging.getLogger("runagents_mock")
Key = tuple[str, str, str]  # workspace, namespace, name


def digest(data: dict[str, Any]) -> str:
    """A digest of JSON data (an agent's source and environment)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def default_sdk_path() -> str:
    """Where this Python finds the ``runagents`` package ('' when it does not: the agent's
    start then fails with the import error in its log)."""
    from importlib import util

    spec = util.find_spec("runagents")
    if spec is None or not spec.submodule_search_locations:
        return ""
    return str(Path(list(spec.submodule_search_locations)[0]).parent)


def refuse_exposed_agents(run_agents: bool, host: str, has_keys: bool) -> str | None:
    """Why ``serve`` must not start, or None: running agents on an address others can reach,
    with no API key required, would let anyone on the network run code here."""
    if not run_agents or has_keys:
        return None
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return None
    return (
        f"--run-agents on --host {host} needs --api-key or --workspace-key: without a key anyone "
        "who can reach this address could deploy code and have it run here"
    )


def start_agent_runner(config: MockConfig) -> AgentRunner | None:
    """The runner for an app with ``run_agents`` (None without): its agents stop when the
    process exits normally; the guards stop them when it does not."""
    if not config.run_agents:
        return None
    if not supervisor.supported():
        raise ValueError("--run-agents needs a POSIX system (Linux or macOS)")
    runner = AgentRunner(ProcessLimits(max_running=config.max_running_agents), config.agent_sdk)
    atexit.register(runner.stop_all)
    return runner


class AgentRunner:
    def __init__(self, limits: ProcessLimits | None = None, sdk_path: str | None = None):
        self.limits = limits or ProcessLimits()
        self.sdk_path = sdk_path if sdk_path is not None else default_sdk_path()
        self.budget = StartBudget(self.limits.starts_per_minute)
        self.records: dict[Key, AgentProcessRecord] = {}
        self._processes: dict[Key, supervisor.AgentProcess] = {}
        self._ready: dict[Key, threading.Event] = {}
        self._lock = threading.RLock()
        self._log_lock = threading.Lock()
        self._closed = False

    # --- what the platform tells it ---------------------------------------------------

    def deployed(self, platform: PlatformPort, namespace: str, name: str, may_start: bool, base_url: str) -> None:
        """An agent was deployed (or redeployed): the old process goes; the new source starts
        now when the request may start code, else on its first invoke that may."""
        key = (platform.workspace, namespace, name)
        self.stop(*key)
        source = platform.agents.source_of(namespace, name)
        if source is None or not may_start:
            return
        try:
            self._start(platform, key, source, base_url)
        except ApiError as exc:  # a limit: the deploy stands, the agent starts on a later invoke
            with self._lock:
                record = AgentProcessRecord(
                    *key, fingerprint="", log=OutputLog(self.limits.output_bytes), reason=exc.message
                )
                record.log.note("not started: " + exc.message)
                self.records.setdefault(key, record)

    def ensure(self, platform: PlatformPort, namespace: str, name: str, may_start: bool, base_url: str) -> str | None:
        """The URL of the agent's running process for an invoke: started now if it has source
        and none runs (and the request may start code); None for an agent without source."""
        key = (platform.workspace, namespace, name)
        source = platform.agents.source_of(namespace, name)
        if source is None:
            return None
        wanted = self._fingerprint(platform, namespace, name, source)
        with self._lock:
            record = self.records.get(key)
            if record is not None and record.fingerprint != wanted:
                # New source, or a config change since it started (system prompt, tools,
                # models: PUT /api/v1/agents/{name}/config): the platform rolls the pod.
                self.stop(*key)
                record = None
            if record is None or record.phase in (NOT_STARTED, STOPPED):
                if not may_start:
                    raise ApiError(
                        502,
                        f"failed to reach agent: agent {namespace}/{name} is not running "
                        "(this request may not start it)",
                    )
                self._start(platform, key, source, base_url)
                record = self.records[key]
            if record.phase == CRASHED:
                raise ApiError(502, f"failed to reach agent: agent {namespace}/{name} crashed: {record.reason}")
            ready = self._ready[key]
        if not ready.wait(self.limits.start_timeout_seconds):
            raise ApiError(
                502,
                f"failed to reach agent: agent {namespace}/{name} did not start within "
                f"{self.limits.start_timeout_seconds:g}s",
            )
        with self._lock:
            record = self.records.get(key)
            if record is None or record.phase != RUNNING:
                reason = record.reason if record else "stopped"
                raise ApiError(502, f"failed to reach agent: agent {namespace}/{name} is not running: {reason}")
            return f"http://127.0.0.1:{record.port}"

    def url_of(self, workspace: str, namespace: str, name: str) -> str | None:
        """The running agent's URL, or None (no start: used by the resume worker). Lock-free: the
        caller may hold its platform's lock, which the runner takes after its own."""
        record = self.records.get((workspace, namespace, name))
        return f"http://127.0.0.1:{record.port}" if record and record.phase == RUNNING else None

    def stop(self, workspace: str, namespace: str, name: str) -> None:
        with self._lock:
            process = self._processes.pop((workspace, namespace, name), None)
            record = self.records.pop((workspace, namespace, name), None)
            if record is not None:
                record.generation += 1
                record.phase = STOPPED
            event = self._ready.pop((workspace, namespace, name), None)
        if event is not None:
            event.set()
        if process is not None:
            process.stop()

    def stop_workspace(self, workspace: str) -> None:
        for key in [k for k in list(self.records) if k[0] == workspace]:
            self.stop(*key)

    def stop_all(self) -> None:
        self._closed = True
        for key in list(self.records):
            self.stop(*key)

    # --- what the console and the control API show -----------------------------------

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [record.describe() for _, record in sorted(self.records.items())]

    def output(self, workspace: str, namespace: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            record = self.records.get((workspace, namespace, name))
        if record is None:
            return None
        with self._log_lock:
            return {**record.describe(), **record.log.snapshot()}

    # --- starting and restarting --------------------------------------------------------

    def _start(
        self,
        platform: PlatformPort,
        key: Key,
        source: dict[str, Any],
        base_url: str,
        record: AgentProcessRecord | None = None,
    ) -> None:
        with self._lock:
            if self._closed:
                raise ApiError(502, "failed to reach agent: the mock is stopping")
            running = sum(1 for k, r in self.records.items() if k != key and r.phase in (STARTING, RUNNING, RESTARTING))
            limit = None
            if running >= self.limits.max_running:
                limit = f"limit of {self.limits.max_running} running agents reached"
            elif not self.budget.take():
                limit = f"limit of {self.limits.starts_per_minute} agent starts per minute reached"
            if limit and record is not None:  # a restart: the agent is crashed
                return self._crash(record, limit)
            if limit:  # a first start: nothing is recorded, the caller says why
                raise ApiError(502, f"failed to reach agent: {limit}")
            if record is None:
                old = self.records.get(key)
                record = AgentProcessRecord(
                    *key,
                    fingerprint=self._fingerprint(platform, key[1], key[2], source),
                    log=old.log if old else OutputLog(self.limits.output_bytes),
                )
                self.records[key] = record
                self._ready[key] = threading.Event()
            record.generation += 1
            generation = record.generation
            record.phase, record.reason, record.port = STARTING, "", supervisor.free_port()
            agent = platform.agents.get(key[1], key[2])
            env = self._environment(platform, agent, source, base_url, record.port)
            workdir = supervisor.write_sources(source["files"])
            env["RUNAGENTS_USER_CODE_DIR"] = env["HOME"] = str(workdir)
            process = supervisor.AgentProcess(
                env,
                workdir,
                self.limits.rlimits(supervisor.user_process_count()),
                record.log,
                self.sdk_path,
                on_exit=lambda code: self._exited(platform, key, generation, code, base_url),
                log_lock=self._log_lock,
            )
            with self._log_lock:
                record.log.note(f"starting {key[1]}/{key[2]} on port {record.port}")
            try:
                process.start()
            except OSError as exc:
                return self._crash(record, f"cannot start: {exc.strerror or exc}")
            record.pid, record.started_at = process.pid, time.time()
            self._processes[key] = process
        threading.Thread(
            target=self._await_ready, args=(key, generation), daemon=True, name="runagents-agent-ready"
        ).start()

    @classmethod
    def _fingerprint(cls, platform: PlatformPort, namespace: str, name: str, source: dict[str, Any]) -> str:
        """What the agent's process is made of: its source and the platform's env for it (on any
        base URL: clients reaching the mock by other host names do not restart it)."""
        agent = platform.agents.get(namespace, name)
        return digest({"source": source, "env": cls._environment(platform, agent, source, "", 0)})

    @staticmethod
    def _environment(
        platform: PlatformPort, agent: dict[str, Any], source: dict[str, Any], base_url: str, port: int
    ) -> dict[str, str]:
        """Built from scratch: what the platform injects, ``PORT`` and ``PATH``; nothing of the
        mock's own environment (docs/runtime.md, "Running agents")."""
        env = agent_env(agent, base_url + runtime_prefix(platform.workspace), tools=platform.tools.items, source=source)
        env["PORT"] = str(port)
        env["PATH"] = os.environ.get("PATH", os.defpath)
        return env

    def _await_ready(self, key: Key, generation: int) -> None:
        import requests  # on first use: a session start-up need not load it

        deadline = time.monotonic() + self.limits.start_timeout_seconds
        while time.monotonic() < deadline:
            with self._lock:
                record = self.records.get(key)
                if record is None or record.generation != generation or record.phase != STARTING:
                    return
                url = f"http://127.0.0.1:{record.port}/healthz"
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    with self._lock:
                        if record.generation == generation and record.phase == STARTING:
                            record.phase = RUNNING
                            with self._log_lock:
                                record.log.note("ready")
                            self._ready[key].set()
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        with self._lock:
            record = self.records.get(key)
            if record is not None and record.generation == generation and record.phase == STARTING:
                process = self._processes.pop(key, None)
                self._crash(record, f"did not answer /healthz within {self.limits.start_timeout_seconds:g}s")
        if process is not None:
            process.stop()

    def _exited(self, platform: PlatformPort, key: Key, generation: int, code: int, base_url: str) -> None:
        """The agent ended by itself: restart with back-off, at most ``max_restarts`` times."""
        with self._lock:
            record = self.records.get(key)
            if record is None or record.generation != generation:
                return
            process = self._processes.pop(key, None)
            with self._log_lock:
                record.log.note(f"exited with status {code}")
            if record.restarts >= self.limits.max_restarts:
                self._crash(record, f"exited with status {code} after {record.restarts} restarts")
                self._mark_failed(platform, key, record.reason)
            else:
                record.restarts += 1
                record.phase = RESTARTING
                self._ready[key].clear()
                delay = backoff_seconds(record.restarts)
                with self._log_lock:
                    record.log.note(f"restart {record.restarts} of {self.limits.max_restarts} in {delay:g}s")
                timer = threading.Timer(delay, self._restart, args=(platform, key, generation, base_url))
                timer.daemon = True
                timer.start()
        if process is not None:
            process.stop()  # removes its directory (the guard is already gone)

    def _restart(self, platform: PlatformPort, key: Key, generation: int, base_url: str) -> None:
        with self._lock:
            record = self.records.get(key)
            if record is None or record.generation != generation or record.phase != RESTARTING:
                return
            source = platform.agents.source_of(key[1], key[2])
            if source is None or self._fingerprint(platform, key[1], key[2], source) != record.fingerprint:
                return
            try:
                self._start(platform, key, source, base_url, record)
            except ApiError:
                return

    def _crash(self, record: AgentProcessRecord, reason: str) -> None:
        record.phase, record.reason, record.pid = CRASHED, reason, None
        with self._log_lock:
            record.log.note("crashed: " + reason)
        event = self._ready.get((record.workspace, record.namespace, record.name))
        if event is not None:
            event.set()

    @staticmethod
    def _mark_failed(platform: PlatformPort, key: Key, reason: str) -> None:
        try:
            platform.agents.set_process_failed(key[1], key[2], f"agent process crashed: {reason}")
        except ApiError:
            pass
