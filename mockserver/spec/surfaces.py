"""The API surfaces the mock serves: one OpenAPI document each, mounted where its ``servers`` say.

- ``openapi.yaml``, the February 2026 release: paths at the root (``/api/tools``, ``/runs``),
  `Authorization: Bearer` keys, always the default workspace.
- ``openapi-v1.yaml``, the June 2026 release: the same kind of paths (``/tools``) under
  ``/api/v1`` (the default workspace) and ``/api/v1/workspaces/{workspace}`` (a named one),
  workspace keys in `X-RunAgents-API-Key`.

A surface's mounts are the path parts of its ``servers`` URLs, so adding a mount is a spec
change. ``Surfaces.locate`` tells which surface, mount and workspace a request path belongs to;
the dispatcher, the strict response check and the pytest plugin all use it, and ``/docs`` can
list ``MockServer.surfaces`` to show every served document.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlparse

from .document import Spec
from .releases import foreign_inputs
from .security import key_header as scheme_key_header

WORKSPACE_PARAM = "workspace"
DEFAULT_WORKSPACE = "default"


@dataclass(frozen=True)
class Surface:
    name: str  # "2026-02" or "v1": how docs, reports and the contract kit name it
    document: str  # the file name of its OpenAPI document, for messages
    spec: Spec
    mounts: tuple[str, ...]  # path prefixes; "{workspace}" marks the workspace segment
    key_header: str | None  # the API-key header of an apiKey scheme (workspace keys), if any

    @classmethod
    def from_spec(cls, name: str, document: str, spec: Spec) -> Surface:
        mounts: list[str] = []
        for server in spec.document.get("servers", []):
            path = urlparse(server["url"]).path.rstrip("/")
            if path not in mounts:
                mounts.append(path)
        header = scheme_key_header(spec.document)
        # Longest mount first, so /api/v1/workspaces/{workspace} wins over /api/v1.
        return cls(
            name, document, spec, tuple(sorted(mounts or [""], key=len, reverse=True)), header[1] if header else None
        )


class Located(NamedTuple):
    surface: Surface
    path: str  # the request path relative to the mount: what the surface's spec describes
    workspace: str  # DEFAULT_WORKSPACE unless the mount names one


class Surfaces:
    """Every served surface; the February one (mounted at the root) is the fallback."""

    def __init__(self, surfaces: list[Surface]):
        self.all = tuple(surfaces)
        self._patterns: list[tuple[re.Pattern[str], Surface]] = []
        root: Surface | None = None
        for surface in surfaces:
            for mount in surface.mounts:
                if not mount:
                    root = root or surface
                    continue
                regex = re.escape(mount).replace(
                    re.escape("{" + WORKSPACE_PARAM + "}"), f"(?P<{WORKSPACE_PARAM}>[^/]*)"
                )
                self._patterns.append((re.compile(f"{regex}(?=/|$)"), surface))
        self._patterns.sort(key=lambda item: len(item[0].pattern), reverse=True)
        self.root = root or surfaces[0]
        # (surface, operationId) -> inputs of another release's version of it (releases.py)
        self.foreign: dict[tuple[str, str], dict[tuple[str, str], str]] = {}
        for surface in surfaces:
            for other in surfaces:
                if other is not surface:
                    for op_id, inputs in foreign_inputs(surface.spec, other.spec).items():
                        self.foreign.setdefault((surface.name, op_id), {}).update(inputs)

    def __iter__(self) -> Iterator[Surface]:
        return iter(self.all)

    def by_name(self, name: str) -> Surface:
        return next(s for s in self.all if s.name == name)

    def locate(self, path: str) -> Located:
        for pattern, surface in self._patterns:
            match = pattern.match(path)
            if match:
                workspace = match.groupdict().get(WORKSPACE_PARAM)
                return Located(
                    surface, path[match.end() :] or "/", DEFAULT_WORKSPACE if workspace is None else workspace
                )
        return Located(self.root, path, DEFAULT_WORKSPACE)
