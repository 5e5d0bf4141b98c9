"""The one router: which operation of which served document answers ``method path``.

Every "which operation is this request" is answered here: the request pipeline
(``web/dispatch.py``), the ``Allow`` header of a 405, the strict answer check and the pytest
plugin's checker (``conformance.py``), the recording proxy (``proxy/routing.py``).

A request path is located once: the document whose mount it starts with (``/api/v1``,
``/api/v1/workspaces/{workspace}``; among root-mounted documents, one that is not the first claims
the first path segments of its own paths, so ``/_mock/...`` and ``/_egress/...`` belong to
``mock-openapi.yaml`` and the rest of the root to ``openapi.yaml``), then the path item inside
that document (``matching.py``). Everything is built once per document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlparse

from .document import Operation, Spec
from .matching import first_segment
from .security import key_header as scheme_key_header

WORKSPACE_PARAM = "workspace"
DEFAULT_WORKSPACE = "default"


@dataclass(frozen=True)
class Surface:
    """A served document and where it is mounted."""

    name: str  # "2026-02", "v1", "mock": how docs, reports and the contract kit name it
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
    """Where a request path belongs, before any operation is looked for."""

    surface: Surface
    path: str  # the request path relative to the mount: what the surface's document describes
    workspace: str  # DEFAULT_WORKSPACE unless the mount names one
    mount: str  # the part of the request path before ``path`` ("", "/api/v1", "/api/v1/workspaces/acme")


class Route(NamedTuple):
    """The located operation of one request (``operation`` None: no operation answers it)."""

    surface: Surface
    operation: Operation | None
    params: dict[str, str]  # the path parameters (the mount's workspace left out)
    workspace: str  # the mount's, else a ``workspace`` path parameter's, else DEFAULT_WORKSPACE
    path: str  # relative to the mount
    mount: str
    allowed: tuple[str, ...]  # the methods of the path item serving the path (empty: none does)
    keyless: bool  # the path takes no key (its path item's operations, or its part of the document)
    malformed: tuple[int, str] | None  # (status, error) for a path under an x-malformed-path-error prefix

    @property
    def spec(self) -> Spec:
        return self.surface.spec


class Router:
    """``route(method, path)`` over every served document."""

    def __init__(self, surfaces: Iterable[Surface]):
        self.surfaces = tuple(surfaces)
        # (static prefix, pattern, names a workspace, surface): the prefix is checked first, cheaper
        # than the pattern for the paths of the root document
        self._mounts: list[tuple[str, re.Pattern[str], bool, Surface]] = []
        for surface in self.surfaces:
            for mount in surface.mounts:
                if mount:
                    regex = re.escape(mount).replace(
                        re.escape("{" + WORKSPACE_PARAM + "}"), f"(?P<{WORKSPACE_PARAM}>[^/]*)"
                    )
                    prefix = mount.split("{", 1)[0]
                    self._mounts.append((prefix, re.compile(f"{regex}(?=/|$)"), "{" in mount, surface))
        self._mounts.sort(key=lambda item: len(item[1].pattern), reverse=True)
        roots = [s for s in self.surfaces if "" in s.mounts]
        self.root = roots[0] if roots else self.surfaces[0]
        self._claims: dict[str, Surface] = {}  # first segment -> a root document other than the first
        for surface in roots[1:]:
            for op in surface.spec.operations.values():
                self._claims.setdefault(first_segment(op.path), surface)

    def by_name(self, name: str) -> Surface:
        return next(s for s in self.surfaces if s.name == name)

    def locate(self, path: str) -> Located:
        """The surface serving ``path``, the path inside it, the mount's workspace."""
        for prefix, pattern, named, surface in self._mounts:
            if not path.startswith(prefix):
                continue
            match = pattern.match(path)
            if match:
                end = match.end()
                # An empty workspace segment is a workspace name too (refused by the guard), never the default.
                workspace = match.group(WORKSPACE_PARAM) if named else DEFAULT_WORKSPACE
                return Located(surface, path[end:] or "/", workspace, path[:end])
        if self._claims:
            claimed = self._claims.get(first_segment(path))
            if claimed is not None:
                return Located(claimed, path, DEFAULT_WORKSPACE, "")
        return Located(self.root, path, DEFAULT_WORKSPACE, "")

    def route(self, method: str, path: str) -> Route:
        surface, rel, workspace, mount = self.locate(path)
        paths = surface.spec.paths
        item, op, params = paths.lookup(method.upper(), rel)
        if item is None:
            return Route(surface, None, {}, workspace, rel, mount, (), paths.keyless(rel), paths.malformed_answer(rel))
        if not mount and WORKSPACE_PARAM in params:
            workspace = params[WORKSPACE_PARAM]  # a document naming the workspace in its paths (mock-openapi.yaml)
        return Route(surface, op, params, workspace, rel, mount, item.allowed, item.keyless, None)
