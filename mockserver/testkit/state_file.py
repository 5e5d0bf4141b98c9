"""Reading a ``--state-file`` store the way a starting server does (for tests and tools)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..spec.surfaces import DEFAULT_WORKSPACE
from ..surface.persistence import restore_state_file
from ..web.app import MockServer, create_app


def read_store(path: Path, workspace: str = DEFAULT_WORKSPACE) -> dict[str, Any]:
    """The state a store file holds for one workspace, as ``/_mock/state`` (or
    ``/_mock/workspaces/<ws>/state``) exports it."""
    app = create_app({"state_file": path})
    store = restore_state_file(app)
    store.close()
    server: MockServer = app.extensions["runagents_mock"]  # set by create_app
    return server.workspaces.get(workspace).export()
