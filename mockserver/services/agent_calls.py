"""Calling a real agent: invoke proxying (``POST /api/agents/.../invoke``) and the resume worker.

The domain decides what happens to the run (``settle``); this module only makes the HTTP calls.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import TYPE_CHECKING, Any

from ..basics.errors import ApiError
from .governance.models import verified_user

if TYPE_CHECKING:
    from .platform import Platform

log = logging.getLogger("runagents_mock")
AGENT_TIMEOUT_SECONDS = 120


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
    run = platform.runtime.begin_invoke(namespace, name, body, end_user, run_id, url + "/invoke")
    headers = {"X-Run-ID": run["id"], "X-Request-Id": str(uuid.uuid4())}
    user = verified_user(run)
    if user:  # an invoke with no end-user identity names none (its run says "anonymous")
        headers["X-End-User-Id"] = user
    status, reply = _post(url + "/invoke", body if body is not None else {}, headers)
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
    status, reply = _post(f"{url}/resume/{action_id}", {"run_id": run_id, "user_id": user or ""}, headers)
    platform.runtime.settle_run(run_id, status, reply)


def _post(url: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
    import requests  # on first use: a session start-up need not load it

    try:
        response = requests.post(url, json=body, headers=headers, timeout=AGENT_TIMEOUT_SECONDS)
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
