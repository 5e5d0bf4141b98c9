"""What every load generator is given and what it reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class LoadSpec:
    base_url: str
    method: str
    paths: Sequence[str]  # cycled through, one per request
    headers: Mapping[str, str]
    body: bytes | None
    duration: float  # seconds
    concurrency: int  # keep-alive connections, each with one request in flight


@dataclass
class LoadResult:
    requests: int  # completed requests, whatever their status
    seconds: float
    rps: float
    p50_ms: float | None
    p99_ms: float | None
    errors: int  # status >= 400 plus socket errors and timeouts
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class LoadGenerator(Protocol):
    name: str

    def run(self, spec: LoadSpec) -> LoadResult: ...
