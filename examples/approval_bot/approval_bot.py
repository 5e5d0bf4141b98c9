"""approval_bot: a tiny RunAgents client that tracks agent runs and reviews access requests.

It is the kind of code a team writes on top of the RunAgents API: start a run, log what
happens in it, block a risky tool call until someone approves it, and let a bot approve
the just-in-time access requests for tools on an allow list (and reject the rest).

It talks plain HTTP with ``requests``; the only RunAgents-specific knowledge is the paths
and bodies from the API reference.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import requests

# Transient answers worth one more try: rate limited, or the platform briefly unavailable.
RETRY_STATUSES = frozenset({429, 502, 503})


class ApiError(Exception):
    """A non-2xx answer: ``status`` and the platform's ``error`` text."""

    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class RunAgentsApi:
    """JSON over HTTP with a bearer key, retrying transient failures a bounded number of times."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        retries: int = 1,
        max_wait_seconds: float = 2.0,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.max_wait_seconds = max_wait_seconds
        self.session = session or requests.Session()
        self.session.headers["Authorization"] = f"Bearer {api_key}"

    def call(self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None) -> Any:
        for attempt in range(self.retries + 1):
            response = self.session.request(method, self.base_url + path, json=body, params=params, timeout=10)
            if response.ok:
                return response.json()
            wait = self._retry_wait(response)
            if attempt == self.retries or wait is None:
                raise ApiError(response.status_code, _error_text(response))
            time.sleep(wait)
        raise AssertionError("unreachable")

    def _retry_wait(self, response: requests.Response) -> float | None:
        """Seconds to wait before retrying, or None when retrying would not help (soon enough)."""
        if response.status_code not in RETRY_STATUSES:
            return None
        retry_after = response.headers.get("Retry-After")
        wait = float(retry_after) if retry_after and retry_after.isdigit() else 0.05
        return wait if wait <= self.max_wait_seconds else None


def _error_text(response: requests.Response) -> str:
    try:
        return str(response.json().get("error", response.text))
    except ValueError:
        return response.text


@dataclass(frozen=True)
class Decision:
    request_id: str
    subject: str
    tool_id: str
    approved: bool
    reason: str


class ApprovalBot:
    def __init__(self, api: RunAgentsApi, allowed_tools: Iterable[str], name: str = "approval-bot"):
        self.api = api
        self.allowed_tools = frozenset(allowed_tools)
        self.name = name

    # --- runs ---------------------------------------------------------------------------

    def start_run(self, agent_id: str, user_id: str, message: str) -> dict[str, Any]:
        """A new RUNNING run whose log starts with the user's message."""
        run = self.api.call("POST", "/runs", {"agent_id": agent_id, "user_id": user_id})
        self.log(run["id"], "USER_MESSAGE", actor=user_id, content=message)
        return run

    def log(self, run_id: str, event_type: str, actor: str | None = None, **data: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"type": event_type}
        if actor:
            body["actor"] = actor
        if data:
            body["data"] = data
        return self.api.call("POST", f"/runs/{run_id}/events", body)

    def events(self, run_id: str) -> list[dict[str, Any]]:
        return self.api.call("GET", f"/runs/{run_id}/events")

    def run(self, run_id: str) -> dict[str, Any]:
        return self.api.call("GET", f"/runs/{run_id}")

    def request_tool(self, run_id: str, agent_id: str, tool_id: str, capability: str) -> dict[str, Any]:
        """Ask for just-in-time access on behalf of a run: the run pauses until a decision."""
        return self.api.call(
            "POST",
            "/governance/requests",
            {
                "subject": f"{agent_id}-sa",
                "agent_id": agent_id,
                "tool_id": tool_id,
                "capability": capability,
                "run_id": run_id,
            },
        )

    def block_action(self, run_id: str, tool_id: str, capability: str, payload_hash: str) -> dict[str, Any]:
        """Hold a tool call for a human: the run pauses with an APPROVAL_REQUIRED event."""
        return self.api.call(
            "POST",
            f"/runs/{run_id}/actions",
            {"tool_id": tool_id, "capability": capability, "payload_hash": payload_hash},
        )

    def approve_action(self, run_id: str, action_id: str, payload_hash: str) -> dict[str, Any]:
        return self.api.call("POST", f"/runs/{run_id}/actions/{action_id}/approve", {"payload_hash": payload_hash})

    def finish(self, run_id: str, answer: str) -> dict[str, Any]:
        self.log(run_id, "AGENT_MESSAGE", actor=self.name, content=answer)
        return self.api.call("PATCH", f"/runs/{run_id}", {"status": "COMPLETED"})

    # --- access requests ----------------------------------------------------------------

    def review_pending(self) -> list[Decision]:
        """Approve each pending request for an allowed tool, reject the others."""
        decisions = []
        for request in self.api.call("GET", "/governance/requests"):
            if request["tool_id"] in self.allowed_tools:
                reason = f"{request['tool_id']} is on the allow list"
                # A time window (the tool's default duration): with no scope the platform
                # approves the one blocked call only (`once`).
                self.api.call(
                    "POST",
                    f"/governance/requests/{request['id']}/approve",
                    {"approver_id": self.name, "scope": "agent_user_ttl"},
                )
                approved = True
            else:
                reason = f"{request['tool_id']} is not on the allow list"
                self.api.call("POST", f"/governance/requests/{request['id']}/reject", {"reason": reason})
                approved = False
            decisions.append(Decision(request["id"], request["subject"], request["tool_id"], approved, reason))
        return decisions

    def requests_with_status(self, status: str) -> list[dict[str, Any]]:
        return self.api.call("GET", "/governance/requests", params={"status": status})
