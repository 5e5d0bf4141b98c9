"""Settings of one mock instance, passed to ``create_app``; nothing is read from globals."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class MockConfig:
    # Keys accepted as `Authorization: Bearer <key>` (and, for `ra_ws_` keys on /api/v1, as
    # `X-RunAgents-API-Key`); empty (and no workspace_keys) means any non-empty key.
    api_keys: tuple[str, ...] = ()
    # (workspace, key) pairs: keys accepted only on that workspace of /api/v1 ("default" is
    # also the February surface). `--workspace-key WS=KEY` on the command line.
    workspace_keys: tuple[tuple[str, str], ...] = ()
    # Key for /_mock/ when set; otherwise /_mock/ takes the API keys.
    admin_key: str | None = None
    # False turns the /_mock/ control API off entirely.
    admin_enabled: bool = True
    # Host names accepted in the Host header besides IP addresses, localhost and *.localhost
    # (`--allow-host NAME`; a bound `--host` name is added): others are a 403 (DNS rebinding).
    allowed_hosts: tuple[str, ...] = ()
    # Largest request body accepted (413 above it).
    max_body_bytes: int = 5 * 1024 * 1024
    # Most stored objects of any one kind (tools, runs, events of a run, ...); more is a 409.
    max_objects_per_kind: int = 10_000
    # Bytes of client data kept (specs of tools and providers, run event data), as charged by
    # budget.py (JSON size plus 64 per object or list); more is a 409.
    max_stored_bytes: int = 256 * 1024 * 1024
    # Requests kept in the journal (oldest dropped first).
    journal_size: int = 1_000
    # Largest request or response body the journal keeps; a larger one is kept as its size only.
    journal_body_bytes: int = 64 * 1024
    # How long a build spends PENDING and then BUILDING, in clock seconds.
    build_pending_seconds: float = 1.0
    build_running_seconds: float = 2.0
    # How long an analysis stays retrievable.
    analysis_ttl_seconds: float = 3600.0
    # Requests per minute per API key; None for no limit.
    rate_limit_per_minute: int | None = None
    # Fixture file loaded at start (YAML or JSON, in the API's own shapes).
    seed_file: Path | None = None
    # Where state is restored from and saved to; None keeps state in memory only.
    state_file: Path | None = None
    # Another openapi.yaml to serve (defaults to the packaged one).
    spec_path: Path | None = None
    # Another openapi-v1.yaml (the /api/v1 surface) to serve (defaults to the packaged one).
    v1_spec_path: Path | None = None
    # Check every response against openapi.yaml and turn a deviation into a loud 500. Meant
    # for test suites (ours sets RUNAGENTS_MOCK_STRICT=1, which subprocess servers inherit).
    # Seconds the tool proxy waits for a loopback tool it forwards to (504 after that).
    forward_timeout_seconds: float = 60.0
    # Tool calls forwarded at once; one agent gets at most half (at least 1); a call over
    # either is answered 503 at once. `serve --server waitress` makes it at most half of
    # --threads (docs/runtime.md, *Forwarding to a loopback tool*).
    forward_slots: int = 4
    # Seconds an invoke (or the resume worker) waits for an agent's endpoint (502 after that):
    # longer than a forward, since the agent's answer includes its own tool and model calls.
    agent_timeout_seconds: float = 120.0
    # Calls to agent endpoints at once (invoke proxied to an agent, resumes); one agent gets at
    # most half (at least 1); an invoke over either is answered 503 at once. `serve --server
    # waitress` makes it at most a quarter of --threads (docs/reliability.md, *The tool proxy*).
    agent_slots: int = 4
    # "namespace/name" -> base URL of a real agent process (invoke is proxied to it, and the
    # resume worker calls it after approvals); PUT /_mock/agents/.../endpoint adds more.
    agent_endpoints: Mapping[str, str] = field(default_factory=dict)
    # Run deployed source agents as local processes (serve --run-agents; docs/runtime.md,
    # "Running agents"): off by default, since it runs deployed code on this machine.
    run_agents: bool = False
    # A directory holding the vendor ``runagents`` package the agents run on (--agent-sdk);
    # None: the one this Python imports.
    agent_sdk: str | None = None
    # Agent processes running at once (--max-agents).
    max_running_agents: int = 8
    strict_responses: bool = field(default_factory=lambda: os.environ.get("RUNAGENTS_MOCK_STRICT") == "1")

    @classmethod
    def from_mapping(cls, config: MockConfig | Mapping[str, Any] | None) -> MockConfig:
        if config is None:
            return cls()
        if isinstance(config, MockConfig):
            return config
        known = {f.name for f in fields(cls)}
        unknown = set(config) - known
        if unknown:
            raise TypeError(f"unknown mock setting(s): {', '.join(sorted(unknown))}")
        values = dict(config)
        if "api_keys" in values:
            values["api_keys"] = tuple(values["api_keys"] or ())
        if "workspace_keys" in values:
            pairs = values["workspace_keys"] or ()
            pairs = pairs.items() if isinstance(pairs, Mapping) else pairs
            values["workspace_keys"] = tuple((str(ws), str(key)) for ws, key in pairs)
        return cls(**values)

    def workspace_of_key(self, key: str) -> str | None:
        """The workspace a key is bound to, or None for a key that works everywhere."""
        return next((ws for ws, bound in self.workspace_keys if bound == key), None)

    def with_changes(self, **changes: Any) -> MockConfig:
        return replace(self, **changes)
