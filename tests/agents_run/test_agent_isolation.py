"""What a deployed source agent gets, and what it never gets (issue 28): an environment built
from scratch, rlimits, a private directory removed when it stops, and no process left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from agents_run_support import MOCK_ONLY, processes_with, start_served, wait_until

API = "/api/v1"

# Reports what the agent process sees: its environment, limits, directory and process group.
INSPECTOR = """
import json, os, resource

def handler(request):
    limits = {name: resource.getrlimit(getattr(resource, name))[0]
              for name in ("RLIMIT_AS", "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_FSIZE")}
    return {"response": json.dumps({"env": dict(os.environ), "limits": limits, "cwd": os.getcwd(),
                                    "mode": oct(os.stat(os.getcwd()).st_mode & 0o777),
                                    "pgid": os.getpgid(0), "pid": os.getpid()})}
"""


def deploy(served, name: str, source: str, api: str = API, **headers: str) -> dict:
    return served.call(
        "POST",
        f"{api}/deploy",
        expect=201,
        headers=headers,
        json={
            "agent_name": name,
            "source_files": {"agent.py": source},
            "entry_point": "agent.py",
            "required_tools": ["echo-tool"],
            "system_prompt": "Be brief.",
            "llm_configs": [{"provider": "openai", "model": "gpt-4o-mini", "role": "chat"}],
        },
    )


def inspect(served, name: str = "inspector") -> dict:
    answer = served.call("POST", f"{API}/agents/{name}/invoke", json={"message": "look"})
    return json.loads(answer["response"])


def test_the_agent_environment_is_what_the_platform_injects_and_nothing_of_the_mocks(fresh):
    fresh.call("POST", f"{API}/starter-kit", expect=201)
    deploy(fresh, "inspector", INSPECTOR)
    seen = inspect(fresh)
    env = seen["env"]

    expected = fresh.call("GET", "/_mock/agents/agent-system/inspector/env")
    assert {k: env.get(k) for k in expected} == expected  # what runagents-mock env says, exactly
    assert env["USER_ENTRY_POINT"] == "agent.py" and env["SYSTEM_PROMPT"] == "Be brief."
    assert json.loads(env["TOOL_ROUTES_JSON"]) == {"echo-tool": {"tool": "echo-tool", "method": "POST", "path": "/"}}
    # Beyond the platform's variables: PATH, PORT, HOME and the code directory (both the private
    # directory), and what the vendor runtime and Python set for themselves.
    own = {
        "PATH",
        "PORT",
        "HOME",
        "RUNAGENTS_USER_CODE_DIR",
        "LC_CTYPE",
        "OPENAI_BASE_URL",
        "OPENAI_API_BASE",
        "OPENAI_API_KEY",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_API_KEY",
    }
    assert set(env) - set(expected) <= own
    assert not set(MOCK_ONLY) & set(env) and MOCK_ONLY["RUNAGENTS_MOCK_PRIVATE_MARKER"] not in json.dumps(env)
    assert not [name for name in env if name.startswith("RUNAGENTS_MOCK")]


def test_the_agent_runs_limited_in_its_own_directory_and_group_which_delete_removes(fresh):
    fresh.call("POST", f"{API}/starter-kit", expect=201)
    deploy(fresh, "inspector", INSPECTOR)
    seen = inspect(fresh)
    assert seen["limits"]["RLIMIT_AS"] == 2 * 1024**3 and seen["limits"]["RLIMIT_NOFILE"] == 256
    assert seen["limits"]["RLIMIT_FSIZE"] == 64 * 1024**2 and seen["limits"]["RLIMIT_NPROC"] >= 4096
    assert seen["mode"] == "0o700" and seen["env"]["HOME"] == seen["cwd"]
    assert seen["pgid"] == seen["pid"] != os.getpgid(fresh.process.pid)  # its own process group

    fresh.call("DELETE", f"{API}/agents/inspector")
    wait_until(
        lambda: not Path(seen["cwd"]).exists() and not processes_with(seen["cwd"]),
        "the agent's process and directory to go",
    )
    assert fresh.call("GET", "/_mock/agent-processes") == {"enabled": True, "agents": []}


def test_a_crashing_agent_is_restarted_then_shown_crashed(fresh):
    deploy(fresh, "crasher", "import sys\nprint('crasher starting', flush=True)\nsys.exit(3)\n")
    refused = fresh.session.post(
        fresh.url + f"{API}/agents/crasher/invoke",
        json={"message": "hi"},
        headers={"X-RunAgents-API-Key": "ra_ws_agents-run-test"},
        timeout=120,
    )
    assert refused.status_code == 502 and refused.json()["error"].startswith("failed to reach agent: agent")

    [listed] = wait_until(
        lambda: [a for a in fresh.call("GET", "/_mock/agent-processes")["agents"] if a["phase"] == "crashed"],
        "the agent to be crashed",
    )
    assert listed["restarts"] == 3 and "after 3 restarts" in listed["reason"]
    agent = fresh.call("GET", f"{API}/agents/crasher")
    assert agent["status"]["phase"] == "Failed" and "crashed" in agent["status"]["message"]
    log = fresh.call("GET", "/_mock/agent-processes/default/agent-system/crasher/log")
    assert log["lines"].count("crasher starting") == 4  # the first start and 3 restarts
    fresh.call("POST", f"{API}/agents/crasher/invoke", expect=502, json={"message": "hi"})


def test_state_holds_no_source_so_a_loaded_agent_never_runs(fresh):
    fresh.call("POST", f"{API}/starter-kit", expect=201)
    deploy(fresh, "inspector", INSPECTOR.replace("import json", "STRIPE_KEY = 'sk_live_never_exported'\nimport json"))
    state = fresh.call("GET", "/_mock/state")
    assert "sk_live_never_exported" not in json.dumps(state) and "def handler" not in json.dumps(state)
    fresh.call("POST", "/_mock/reset")
    fresh.call("PUT", "/_mock/state", json=state)
    assert fresh.call("GET", "/_mock/agent-processes")["agents"] == []
    # The loaded agent is an agent without source: the mock answers for it, nothing starts.
    answer = fresh.call("POST", f"{API}/agents/inspector/invoke", json={"message": "look"})
    assert answer["response"] == "echo: look"
    assert fresh.call("GET", "/_mock/agent-processes")["agents"] == []


def test_a_seeded_source_agent_starts_on_its_first_invoke_only(fresh):
    seeded = fresh.call(
        "POST",
        "/_mock/seed",
        json={"agents": [{"agent_name": "seeded", "source_files": {"agent.py": INSPECTOR}, "entry_point": "agent.py"}]},
    )
    assert seeded["created"] == {"agents": 1}
    fresh.call("POST", "/_mock/clock/advance", json={"seconds": 60})  # its February build finishes
    assert fresh.call("GET", "/_mock/agent-processes")["agents"] == []
    assert "RLIMIT_AS" in inspect(fresh, "seeded")["limits"]  # a keyed invoke starts it
    [listed] = fresh.call("GET", "/_mock/agent-processes")["agents"]
    assert listed["phase"] == "running"


def test_a_request_from_another_origin_never_starts_code(fresh):
    # The guard in front of every surface refuses a page's request before any handler runs
    # (issue 23.5); the start rule itself (may_start_code) is unit-tested on its own.
    fresh.call("POST", f"{API}/starter-kit", expect=201)
    page = {"Origin": "http://evil.example"}
    refused = fresh.call(
        "POST",
        f"{API}/deploy",
        expect=403,
        headers=page,
        json={"agent_name": "inspector", "source_files": {"agent.py": INSPECTOR}, "entry_point": "agent.py"},
    )
    assert refused == {"error": "cross-origin request refused: Origin http://evil.example is not this mock's origin"}
    assert fresh.call("GET", "/_mock/agent-processes")["agents"] == []
    fresh.call("POST", f"{API}/agents/inspector/invoke", expect=403, json={"message": "x"}, headers=page)
    assert fresh.call("GET", "/_mock/agent-processes")["agents"] == []


def test_sigkill_of_the_mock_leaves_no_agent_process(sdk142_dir, tmp_path):
    served = start_served(["--agent-sdk", sdk142_dir], {}, tmp_path)  # granian, the default server
    try:
        # The agent starts a child of its own: it must go too.
        spawner = (
            "import subprocess, sys\nchild = subprocess.Popen([sys.executable, '-c', "
            "'import time; time.sleep(600)'])\n\ndef handler(request):\n    return {'response': str(child.pid)}\n"
        )
        deploy(served, "spawner", spawner)
        child = int(served.call("POST", f"{API}/agents/spawner/invoke", json={"message": "go"})["response"])
        [listed] = served.call("GET", "/_mock/agent-processes")["agents"]
        # Everything an agent runs has HOME in a runagents-agent-* directory.
        alive = [pid for pid in processes_with("runagents-agent-") if _descends_from(pid, served.process.pid)]
        assert child in alive and listed["pid"] in alive
    finally:
        served.process.send_signal(signal.SIGKILL)
        served.process.wait()
    wait_until(lambda: not any(_alive(pid) for pid in alive), "every agent process to end")


def test_run_agents_on_an_open_address_without_keys_is_refused():
    done = subprocess.run(
        [sys.executable, "-m", "mockserver.web.cli", "serve", "--run-agents", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().count("\n") == 0
    assert done.stderr.startswith("runagents-mock: --run-agents on --host 0.0.0.0 needs --api-key")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
    return False


def test_a_config_change_or_redeploy_replaces_the_process(fresh):
    fresh.call("POST", f"{API}/starter-kit", expect=201)
    deploy(fresh, "inspector", INSPECTOR)
    first = inspect(fresh)
    fresh.call("PUT", f"{API}/agents/inspector/config", json={"system_prompt": "Be thorough."})
    second = inspect(fresh)
    assert second["env"]["SYSTEM_PROMPT"] == "Be thorough." and second["pid"] != first["pid"]
    wait_until(lambda: not Path(first["cwd"]).exists(), "the first process's directory to go")
    deploy(fresh, "inspector", INSPECTOR.replace("def handler", "REDEPLOYED = True\n\ndef handler"))
    third = inspect(fresh)
    assert third["pid"] != second["pid"] and third["env"]["SYSTEM_PROMPT"] == "Be brief."
    assert len(fresh.call("GET", "/_mock/agent-processes")["agents"]) == 1
