"""The bounded pool the mock's calls to agent endpoints run on (``AgentCalls``): one per mock
server, shared by its workspaces. Kept apart from ``agent_calls.py`` (which works on a
workspace's ``Platform``) so the Platform can hold a pool without a circle of imports."""

from __future__ import annotations

from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from ..basics.errors import ApiError
from ..basics.pool import BoundedPool, PoolBusy
from ..config import MockConfig


class AgentCalls:
    """The calls of one mock server to agent endpoints, on a bounded pool."""

    def __init__(self, config: MockConfig):
        self.timeout = config.agent_timeout_seconds
        self.pool = BoundedPool(config.agent_slots, max(1, config.agent_slots // 2))

    def claim(self, caller: str, agent: str, wait: bool = False) -> None:
        """Take a slot of ``caller`` (the agent, with its workspace) before its run starts;
        ApiError 503 when there is none (``wait``: up to the timeout first)."""
        try:
            self.pool.claim(caller, self.timeout if wait else 0.0)
        except PoolBusy:
            raise ApiError(
                503,
                f"agent calls busy: {self.pool.per_caller} calls to agent {agent} (or {self.pool.slots} "
                "in all) are already waiting on agents; retry later",
            ) from None

    def post(self, caller: str, url: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
        """POST on the slot ``caller`` claimed; (0, {"error": reason}) when the agent did not
        answer, also when it took longer than the timeout in all (its slot is given back when
        the connection ends)."""
        future = self.pool.start(caller, lambda: _post(url, body, headers, self.timeout))
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            return 0, {"error": "ReadTimeout"}


def _post(url: str, body: Any, headers: dict[str, str], timeout: float) -> tuple[int, Any]:
    import requests  # on first use: a session start-up need not load it

    try:
        response = requests.post(url, json=body, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        return 0, {"error": type(exc).__name__}
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, {"response": response.text}
