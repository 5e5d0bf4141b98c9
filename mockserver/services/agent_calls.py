"""Calling a real agent: invoke proxying (``POST /api/agents/.../invoke``) and the resume worker.

The domain decides what happens to the run (``settle``); this module only makes the HTTP calls.
They wait on another server, so they run on a bounded pool of their own (``AgentCalls``, one
per mock server, shared by its workspaces): at most ``agent_slots`` at once, at most half of
them for one agent, each given up after ``agent_timeout_seconds``. An invoke that finds no free
slot is answered 503 at once instead of holding one of the threads the rest of the mock is
served on; the resume worker (a thread of its own) waits for a slot instead.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

from ..basics.errors import ApiError
from ..basics.pool import BoundedPool, PoolBusy
from ..config import MockConfig
from .governance.models import verified_user

if TYPE_CHECKING:
    from .platform import Platform

log = logging.getLogger("runagents_mock")


class AgentCalls:
    """The calls of one mock server to agent endpoints, on a bounded pool."""

    def __init__(self, config: MockConfig):
        self.timeout = config.agent_timeout_seconds
        self.pool = BoundedPool(config.agent_slots, max(1, config.agent_slots // 2))

    def claim(self, caller: str, agent: str, wait: bool = False) -> None:
        """Take a slot of ``caller`` (the agent, with its workspace) before its run starts;
        ApiError 503 when there is none (``wait``: up to the timeout first)."""
        try:
            self.pool.claim(caller, self.timeout if wait else 0.0)
        except PoolBusy:
            raise ApiError(
                503,
                f"agent calls busy: {self.pool.per_caller} calls to agent {agent} (or {self.pool.slots} "
                "in all) are already waiting on agents; retry later",
            ) from None

    def post(self, caller: str, url: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
        """POST on the slot ``caller`` claimed; (0, {"error": reason}) when the agent did not
        answer, also when it took longer than the timeout in all (its slot is given back when
        the connection ends)."""
        future = self.pool.start(caller, lambda: _post(url, body, headers, self.timeout))
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            return 0, {"error": "ReadTimeout"}


def agent_calls(platform: Platform) -> AgentCalls:
    """The server's pool (set on each workspace by the app); a platform built on its own gets one."""
    if platform.agent_calls is None:
        platform.agent_calls = AgentCalls(platform.config)
    return platform.agent_calls


def invoke(
    platform: Platform,
    namespace: str,
    name: str,
    body: Any,
    end_user: str | None,
    run_id: str | None,
    may_start: bool = False,
    base_url: str = "",
) -> tuple[int, Any] | None:
    """Proxy an invoke to the agent's endpoint, or to its own process (``serve --run-agents``,
    started now if ``may_start``); None when it has neither (the mock answers itself)."""
    url = platform.runtime.endpoint(namespace, name, own_process=False)
    if url is None and platform.agent_runner is not None and platform.agents.source_of(namespace, name):
        agent = platform.agents.get(namespace, name)
        if agent["status"]["phase"] != "Running":  # a build still running: as begin_invoke says
            raise ApiError(502, f"failed to reach agent: agent {namespace}/{name} is {agent['status']['phase']}")
        url = platform.agent_runner.ensure(platform, namespace, name, may_start, base_url)
    if url is None:
        return None
    calls, caller = agent_calls(platform), f"{platform.workspace}/{namespace}/{name}"
    calls.claim(caller, f"{namespace}/{name}")  # before the run starts: a 503 leaves no run behind
    try:
        run = platform.runtime.begin_invoke(namespace, name, body, end_user, run_id, url + "/invoke")
    except BaseException:
        calls.pool.release(caller)
        raise
    headers = {"X-Run-ID": run["id"], "X-Request-Id": str(uuid.uuid4())}
    user = verified_user(run)
    if user:  # an invoke with no end-user identity names none (its run says "anonymous")
        headers["X-End-User-Id"] = user
    status, reply = calls.post(caller, url + "/invoke", body if body is not None else {}, headers)
    platform.runtime.settle_run(run["id"], status, reply)
    if status == 0:
        raise ApiError(502, f"failed to reach agent: {reply['error']}")
    if not 200 <= status < 300:
        raise ApiError(502, f"agent answered {status}")
    return status, reply


def resume(platform: Platform, run_id: str, action_id: str) -> None:
    """What the platform's resume worker does after an approval: call the agent's /resume."""
    target = platform.runtime.resume_target(run_id)
    if target is None:
        return
    url, user = target
    headers = {"X-Run-ID": run_id, "X-Request-Id": str(uuid.uuid4())}
    if user:
        headers["X-End-User-Id"] = user
    run = platform.runs.runs.get(run_id, {})
    agent = f"{run.get('namespace')}/{run.get('agent_id')}"
    calls, caller = agent_calls(platform), f"{platform.workspace}/{agent}"
    try:  # the worker's own thread waits for a slot, holding none of the server's
        calls.claim(caller, agent, wait=True)
    except ApiError as exc:
        status, reply = 0, {"error": exc.message}
    else:
        body = {"run_id": run_id, "user_id": user or ""}
        status, reply = calls.post(caller, f"{url}/resume/{action_id}", body, headers)
    platform.runtime.settle_run(run_id, status, reply)


def _post(url: str, body: Any, headers: dict[str, str], timeout: float) -> tuple[int, Any]:
    import requests  # on first use: a session start-up need not load it

    try:
        response = requests.post(url, json=body, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        return 0, {"error": type(exc).__name__}
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, {"response": response.text}


class ResumeWorker:
    """One per workspace: a daemon thread, started by the first approval that has an agent to
    resume, that ends once it has been idle a while (a dropped workspace leaves no thread)."""

    IDLE_SECONDS = 30

    def __init__(self, platform: Platform):
        self.platform = platform
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @classmethod
    def attach(cls, platform: Platform) -> None:
        """Give ``platform`` (one workspace) its own resume worker."""
        platform.on_resume = cls(platform).notify

    def notify(self) -> None:
        with self._lock:
            self._wake.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="runagents-mock-resume", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            if not self._wake.wait(self.IDLE_SECONDS):
                with self._lock:
                    if not self._wake.is_set():  # a notify under the lock would have set it
                        self._thread = None
                        return
                continue
            self._wake.clear()
            for run_id, action_id in self.platform.runtime.take_resumes():
                try:
                    resume(self.platform, run_id, action_id)
                except Exception as exc:
                    log.error("resume of run %s failed: %s", run_id, type(exc).__name__, exc_info=exc)
