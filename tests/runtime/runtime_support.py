"""Helpers for the runtime tests: the world they deploy into the mock, and agent processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import requests

AGENT = "pay-bot"
NAMESPACE = "agent-system"
AUTH = {"Authorization": "Bearer runtime-test"}
SECRETS = ("sk_live_e2e_SECRET", "drive-secret-SECRET")  # must never leave the mock

TOOLS = [
    {
        "name": "billing",
        "credentials": {"api_key": SECRETS[0]},
        "spec": {
            "connection": {
                "baseUrl": "https://billing.example.test",
                "authentication": {
                    "type": "APIKey",
                    "apiKeyConfig": {"in": "Header", "name": "X-Api-Key", "valuePrefix": "Key "},
                },
            },
            "governance": {"accessControl": {"mode": "Critical"}, "approval": {"defaultDuration": "1h"}},
            "capabilities": [{"name": "create-charge", "method": "POST", "path": "/v1/charges"}],
        },
    },
    {
        "name": "drive",
        "credentials": {"client_id": "drive-client", "client_secret": SECRETS[1]},
        "spec": {
            "connection": {
                "baseUrl": "https://drive.example.test",
                "authentication": {
                    "type": "OAuth2",
                    "oauth2Config": {
                        "authUrl": "https://accounts.example.test/o/oauth2/auth",
                        "tokenUrl": "https://accounts.example.test/token",
                        "scopes": ["drive.readonly"],
                    },
                },
            },
            "governance": {"accessControl": {"mode": "Open"}},
        },
    },
]


class World:
    """The mock with the agent, its tools and (optionally) its real endpoint."""

    def __init__(self, url: str):
        self.url = url

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("headers", AUTH)
        return requests.request(method, self.url + path, timeout=30, **kwargs)

    def build(self, endpoint: str | None = None) -> dict[str, str]:
        """Reset, then starter kit + tools + agent; the agent's env."""
        assert self.call("POST", "/_mock/reset").status_code == 200
        assert self.call("POST", "/api/starter-kit").status_code == 200
        for tool in TOOLS:
            assert self.call("POST", "/api/tools", json=tool).status_code == 201
        deployed = self.call(
            "POST",
            "/api/deploy",
            json={
                "agent_name": AGENT,
                "image": "registry.example/pay-bot:1",
                "required_tools": ["echo-tool", "billing", "drive"],
                "system_prompt": "You pay bills.",
                "llm_config": {"provider": "openai", "model": "gpt-4o-mini"},
            },
        )
        assert deployed.status_code == 201
        if endpoint:
            assert self.call("PUT", f"/_mock/agents/{NAMESPACE}/{AGENT}/endpoint", json={"url": endpoint}).ok
        env = self.call("GET", f"/_mock/agents/{NAMESPACE}/{AGENT}/env")
        assert env.status_code == 200
        return env.json()

    def run(self, run_id: str) -> dict[str, Any]:
        return self.call("GET", f"/runs/{run_id}").json()

    def wait_for_run(self, run_id: str, statuses: tuple[str, ...], timeout: float = 30) -> dict[str, Any]:
        """Poll until the resume worker has moved the run on (not a timing assertion: a wait)."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(run_id)
            if run["status"] in statuses or time.monotonic() > deadline:
                return run
            time.sleep(0.05)

    def events(self, run_id: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/runs/{run_id}/events").json()

    def assert_no_secret_leaked(self) -> None:
        for path in ("/_mock/state", "/_mock/journal"):
            text = self.call("GET", path).text
            assert not any(secret in text for secret in SECRETS), path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_agent_process(command: list[str], env: dict[str, str], port: int, cwd: Path) -> subprocess.Popen:
    """Start an agent process with the platform's env; return once it answers."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RUNAGENTS_", "TOOL_", "LLM_"))}
    process = subprocess.Popen(
        command, env={**clean, **env, "PORT": str(port)}, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("agent process exited: " + process.stderr.read().decode()[-2000:])
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except requests.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("agent process did not answer")


def stop_process(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.stderr.close()


class WorkspaceWorld(World):
    """The same world in one workspace, driven as a user of that workspace would: the June API
    under its base URL (``/api/v1`` or ``/api/v1/workspaces/<ws>``), its control calls under
    ``/_mock/workspaces/<ws>/``, and a client app invoking the agent through the workspace's
    ingress with an end user's JWT."""

    def __init__(self, url: str, workspace: str):
        super().__init__(url)
        self.workspace = workspace
        self.api = "/api/v1" if workspace == "default" else f"/api/v1/workspaces/{workspace}"
        self.control = f"/_mock/workspaces/{workspace}"
        self.runtime = "" if workspace == "default" else f"/_workspaces/{workspace}"

    def build(self, endpoint: str | None = None) -> dict[str, str]:
        assert self.call("POST", f"{self.control}/reset").status_code == 200
        assert self.call("POST", f"{self.api}/starter-kit").status_code == 201
        for tool in TOOLS:
            assert self.call("POST", f"{self.api}/tools", json=tool).status_code == 201
        deployed = self.call(
            "POST",
            f"{self.api}/deploy",
            json={
                "agent_name": AGENT,
                "image": "registry.example/pay-bot:1",
                "required_tools": ["echo-tool", "billing", "drive"],
                "system_prompt": "You pay bills.",
                "llm_config": {"provider": "openai", "model": "gpt-4o-mini"},
            },
        )
        assert deployed.status_code == 201, deployed.text
        agent = f"{self.control}/agents/{NAMESPACE}/{AGENT}"
        if endpoint:
            assert self.call("PUT", f"{agent}/endpoint", json={"url": endpoint}).ok
        env = self.call("GET", f"{agent}/env")
        assert env.status_code == 200, env.text
        return env.json()

    def invoke_as(self, user: str, call: dict[str, Any]) -> dict[str, Any]:
        """A client app invokes the agent for ``user`` (a JWT the workspace's ingress verifies)."""

        token = self.call("POST", f"{self.control}/jwt", json={"claims": {"sub": user}}).json()["token"]
        answer = requests.post(
            f"{self.url}{self.runtime}/_ingress/{NAMESPACE}/{AGENT}/invoke",
            json={"message": json.dumps(call)},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def request(self, request_id: str) -> dict[str, Any]:
        return self.call("GET", f"{self.api}/approvals/requests/{request_id}").json()

    def decide(self, request_id: str, decision: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.call(
            "POST",
            f"{self.api}/approvals/requests/{request_id}/{decision}",
            **({"json": body} if body is not None else {}),
            **kwargs,
        )

    def run(self, run_id: str) -> dict[str, Any]:
        return self.call("GET", f"{self.api}/runs/{run_id}").json()

    def events(self, run_id: str) -> list[dict[str, Any]]:
        return self.call("GET", f"{self.api}/runs/{run_id}/events").json()

    def state(self) -> dict[str, Any]:
        return self.call("GET", f"{self.control}/state").json()
