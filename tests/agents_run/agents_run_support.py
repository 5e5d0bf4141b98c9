"""Helpers for tests that drive ``runagents-mock serve --run-agents`` in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from mockserver.spec.conformance import response_problems
from mockserver.spec.document import Spec, mock_spec_path

# The API's answers are checked by the served mock itself (RUNAGENTS_MOCK_STRICT=1); the
# control API's here, against mock-openapi.yaml.
MOCK_SPEC = Spec.load(mock_spec_path())

WORKSPACE_KEY = {"X-RunAgents-API-Key": "ra_ws_agents-run-test"}
# A variable of the mock's own environment: no agent may see it (test_agent_isolation.py).
MOCK_ONLY = {"RUNAGENTS_MOCK_PRIVATE_MARKER": "mock-only-value-7f3a"}
WAIT_SECONDS = 60  # generous: a hang fails, a slow machine does not


class Served:
    def __init__(self, process: subprocess.Popen, url: str, log: Path):
        self.process = process
        self.url = url
        self.log = log
        self.session = requests.Session()

    def call(self, method: str, path: str, expect: int | None = None, **kwargs: Any) -> Any:
        """The JSON answer; asserts the status (``expect``, else any 2xx)."""
        headers = {**WORKSPACE_KEY, **(kwargs.pop("headers", None) or {})}
        answer = self.session.request(method, self.url + path, headers=headers, timeout=WAIT_SECONDS, **kwargs)
        ok = answer.status_code == expect if expect is not None else answer.status_code < 300
        assert ok, f"{method} {path}: {answer.status_code} {answer.text}"
        if path.startswith("/_mock/"):
            problems = response_problems(
                MOCK_SPEC,
                method,
                path.split("?")[0],
                answer.status_code,
                answer.headers.get("Content-Type"),
                answer.content,
            )
            assert not problems, problems
        return answer.json()

    def stop(self) -> None:
        self.session.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_served(args: list[str], extra_env: dict[str, str], directory: Path) -> Served:
    """``runagents-mock serve --run-agents --port 0 ARGS`` with RUNAGENTS_MOCK_STRICT=1 (every
    answer checked against the spec by the mock itself); waits for its "serving on" line."""
    log = directory / "serve.log"
    env = {**os.environ, "RUNAGENTS_MOCK_STRICT": "1", **extra_env}
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver.web.cli", "serve", "--run-agents", "--port", "0", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=open(log, "wb"),
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # blocks until the line or the end (a failed start)
    if "serving on" not in line:
        process.wait(timeout=WAIT_SECONDS)
        raise AssertionError(f"serve did not start: {line!r} {log.read_text()[-2000:]}")
    return Served(process, line.rsplit(" ", 1)[-1].strip(), log)


def policy(name: str, permission: str, resource: str, operations: list[str]) -> dict[str, Any]:
    """A policy of one rule, as the vendor's pages write it (``POST .../policies``)."""
    return {
        "name": name,
        "spec": {"policies": [{"permission": permission, "resource": resource, "operations": operations}]},
    }


def deploy_governed(served: Served, api: str, agent: dict[str, Any]) -> Any:
    """The first governed agent's setup (docs/runtime.md): the starter kit, a policy asking for
    approval before any POST to the echo tool, and ``agent`` deployed with the tool and bound to
    the policy. Answers the deploy's answer."""
    served.call("POST", f"{api}/starter-kit", expect=201)
    approval = policy("echo-needs-approval", "approval_required", "http://echo-tool.agent-system.svc:8080/*", ["POST"])
    served.call("POST", f"{api}/policies", json=approval)
    bound = {**agent, "required_tools": ["echo-tool"], "policies": [approval["name"]]}
    return served.call("POST", f"{api}/deploy", expect=201, json=bound)


def wait_until(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def processes_with(text: str) -> list[int]:
    """Ids of live processes whose command line or environment holds ``text`` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if state != "Z" and (text.encode() in cmdline or text.encode() in environ):
            found.append(int(entry))
    return found
