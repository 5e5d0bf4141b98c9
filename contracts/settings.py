"""What one contract run was asked to do; shared by the CLI and the pytest options."""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlparse

DEFAULT_NAME_PREFIX = "contract-test-"
NAME_PREFIX_FORM = re.compile(r"[a-z][a-z0-9-]{3,}")
DEFAULT_MAX_EXAMPLES = 20
# Used when no key is given: the in-process mock is started to accept only this key, and
# `runagents-mock serve` accepts any key. A real server refuses it, which the preflight reports.
DEFAULT_API_KEY = "contract-test-key"
# The vendor SDK and CLI read the key from this variable too.
API_KEY_ENV = "RUNAGENTS_API_KEY"
# The APIs the kit checks, by the name `--api` takes: the document each is described by and
# where runagents-mock serves it (the in-process target's base path).
APIS = {"2026-02": ("openapi.yaml", ""), "v1": ("openapi-v1.yaml", "/api/v1")}
_V1_BASE_PATH = re.compile(r"(/api/v1|/workspaces/[^/]+)$")


def infer_api(base_url: str | None) -> str:
    """v1 for a base URL ending in /api/v1 or /workspaces/<ws>; otherwise the February API."""
    path = urlparse(base_url or "").path.rstrip("/")
    return "v1" if _V1_BASE_PATH.search(path) else "2026-02"


@dataclass(frozen=True)
class RunSettings:
    # Server to test; None starts an in-process runagents-mock.
    base_url: str | None = None
    # Bearer key; None falls back to $RUNAGENTS_API_KEY, then to DEFAULT_API_KEY.
    api_key: str | None = None
    # Only GET operations: nothing is created, changed or deleted.
    read_only: bool = False
    # Generated requests per operation (and link scenarios in the stateful test).
    max_examples: int = DEFAULT_MAX_EXAMPLES
    # Same seed, same requests; None picks one (the report prints it).
    seed: int | None = None
    # Put on every name the run sends; cleanup deletes what carries it.
    name_prefix: str = DEFAULT_NAME_PREFIX
    # Another openapi.yaml; None uses the one shipped with runagents-mock.
    spec_path: Path | None = None
    # Send invalid data too (schemathesis' negative mode and coverage scenarios), as `st run`
    # does; off with --positive-only, which also drops the checks that need invalid data.
    negative: bool = True
    # schemathesis built-in checks left out by name (every one runs by default).
    excluded_checks: tuple[str, ...] = ()
    # Longest link sequence the stateful test tries.
    stateful_steps: int = 8
    # Which API: "2026-02" (openapi.yaml) or "v1" (openapi-v1.yaml); None infers it from base_url.
    api: str | None = None

    def __post_init__(self) -> None:
        # Cleanup deletes whatever carries the prefix: an empty or vague one would mean "everything".
        if not NAME_PREFIX_FORM.fullmatch(self.name_prefix):
            raise ValueError(
                f"name prefix {self.name_prefix!r} is too vague: use at least 4 lowercase "
                "letters, digits or dashes, such as contract-test-"
            )
        if self.max_examples < 1:
            raise ValueError("max examples must be at least 1")
        if self.api is not None and self.api not in APIS:
            raise ValueError(f"unknown API {self.api!r}: use one of {', '.join(APIS)}")

    def resolved(self) -> RunSettings:
        """Fill the defaults that depend on the environment: the key and the seed."""
        api_key = self.api_key or os.environ.get(API_KEY_ENV) or DEFAULT_API_KEY
        seed = self.seed if self.seed is not None else random.randrange(1, 2**31)
        return replace(self, api_key=api_key, seed=seed, api=self.api or infer_api(self.base_url))
