"""Issue 23 item 3, agent calls: invokes proxied to a slow agent cannot starve the rest of the mock.

A loopback agent holds every call until the test lets it go. Invokes of one agent beyond its
share of the pool (2 of 4 slots) are answered 503 at once, with no run left behind; once the
whole pool is held (two agents, February and June paths), a third agent's invoke is a 503 too,
while the API, an agent the mock answers itself and the runtime keep answering, on both
servers. No timing is asserted: a starved call would fail on its (generous) client timeout,
because the agent answers only after every check below has passed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import pytest
import requests
from loopback import LoopbackTool
from reliability_support import API_KEY, AUTH, ServedMock

from mockserver.basics.pool import BoundedPool, PoolBusy

CLIENT_TIMEOUT = 30  # seconds: far longer than any answer here takes unless it is starved
BUSY = "agent calls busy: 2 calls to agent agent-system/{} (or 4 in all) are already waiting on agents; retry later"


@pytest.fixture
def agent() -> Iterator[LoopbackTool]:
    """An agent endpoint that holds every call until ``release`` is set."""
    held = LoopbackTool(hold=True, answer=lambda path, headers: {"response": "done", "path": path})
    yield held
    held.close()


def _post(url: str, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(url + path, json=body, headers=AUTH, timeout=CLIENT_TIMEOUT)


def _build(url: str, endpoint: str) -> None:
    assert _post(url, "/api/starter-kit", {}).status_code == 200
    for name in ("bot", "bot2", "bot3", "plain"):
        answer = _post(url, "/api/deploy", {"agent_name": name, "image": "i", "required_tools": ["echo-tool"]})
        assert answer.status_code in (200, 201), answer.text
    for name in ("bot", "bot2", "bot3"):
        answer = requests.put(
            f"{url}/_mock/agents/agent-system/{name}/endpoint", json={"url": endpoint}, headers=AUTH, timeout=30
        )
        assert answer.status_code == 200, answer.text


def _runs_of(url: str, agent: str) -> list[dict[str, Any]]:
    return requests.get(f"{url}/runs", params={"agent_id": agent}, headers=AUTH, timeout=CLIENT_TIMEOUT).json()


@pytest.mark.parametrize("server", ["granian", "waitress"])
def test_slow_agents_cannot_starve_the_api_and_a_full_share_is_a_503(server, agent):
    # --threads 16: waitress gets the same pool as granian (4 agent slots, 2 per agent).
    with ServedMock("--server", server, "--threads", "16", "--api-key", API_KEY) as served:
        url = served.url
        _build(url, agent.url)
        with ThreadPoolExecutor(max_workers=8) as pool:
            held = [pool.submit(_post, url, "/api/agents/agent-system/bot/invoke", {"message": "hi"}) for _ in range(4)]
            for _ in range(2):  # bot's share reaches the agent ...
                assert agent.arrived.acquire(timeout=CLIENT_TIMEOUT), "the agent was never called"
            busy = []
            for done in as_completed(held, timeout=CLIENT_TIMEOUT):  # ... the rest is refused at once
                busy.append(done.result())
                if len(busy) == 2:
                    break
            assert [(b.status_code, b.json()) for b in busy] == [(503, {"error": BUSY.format("bot")})] * 2

            # Another agent through June's path takes the other two slots; then the pool is full.
            held += [pool.submit(_post, url, "/api/v1/agents/bot2/invoke", {"message": "hi"}) for _ in range(2)]
            for _ in range(2):
                assert agent.arrived.acquire(timeout=CLIENT_TIMEOUT), "the agent was never called"
            full = _post(url, "/api/v1/agents/bot3/invoke", {"message": "hi"})
            assert (full.status_code, full.json()) == (503, {"error": BUSY.format("bot3")})

            # While four invokes wait on the agent: the API, an agent the mock answers itself
            # (both releases), the runtime and the control API, several at once.
            with ThreadPoolExecutor(max_workers=8) as others:
                futures = [
                    others.submit(requests.get, f"{url}/api/tools", headers=AUTH, timeout=CLIENT_TIMEOUT),
                    others.submit(requests.get, f"{url}/api/v1/agents", headers=AUTH, timeout=CLIENT_TIMEOUT),
                    others.submit(_post, url, "/api/agents/agent-system/plain/invoke", {"message": "x"}),
                    others.submit(_post, url, "/api/v1/agents/plain/invoke", {"message": "y"}),
                    others.submit(
                        requests.get, f"{url}/_egress/agent-system/plain/echo-tool/z", timeout=CLIENT_TIMEOUT
                    ),
                    others.submit(requests.get, f"{url}/_mock/clock", headers=AUTH, timeout=CLIENT_TIMEOUT),
                ]
                assert [f.result().status_code for f in futures] == [200] * 6
            assert sum(1 for f in held if f.done()) == 2, "an invoke held by the agent was answered early"

            agent.release.set()
            answers = [f.result(timeout=CLIENT_TIMEOUT) for f in held]
            assert sorted(a.status_code for a in answers) == [200] * 4 + [503] * 2
            assert all(a.json()["response"] == "done" for a in answers if a.status_code == 200)
        # The refused invokes started no run; the four that reached the agent completed.
        assert sorted(r["status"] for r in _runs_of(url, "bot")) == ["COMPLETED"] * 2
        assert sorted(r["status"] for r in _runs_of(url, "bot2")) == ["COMPLETED"] * 2
        assert _runs_of(url, "bot3") == []


def test_the_agent_timeout_fails_the_run_and_frees_the_slot(make_api, agent):
    api = make_api(agent_timeout_seconds=0.2, agent_slots=2)  # one slot for the agent
    api.post("/api/starter-kit", {})
    api.post("/api/deploy", {"agent_name": "bot", "image": "i", "required_tools": ["echo-tool"]})
    api.put("/_mock/agents/agent-system/bot/endpoint", {"url": agent.url})
    late = api.post("/api/agents/agent-system/bot/invoke", {"message": "hi"})
    assert (late.status_code, late.json) == (502, {"error": "failed to reach agent: ReadTimeout"})
    assert [r["status"] for r in api.get("/runs?agent_id=bot").json] == ["FAILED"]
    agent.release.set()  # the late call ends, and gives its slot back
    pool = api.mock.platform.agent_calls.pool
    pool.claim("default/agent-system/bot", wait=30)  # (waits for that)
    pool.release("default/agent-system/bot")
    again = api.post("/api/agents/agent-system/bot/invoke", {"message": "again"})
    assert (again.status_code, again.json.get("response")) == (200, "done"), again.json


def test_agent_timeout_is_a_serve_flag():
    from mockserver.web.cli import build_parser

    assert build_parser().parse_args(["serve", "--agent-timeout", "5"]).agent_timeout == 5.0
    assert build_parser().parse_args(["serve"]).agent_timeout == 120.0
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--agent-timeout", "0"])


def test_a_waiting_claim_gets_the_slot_freed_by_another_call():
    """The resume worker waits for a slot (it holds no server thread) instead of being refused."""
    pool = BoundedPool(slots=1, per_caller=1)
    gate = threading.Event()
    held = pool.submit("a", lambda: gate.wait(30))
    with pytest.raises(PoolBusy):
        pool.claim("b")
    threading.Timer(0.05, gate.set).start()
    pool.claim("b", wait=30)  # returns once a's call has ended
    assert held.done()
    pool.release("b")
    assert pool.in_flight() == 0
