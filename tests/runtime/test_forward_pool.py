"""Issue 23 item 3: calls forwarded to a slow loopback tool cannot starve the rest of the mock.

Eight calls of one agent to a tool that does not answer until the test lets it: two are
forwarded (the agent's share of the pool), six are answered 503 at once, and while the two
wait, other runtime calls and API calls keep being answered, on both servers. No timing is
asserted: a starved call would fail on its (generous) client timeout, because the slow tool
answers only after every check below has passed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed

import pytest
import requests
from loopback import LoopbackTool
from reliability_support import API_KEY, AUTH, ServedMock

from mockserver.basics.pool import BoundedPool, PoolBusy

CLIENT_TIMEOUT = 30  # seconds: far longer than any answer here takes unless it is starved
EGRESS = "/_egress/agent-system"


@pytest.fixture
def tools() -> Iterator[tuple[LoopbackTool, LoopbackTool]]:
    slow, fast = LoopbackTool(hold=True), LoopbackTool()
    yield slow, fast
    slow.close()
    fast.close()


def _build(url: str, slow: LoopbackTool, fast: LoopbackTool) -> None:
    def post(path: str, body: dict) -> None:
        answer = requests.post(url + path, json=body, headers=AUTH, timeout=CLIENT_TIMEOUT)
        assert answer.status_code in (200, 201), answer.text

    post("/api/starter-kit", {})
    for name, tool in (("slow", slow), ("fast", fast)):
        post(
            "/api/tools",
            {
                "name": name,
                "spec": {"connection": {"baseUrl": tool.url}, "governance": {"accessControl": {"mode": "Open"}}},
            },
        )
    post("/api/deploy", {"agent_name": "bot", "image": "i", "required_tools": ["slow", "echo-tool"]})
    post("/api/deploy", {"agent_name": "other", "image": "i", "required_tools": ["fast"]})


@pytest.mark.parametrize("server", ["granian", "waitress"])
def test_a_slow_tool_cannot_starve_other_runtime_and_api_calls(server, tools):
    slow, fast = tools
    with ServedMock("--server", server, "--api-key", API_KEY, "--forward-timeout", "60") as served:
        url = served.url
        _build(url, slow, fast)
        with ThreadPoolExecutor(max_workers=8) as pool:
            calls = [pool.submit(requests.get, f"{url}{EGRESS}/bot/slow/wait", timeout=120) for _ in range(8)]
            # The agent's share of the pool (2 of 4 slots) reaches the tool; the rest is refused at once.
            for _ in range(2):
                assert slow.arrived.acquire(timeout=CLIENT_TIMEOUT), "the slow tool was never called"
            busy = []
            for done in as_completed(calls, timeout=CLIENT_TIMEOUT):
                busy.append(done.result())
                if len(busy) == 6:
                    break
            assert [b.status_code for b in busy] == [503] * 6
            assert all(b.json()["error"].startswith("tool proxy busy: 2 calls of agent agent-system/bot") for b in busy)

            # While two forwarded calls wait: what the mock answers itself, another agent's
            # forwarded call, and the API, several at once.
            def other_calls() -> list[int]:
                with ThreadPoolExecutor(max_workers=8) as others:
                    futures = [
                        others.submit(requests.get, f"{url}{EGRESS}/bot/echo-tool/x", timeout=CLIENT_TIMEOUT)
                        for _ in range(4)
                    ]
                    futures += [others.submit(requests.get, f"{url}{EGRESS}/other/fast/y", timeout=CLIENT_TIMEOUT)]
                    futures += [
                        others.submit(
                            requests.post,
                            f"{url}/api/agents/agent-system/bot/invoke",
                            json={"message": "hi"},
                            headers=AUTH,
                            timeout=CLIENT_TIMEOUT,
                        )
                        for _ in range(2)
                    ]
                    futures += [
                        others.submit(requests.get, f"{url}/api/tools", headers=AUTH, timeout=CLIENT_TIMEOUT)
                        for _ in range(2)
                    ]
                    return [f.result().status_code for f in futures]

            assert other_calls() == [200] * 9
            slow.release.set()
            assert sorted(f.result(timeout=CLIENT_TIMEOUT).status_code for f in calls) == [200] * 2 + [503] * 6


def test_the_forward_timeout_answers_504(make_api):
    tool = LoopbackTool(hold=True)
    try:
        api = make_api(forward_timeout_seconds=0.2)
        api.post(
            "/api/tools",
            {
                "name": "slow",
                "spec": {"connection": {"baseUrl": tool.url}, "governance": {"accessControl": {"mode": "Open"}}},
            },
        )
        api.post("/api/deploy", {"agent_name": "bot", "image": "i", "required_tools": ["slow"]})
        late = api.get(f"{EGRESS}/bot/slow/x", auth=False)
        assert (late.status_code, late.json) == (504, {"error": "tool slow did not answer within 0.2 seconds"})
        tool.release.set()
        assert api.get(f"{EGRESS}/bot/slow/y", auth=False).json["path"] == "/y"
    finally:
        tool.close()


def test_the_pool_bounds_each_caller_and_the_total_and_frees_a_slot_when_work_ends():
    pool = BoundedPool(slots=3, per_caller=2)
    gate = threading.Event()
    work = lambda: (gate.wait(30), (200, b"{}", "application/json"))[1]
    held = [pool.submit("a", work), pool.submit("a", work)]
    with pytest.raises(PoolBusy):
        pool.submit("a", work)  # a's share
    held.append(pool.submit("b", work))
    with pytest.raises(PoolBusy):
        pool.submit("c", work)  # the whole pool
    gate.set()
    assert [f.result(timeout=30)[0] for f in held] == [200, 200, 200]
    assert pool.submit("c", lambda: (200, b"", "x")).result(timeout=30)[0] == 200


def test_forward_timeout_is_a_serve_flag():
    from mockserver.web.cli import build_parser

    assert build_parser().parse_args(["serve", "--forward-timeout", "5"]).forward_timeout == 5.0
    assert build_parser().parse_args(["serve"]).forward_timeout == 60.0
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--forward-timeout", "0"])
