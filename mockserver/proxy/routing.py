"""Which document describes an exchange: the documents the mock serves, located the way the mock
locates them (February at the root, June under ``/api/v1`` and ``/api/v1/workspaces/{ws}``).

``locate`` is the one place the proxy asks the mock's router (``mockserver/spec/router.py``),
the code the mock's request pipeline uses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from ..spec.document import Operation, Spec, default_spec_path
from ..spec.surfaces import WORKSPACE_PARAM, Surface, Surfaces

# The documents the proxy checks against unless --spec replaces one: (surface name, file).
DEFAULT_DOCUMENTS = (("2026-02", "openapi.yaml"), ("v1", "openapi-v1.yaml"))


class Located(NamedTuple):
    surface: Surface
    path: str  # relative to the surface's mount: what its document describes
    mount: str  # the part of the request path before ``path`` ("", "/api/v1", "/api/v1/workspaces/acme")
    workspace: str
    found: tuple[Operation, dict[str, str]] | None  # the operation and its path parameters

    @property
    def spec(self) -> Spec:
        return self.surface.spec

    @property
    def operation(self) -> Operation | None:
        return self.found[0] if self.found else None

    def label(self) -> str | None:
        """The operation as reports name it, with its mount: ``POST /api/v1/tools``."""
        if self.found is None:
            return None
        op = self.found[0]
        return f"{op.method} {_mount_template(self.surface, self.mount)}{op.path}"


def _mount_template(surface: Surface, mount: str) -> str:
    """The mount as its document writes it (``/api/v1/workspaces/{workspace}``), so every
    workspace's calls count as one operation."""
    for template in surface.mounts:
        pattern = re.escape(template).replace(re.escape("{" + WORKSPACE_PARAM + "}"), "[^/]*")
        if re.fullmatch(pattern, mount):
            return template
    return mount


def build_surfaces(specs: Sequence[Path] = ()) -> Surfaces:
    """The packaged documents, each ``--spec`` replacing the one mounted where it is (its
    ``servers`` paths), or added when none is."""
    surfaces = [Surface.from_spec(name, file, Spec.load(default_spec_path(file))) for name, file in DEFAULT_DOCUMENTS]
    for path in specs:
        spec = Spec.load(path)
        same = next((i for i, s in enumerate(surfaces) if Surface.from_spec("", "", spec).mounts == s.mounts), None)
        if same is None:
            surfaces.append(Surface.from_spec(path.stem, path.name, spec))
        else:
            surfaces[same] = Surface.from_spec(surfaces[same].name, path.name, spec)
    return Surfaces(surfaces)


def locate(surfaces: Surfaces, method: str, path: str) -> Located:
    """The surface serving ``path`` and the operation it documents there (None: undocumented)."""
    route = surfaces.router.route(method, path)
    found = (route.operation, route.params) if route.operation is not None else None
    return Located(route.surface, route.path, route.mount, route.workspace, found)
