"""The June API quickstart (getting-started/api-quickstart.md), typed as the page shows, against
``runagents-mock serve --run-agents`` with SDK 1.4.2's runtime: the page's ``hello-world``
agent.py runs and its invoke completes a run; then step 7 ("Handle approvals") with the user's
own governed agent.py (examples/first_governed_agent), approved once with ``scope: once``.
In the default workspace and in a fresh named one."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from agents_run_support import deploy_governed, policy, wait_until

GOVERNED_AGENT = (Path(__file__).parents[2] / "examples" / "first_governed_agent" / "agent.py").read_text()
HELLO_AGENT = 'def handler(request):\n    return {"response": "hello from runagents"}'


def workspace_api(kind: str) -> str:
    return "/api/v1" if kind == "default" else f"/api/v1/workspaces/qs-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("kind", ["default", "named"])
def test_the_quickstart_runs_the_users_agent(fresh, kind):
    api = workspace_api(kind)
    # Step 2: seed starter resources.
    assert fresh.call("POST", f"{api}/starter-kit", expect=201) == {
        "tool_created": "echo-tool",
        "model_provider_created": "playground-llm",
    }
    # Step 3: a simple policy.
    fresh.call(
        "POST",
        f"{api}/policies",
        json=policy("hello-echo-policy", "allow", "http://governance.agent-system.svc:8092/*", ["GET", "POST"]),
    )
    # Step 4: deploy the agent with its policy binding: a plain handler runs at once.
    deployed = fresh.call(
        "POST",
        f"{api}/deploy",
        expect=201,
        json={
            "agent_name": "hello-world",
            "source_files": {"agent.py": HELLO_AGENT},
            "entry_point": "agent.py",
            "required_tools": ["echo-tool"],
            "llm_configs": [{"provider": "openai", "model": "gpt-4o-mini", "role": "chat"}],
            "policies": ["hello-echo-policy"],
        },
    )
    assert {k: deployed[k] for k in ("agent", "tools_created", "execution_mode", "build_required")} == {
        "agent": "hello-world",
        "tools_created": [],
        "execution_mode": "INSTANT_RUNTIME",
        "build_required": False,
    }
    # Step 5: the agent is Running.
    [agent] = fresh.call("GET", f"{api}/agents")
    assert (agent["name"], agent["status"]["phase"]) == ("hello-world", "Running")

    answer = fresh.call("POST", f"{api}/agents/hello-world/invoke", json={"message": "hi"})
    assert answer["response"] == "hello from runagents" and answer["handler"] == "user"
    # Step 6: the run is there, COMPLETED, and says what the agent answered.
    [run] = fresh.call("GET", f"{api}/runs?status=COMPLETED")
    events = fresh.call("GET", f"{api}/runs/{run['id']}/events")
    assert [e["type"] for e in events] == ["USER_MESSAGE", "AGENT_MESSAGE", "COMPLETED"]
    assert events[1]["data"] == {"response": "hello from runagents"}


@pytest.mark.parametrize("kind", ["default", "named"])
def test_step_7_approves_the_users_governed_agent_once(fresh, kind):
    api = workspace_api(kind)
    deploy_governed(
        fresh,
        api,
        {
            "agent_name": "hello-world",
            "source_files": {"agent.py": GOVERNED_AGENT},
            "entry_point": "agent.py",
            "llm_configs": [{"provider": "openai", "model": "gpt-4o-mini", "role": "chat"}],
        },
    )

    paused = fresh.call(
        "POST",
        f"{api}/agents/hello-world/invoke",
        json={"message": "hi"},
        headers={"X-End-User-ID": "dana@example.com"},
    )
    assert paused["approval_required"]["tool"] == "echo-tool"
    [run] = fresh.call("GET", f"{api}/runs?status=PAUSED_APPROVAL")
    # Step 7: list pending requests, approve once.
    [pending] = fresh.call("GET", f"{api}/approvals/requests?status=PENDING")
    fresh.call("POST", f"{api}/approvals/requests/{pending['id']}/approve", json={"scope": "once"})

    done = wait_until(
        lambda: (r := fresh.call("GET", f"{api}/runs/{run['id']}"))["status"] == "COMPLETED" and r,
        "the resumed run to complete",
    )
    assert done["user_id"] == "dana@example.com"
    events = [e["type"] for e in fresh.call("GET", f"{api}/runs/{run['id']}/events")]
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
