"""Settings of one proxy; nothing is read from globals."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 8093  # the mock's 8092, plus one
ANSWERED_BY_HEADER = "X-RunAgents-Proxy-Answered-By"  # "upstream" or "mock" on every answer


@dataclass(frozen=True)
class MockRoute:
    """``--mock 'METHOD PATH-GLOB'``: requests always answered by the built-in mock."""

    method: str  # upper case, or "*"
    path_glob: str

    @classmethod
    def parse(cls, text: str) -> MockRoute:
        method, _, glob = text.strip().partition(" ")
        if not glob.strip().startswith("/") or not method:
            raise ValueError(f"--mock takes 'METHOD PATH-GLOB', e.g. 'POST /api/tools*'; got {text!r}")
        return cls(method.upper(), glob.strip())

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method.upper()) and fnmatch.fnmatchcase(path, self.path_glob)


@dataclass(frozen=True)
class ProxyConfig:
    upstream: str  # base URL, may carry a path prefix
    # Sent as "Authorization: Bearer KEY" on requests that carry no Authorization of their own.
    api_key: str | None = None
    # --spec: documents that replace the packaged one mounted where they are (their servers'
    # paths), or are added beside them.
    spec_paths: tuple[Path, ...] = ()
    # Undocumented calls fail the session unless accepted explicitly.
    allow_undocumented: bool = False
    # Host names (beyond IP literals and localhost) and page origins allowed to use the proxy.
    allowed_hosts: frozenset[str] = frozenset()
    allowed_origins: frozenset[str] = frozenset()
    # Seconds to connect, and between bytes of the upstream's answer.
    timeout: float = 30.0
    # "mock": answer from a built-in mock when the upstream fails or lacks a documented operation.
    fallback: str | None = None
    mock_routes: tuple[MockRoute, ...] = ()
    # How much of each body is kept for validation, the record and the HAR (bodies are
    # streamed through whatever their size; a larger one is passed on but not validated).
    keep_body_bytes: int = 5 * 1024 * 1024
    # Skip TLS certificate verification of the upstream (a self-signed test install).
    insecure: bool = False
    # CA bundle to verify the upstream with (default: the system's / certifi's).
    ca_bundle: str | None = None

    def routed_to_mock(self, method: str, path: str) -> bool:
        return any(route.matches(method, path) for route in self.mock_routes)
