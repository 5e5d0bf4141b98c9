"""The API surfaces the mock serves: one OpenAPI document each, mounted where its ``servers`` say.

- ``openapi.yaml``, the February 2026 release: paths at the root (``/api/tools``, ``/runs``),
  `Authorization: Bearer` keys, always the default workspace.
- ``openapi-v1.yaml``, the June 2026 release: the same kind of paths (``/tools``) under
  ``/api/v1`` (the default workspace) and ``/api/v1/workspaces/{workspace}`` (a named one),
  workspace keys in `X-RunAgents-API-Key`.

A surface's mounts are the path parts of its ``servers`` URLs, so adding a mount is a spec
change. ``Surfaces.router`` (``router.py``) answers which operation serves a request, over these
documents and, for the mock itself, ``mock-openapi.yaml`` (the control API and the runtime path).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property

from .releases import foreign_inputs
from .router import DEFAULT_WORKSPACE, WORKSPACE_PARAM, Located, Router, Surface

__all__ = ["DEFAULT_WORKSPACE", "WORKSPACE_PARAM", "Located", "Surface", "Surfaces"]


class Surfaces:
    """Every served API surface (the February one, mounted at the root, is the fallback), and
    ``extra`` documents routed beside them but not API surfaces (``mock-openapi.yaml``)."""

    def __init__(self, surfaces: list[Surface], extra: tuple[Surface, ...] = ()):
        self.all = tuple(surfaces)
        self.extra = extra
        self.root = next((s for s in surfaces if "" in s.mounts), surfaces[0])
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
        return next(s for s in (*self.all, *self.extra) if s.name == name)

    @cached_property
    def router(self) -> Router:
        """The one router over every document here (built once)."""
        return Router([*self.all, *self.extra])

    def locate(self, path: str) -> Located:
        """The surface, relative path and workspace of ``path`` (the router's first step)."""
        return self.router.locate(path)
