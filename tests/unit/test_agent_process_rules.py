"""The rules of agent processes, without processes: who may start code, limits, back-off, the
bounded log, and the June deploy's decision metadata."""

from __future__ import annotations

import pytest

from mockserver.services.agent_processes.models import OutputLog, StartBudget, backoff_seconds, may_start_code
from mockserver.services.agent_processes.runner import refuse_exposed_agents
from mockserver.services.agents.models import deploy_decision


@pytest.mark.parametrize(
    "keyed, origin, host, allowed",
    [
        (True, None, "127.0.0.1:8092", True),  # a keyed client that is not a browser page
        (False, None, None, False),  # a seed, a state load, an action plan: no request headers
        (True, "http://127.0.0.1:8092", "127.0.0.1:8092", True),  # the console: the mock's own origin
        (True, "http://evil.example", "127.0.0.1:8092", False),
        (True, "null", "127.0.0.1:8092", False),  # a sandboxed frame or a local file
        (True, "http://127.0.0.1:8093", "127.0.0.1:8092", False),  # another port is another origin
        (True, "http://localhost:8092", "127.0.0.1:8092", False),  # and another host name too
        (True, "http://localhost:8092", "localhost:8092", True),
        (True, "http://[::1]:8092", "[::1]:8092", True),
        (True, "http://192.168.1.5:8092", "192.168.1.5:8092", True),  # the console on a LAN address
        (True, "http://rebind.example:8092", "rebind.example:8092", False),  # DNS rebinding: same-origin, not ours
    ],
)
def test_who_may_start_code(keyed, origin, host, allowed):
    assert may_start_code(keyed, origin, host) is allowed


def test_starts_per_minute_are_bounded():
    now = [0.0]
    budget = StartBudget(2, now=lambda: now[0])
    assert [budget.take(), budget.take(), budget.take()] == [True, True, False]
    now[0] = 59.9
    assert budget.take() is False
    now[0] = 60.0
    assert budget.take() is True


def test_back_off_doubles_up_to_a_cap():
    assert [backoff_seconds(n) for n in (1, 2, 3, 4, 10)] == [0.5, 1.0, 2.0, 4.0, 8.0]


def test_the_log_keeps_the_newest_lines_within_its_bytes():
    log = OutputLog(max_bytes=30)
    log.write(b"first line\nsecond line\nthird ")
    log.write(b"line\n")
    assert log.lines[-1] == "third line" and "first line" not in log.lines
    assert log.size <= 30 and log.dropped_bytes == len("first line\n")
    log.write(b"x" * 10_000)  # one huge line without a newline: cut, never kept whole
    assert log.size <= 30 and all(len(line) <= OutputLog.LINE_BYTES for line in log.lines)


@pytest.mark.parametrize(
    "body, mode",
    [
        ({"image": "ghcr.io/acme/a:1", "source_files": {"agent.py": "import langchain"}}, "IMAGE"),
        (
            {
                "source_files": {
                    "agent.py": "import json, os\nfrom helpers import x\ndef handler(r):\n    return {}",
                    "helpers.py": "",
                }
            },
            "INSTANT_RUNTIME",
        ),
        (
            {
                "source_files": {"agent.py": "import runagents\n\ndef handler(r):\n    return {}"},
                "requirements": "runagents>=1.4.2\n",
            },
            "INSTANT_RUNTIME",
        ),
        ({"source_files": {"agent.py": "from langgraph.graph import StateGraph\n"}}, "FAST_OVERLAY"),
        ({"source_files": {"agent.py": "def handler(r):\n    return {}"}, "framework": "langchain"}, "FAST_OVERLAY"),
        ({"source_files": {"agent.py": "import requests\n"}}, "SOURCE_BUILD"),
        ({"source_files": {"agent.py": "print('no handler')\n"}}, "SOURCE_BUILD"),
        (
            {"source_files": {"agent.py": "def handler(r):\n    return {}", "other.py": ""}, "entry_point": "other.py"},
            "SOURCE_BUILD",
        ),
        (
            {"source_files": {"agent.py": "async def handler(r):\n    return {}"}, "entry_point": "agent.py"},
            "INSTANT_RUNTIME",
        ),
        (
            {"source_files": {"agent.py": "def handler(r):\n    return {}", "requirements.txt": "httpx\n"}},
            "SOURCE_BUILD",
        ),
    ],
)
def test_the_deploy_decision_follows_what_was_sent(body, mode):
    decision = deploy_decision(body)
    assert decision["execution_mode"] == mode
    assert decision["build_required"] is (mode in ("FAST_OVERLAY", "SOURCE_BUILD"))


@pytest.mark.parametrize(
    "host, keys, refused",
    [
        ("127.0.0.1", False, False),
        ("localhost", False, False),
        ("::1", False, False),
        ("0.0.0.0", False, True),
        ("192.168.1.5", False, True),
        ("0.0.0.0", True, False),
        ("my-host", False, True),
    ],
)
def test_an_exposed_mock_that_runs_agents_needs_keys(host, keys, refused):
    assert (refuse_exposed_agents(True, host, keys) is not None) is refused
    assert refuse_exposed_agents(False, host, keys) is None


def test_source_files_stay_in_the_agents_private_directory(tmp_path):
    import shutil

    from mockserver.services.agent_processes.supervisor import write_sources

    outside = tmp_path / "outside.py"
    root = write_sources({"agent.py": "ok", "pkg/mod.py": "ok", "../escape.py": "no", str(outside): "no"})
    try:
        written = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
        assert written == ["agent.py", "pkg/mod.py"] and not outside.exists()
        assert not (root.parent / "escape.py").exists() and oct(root.stat().st_mode & 0o777) == "0o700"
    finally:
        shutil.rmtree(root)
