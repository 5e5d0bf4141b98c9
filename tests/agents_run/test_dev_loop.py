"""The vendor's local loop against the mock (docs/runtime.md, "SDK 1.4.x: a first governed
agent"): ``runagents dev`` of SDK 1.4.2, started with the env ``runagents-mock env`` prints, runs
the user's agent.py through the mock's governance: invoke, approval, approve once, COMPLETED."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from agents_run_support import WAIT_SECONDS, deploy_governed, wait_until

from mockserver.services.agent_processes.supervisor import free_port

AGENT_PY = (Path(__file__).parents[2] / "examples" / "first_governed_agent" / "agent.py").read_text()
API = "/api/v1"


def test_runagents_dev_runs_the_agent_through_the_mocks_governance(fresh, sdk142_dir, tmp_path):
    # An image deploy: the mock does not run it; the developer's own `runagents dev` does.
    deploy_governed(fresh, API, {"agent_name": "dev-agent", "image": "local/dev-agent:dev"})
    (tmp_path / "agent.py").write_text(AGENT_PY)
    (tmp_path / "runagents.yaml").write_text("name: dev-agent\nentry_point: agent.py\n")
    port = free_port()

    # The recipe, as a developer types it. PORT: SDK 1.4.2's runtime reads it when imported,
    # before `runagents dev` applies its --port (which only matters off the default 8080).
    script = (
        f'eval "$({sys.executable} -m mockserver.web.cli env agent-system/dev-agent --url {fresh.url} '
        f'--format shell)" && PORT={port} exec {sys.executable} -m runagents.cli.main dev --no-mock'
    )
    env = {**os.environ, "PYTHONPATH": sdk142_dir}
    dev = subprocess.Popen(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        start_new_session=True,
        stdout=open(tmp_path / "dev.log", "wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        import requests

        wait_until(
            lambda: _answers(f"http://127.0.0.1:{port}/healthz") or dev.poll() is not None, "runagents dev to listen"
        )
        assert dev.poll() is None, (tmp_path / "dev.log").read_text()
        tools = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=WAIT_SECONDS).json()
        fresh.call("PUT", "/_mock/agents/agent-system/dev-agent/endpoint", json={"url": f"http://127.0.0.1:{port}"})

        paused = fresh.call("POST", f"{API}/agents/dev-agent/invoke", json={"message": "hi"})
        assert paused["approval_required"]["tool"] == "echo-tool"
        [pending] = fresh.call("GET", f"{API}/approvals/requests?status=PENDING")
        run_id = pending["run_id"]
        fresh.call("POST", f"{API}/approvals/requests/{pending['id']}/approve", json={"scope": "once"})
        wait_until(lambda: fresh.call("GET", f"{API}/runs/{run_id}")["status"] == "COMPLETED", "the run to complete")
        # TOOL_DEFINITIONS_JSON came from the mock (not `runagents dev`'s "[]"); agent.py was found.
        assert (tools["tools"], tools["user_code"]) == (1, True)
    finally:
        os.killpg(dev.pid, signal.SIGKILL)
        dev.wait()


def _answers(url: str) -> bool:
    import requests

    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False
