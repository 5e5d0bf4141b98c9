"""``--state-file``: restore state at start, save it atomically while running and at shutdown.

Saving happens on a background thread every ``interval`` seconds when the state changed, and
once more on a clean stop. Each save writes a temporary file, fsyncs it and renames it over
the old one, so a crash (even SIGKILL) leaves either the previous or the new snapshot, never a
torn one. The snapshot is ``/_mock/state``'s export, which holds no secret values.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path

from flask import Flask

DEFAULT_INTERVAL = 0.5


class StateFileError(Exception):
    """The state file exists but cannot be used; the server refuses to start."""


def read_state(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StateFileError(f"cannot read state file {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise StateFileError(f"state file {path} is corrupt (not JSON: {exc}); "
                             "move it away to start empty") from None


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class StateSaver:
    def __init__(self, platform, path: Path, interval: float = DEFAULT_INTERVAL):
        self.platform = platform
        self.path = path
        self.interval = interval
        self._last = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="state-saver", daemon=True)

    def start(self) -> "StateSaver":
        self._thread.start()
        return self

    def save(self) -> None:
        text = json.dumps(self.platform.export(), separators=(",", ":"))
        if text != self._last:
            write_atomically(self.path, text)
            self._last = text

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.save()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.save()


def restore_state_file(app: Flask) -> Path:
    """Load the app's state file if it exists; StateFileError when it cannot be used."""
    server = app.extensions["runagents_mock"]
    path = Path(server.config.state_file)
    if path.exists():
        try:
            server.load_state(read_state(path))
        except ValueError as exc:
            raise StateFileError(f"state file {path} cannot be loaded: {exc}") from None
    return path


def attach_state_file(app: Flask, interval: float = DEFAULT_INTERVAL) -> StateSaver:
    """Restore the state file, then keep saving to it; ``stop()`` the saver for the last save."""
    path = restore_state_file(app)
    return StateSaver(app.extensions["runagents_mock"].platform, path, interval).start()
