"""Reading a ``--state-file`` store the way a starting server does (for tests and tools)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..surface.persistence import restore_state_file
from ..web.app import create_app


def read_store(path: Path) -> dict[str, Any]:
    """The state a store file holds, as ``/_mock/state`` exports it."""
    app = create_app({"state_file": path})
    store = restore_state_file(app)
    store.close()
    return app.extensions["runagents_mock"].platform.export()
