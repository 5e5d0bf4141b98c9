"""agent.py deployed to runagents-mock as source and run by the mock (``runagents_run_agents``):
a tool call that needs approval pauses the run; approving it once resumes the agent, and the run
completes. On the default workspace and on a named one, through /api/v1 as the June pages show."""

import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.runagents_run_agents
SOURCE = (Path(__file__).parents[1] / "agent.py").read_text()


def call(mock, method, path, **kwargs):
    answer = mock.request(method, path, **kwargs)
    assert answer.status_code < 400, f"{method} {path}: {answer.status_code} {answer.text}"
    return answer.json()


def wait_for(mock, api, run_id, status):
    deadline = time.monotonic() + 60  # a hang fails; slowness does not
    while time.monotonic() < deadline:
        run = call(mock, "GET", f"{api}/runs/{run_id}")
        if run["status"] == status:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} is {run['status']}, not {status}")


@pytest.fixture(params=["default", "named"])
def api(request, runagents_mock):
    """The /api/v1 path of the workspace the test works in."""
    if request.param == "default":
        return "/api/v1"
    return "/api/v1/workspaces/" + runagents_mock.new_workspace().name


def test_the_agent_pauses_for_approval_and_completes(runagents_mock, api):
    call(runagents_mock, "POST", f"{api}/starter-kit")
    call(
        runagents_mock,
        "POST",
        f"{api}/policies",
        json={
            "name": "echo-needs-approval",
            "spec": {
                "policies": [
                    {
                        "permission": "approval_required",
                        "resource": "http://echo-tool.agent-system.svc:8080/*",
                        "operations": ["POST"],
                    }
                ]
            },
        },
    )
    deployed = call(
        runagents_mock,
        "POST",
        f"{api}/deploy",
        json={
            "agent_name": "first-agent",
            "source_files": {"agent.py": SOURCE},
            "entry_point": "agent.py",
            "required_tools": ["echo-tool"],
            "policies": ["echo-needs-approval"],
        },
    )
    assert deployed["execution_mode"] == "INSTANT_RUNTIME" and deployed["build_required"] is False

    paused = call(
        runagents_mock,
        "POST",
        f"{api}/agents/first-agent/invoke",
        json={"message": "hello"},
        headers={"X-End-User-ID": "dana@example.com"},
    )
    assert paused["approval_required"]["tool"] == "echo-tool"
    [run] = call(runagents_mock, "GET", f"{api}/runs?status=PAUSED_APPROVAL")
    [pending] = call(runagents_mock, "GET", f"{api}/approvals/requests?status=PENDING")

    call(runagents_mock, "POST", f"{api}/approvals/requests/{pending['id']}/approve", json={"scope": "once"})
    wait_for(runagents_mock, api, run["id"], "COMPLETED")
    events = [e["type"] for e in call(runagents_mock, "GET", f"{api}/runs/{run['id']}/events")]
    assert events == [
        "USER_MESSAGE",
        "TOOL_REQUEST",
        "APPROVAL_REQUIRED",
        "APPROVED",
        "RESUMED",
        "TOOL_REQUEST",
        "TOOL_RESPONSE",
        "AGENT_MESSAGE",
        "COMPLETED",
    ]
