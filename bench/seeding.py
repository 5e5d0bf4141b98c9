"""Putting the mock into the state the workloads expect, through its public API only.

The same steps run over HTTP (against a served mock) and in-process (for the ceiling's
constant bodies and the profiler), so both see identical state.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .workloads import CHAT_MODEL, JSON_HEADERS

AGENT_COUNT = 10
# The mock refuses more than 10 000 events per run (409); spread POST /events over enough runs.
EVENTS_PER_RUN_LIMIT = 10_000
ASSUMED_MAX_RPS = 20_000

# call(method, path, json_body) -> (status, parsed JSON)
Call = Callable[[str, str, Any], tuple[int, Any]]


@dataclass(frozen=True)
class SeedResult:
    run_ids: list[str]


def runs_needed(seconds: float) -> int:
    return max(4, math.ceil(seconds * ASSUMED_MAX_RPS / (EVENTS_PER_RUN_LIMIT * 0.9)))


def seed(call: Call, run_count: int) -> SeedResult:
    for i in range(AGENT_COUNT):
        _expect(
            call(
                "POST",
                "/api/deploy",
                {
                    "agent_name": f"bench-agent-{i:02d}",
                    "image": "registry.example.com/bench-agent:1",
                    "system_prompt": "You answer benchmark questions.",
                    "llm_configs": [{"provider": "openai", "model": CHAT_MODEL}],
                },
            ),
            201,
        )
    _expect(
        call(
            "POST",
            "/api/model-providers",
            {
                "name": "openai",
                "spec": {
                    "provider": "openai",
                    "endpoint": "https://api.openai.com",
                    "models": [CHAT_MODEL],
                    "auth": {"type": "None"},
                },
            },
        ),
        201,
    )
    run_ids = []
    for i in range(run_count):
        status, run = _expect(
            call("POST", "/runs", {"agent_id": "bench-agent-00", "user_id": f"user{i}@example.com"}), 201
        )
        run_ids.append(run["id"])
    return SeedResult(run_ids)


def _expect(reply: tuple[int, Any], status: int) -> tuple[int, Any]:
    if reply[0] != status:
        raise RuntimeError(f"seeding failed: expected {status}, got {reply[0]}: {reply[1]!r}")
    return reply


def http_call(base_url: str) -> Call:
    """A Call over one keep-alive connection to a served mock."""
    from .http_client import KeepAliveClient

    client = KeepAliveClient(base_url)

    def call(method: str, path: str, body: Any) -> tuple[int, Any]:
        status, raw = client.request(method, path, JSON_HEADERS, json.dumps(body).encode())
        return status, json.loads(raw) if raw else None

    return call


def in_process_call(app: Any) -> Call:
    """A Call on Flask's in-process test client (no sockets)."""
    client = app.test_client()

    def call(method: str, path: str, body: Any) -> tuple[int, Any]:
        reply = client.open(path, method=method, headers=JSON_HEADERS, data=json.dumps(body))
        return reply.status_code, reply.get_json(silent=True)

    return call
