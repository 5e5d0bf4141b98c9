"""The four request shapes every target is loaded with, and the key they all send."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

API_KEY = "bench-key"  # the mock takes any non-empty key by default; Prism only checks presence
AUTH_HEADERS = {"Authorization": f"Bearer {API_KEY}"}
JSON_HEADERS = {**AUTH_HEADERS, "Content-Type": "application/json"}

# Prism and the ceiling keep no state, so any id serves; the mock gets ids from seeding.
PLACEHOLDER_RUN_ID = "00000000-0000-4000-8000-000000000000"

CHAT_MODEL = "gpt-4o-mini"
CHAT_BODY = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "hello"}]}
EVENT_BODY = {"type": "USER_MESSAGE"}


@dataclass(frozen=True)
class Workload:
    name: str  # short key used in JSON and on the command line
    method: str
    path: str  # may hold {run_id}
    body: bytes | None = None
    # POST /runs/{id}/events spreads over every seeded run: the mock caps events per run.
    rotate_runs: bool = False

    @property
    def label(self) -> str:
        return f"{self.method} {self.path.replace('{run_id}', '{id}')}"

    @property
    def headers(self) -> dict[str, str]:
        return dict(JSON_HEADERS if self.body is not None else AUTH_HEADERS)

    def paths(self, run_ids: Sequence[str]) -> list[str]:
        """Concrete paths to cycle through (one unless the workload rotates runs)."""
        if "{run_id}" not in self.path:
            return [self.path]
        chosen = run_ids if self.rotate_runs else run_ids[:1]
        return [self.path.format(run_id=run_id) for run_id in chosen]


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


WORKLOADS: tuple[Workload, ...] = (
    Workload("list_agents", "GET", "/api/agents"),
    Workload("get_run", "GET", "/runs/{run_id}"),
    Workload("add_event", "POST", "/runs/{run_id}/events", _json(EVENT_BODY), rotate_runs=True),
    Workload("chat", "POST", "/v1/chat/completions", _json(CHAT_BODY)),
)
WORKLOADS_BY_NAME = {w.name: w for w in WORKLOADS}
