"""The access log: one line per request, written when its answer has been sent.

Fields: method, path (never the query string: an OAuth callback's ``code`` travels there),
status, duration in milliseconds, workspace and the id of the key it carried, never the key.
Records go to the ``runagents_mock.access`` logger at INFO; ``runagents-mock serve`` shows them
(``--log-level``, ``--log-format``), while an unconfigured process (the pytest plugin) drops
them unformatted, since Python's root logger passes only warnings on.

The middleware wraps the whole app (``/_mock/``, the pages, the runtime path and the API), so
every request the mock itself answers is logged; requests the HTTP server refuses before the
mock sees them (granian's 408 for a slow body, waitress' own 400s) are not.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from ..config import MockConfig
from ..services.workspace_keys import WorkspaceKeys
from ..spec.paths import WORKSPACE_RUNTIME_PREFIX, is_page
from ..spec.surfaces import Surfaces


class LoggedServer(Protocol):
    """What the access log reads of the mock server (``app.MockServer`` is one)."""

    @property
    def config(self) -> MockConfig: ...
    @property
    def workspace_keys(self) -> WorkspaceKeys: ...  # a minted key's id
    @property
    def surfaces(self) -> Surfaces: ...  # the workspace of a path


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

LOGGER_NAME = "runagents_mock.access"
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")
log = logging.getLogger(LOGGER_NAME)

# A key that is neither configured nor minted (open mode) is named by a keyed hash: stable for
# the life of the process, so its requests can be told apart, but not a dictionary-reversible
# digest of a short key such as "dev".
_FINGERPRINT_SECRET = secrets.token_bytes(16)
_MOCK_WORKSPACES = "/_mock/workspaces/"


def wrap(server: LoggedServer, app: WSGIApp) -> WSGIApp:
    """``app`` with the access log in front (the one call ``create_app`` makes)."""
    return AccessLog(server, app)


class AccessLog:
    """WSGI middleware: logs each request once its answer is made (a streamed one when it ends).
    Logging an answer made whole before the server sends it keeps one client's requests in
    order: logged after sending (on close), a waitress thread could log a request after the
    client's next one."""

    def __init__(self, server: LoggedServer, app: WSGIApp):
        from ..spec.security import bearer_key  # the one auth module (it imports no Flask)

        self.server = server
        self.app = app
        self._bearer_key = bearer_key

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not log.isEnabledFor(logging.INFO):  # the pytest plugin, --log-level warning: no cost
            return self.app(environ, start_response)
        started = time.perf_counter()
        status: list[int] = [0]

        def recording_start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[0] = int(line[:3])
            return start_response(line, headers, exc_info) if exc_info else start_response(line, headers)

        try:
            result = self.app(environ, recording_start_response)
        except BaseException:
            self._log(environ, status[0] or 500, started)
            raise
        if isinstance(result, list):  # answered whole: logged now, so a client's requests log in their order
            self._log(environ, status[0], started)
            return result
        return _LoggedBody(result, lambda: self._log(environ, status[0], started))  # streamed: when it ends

    def _log(self, environ: dict[str, Any], status: int, started: float) -> None:
        path = environ.get("PATH_INFO", "")
        try:  # WSGI carries the path's bytes as latin-1
            path = path.encode("latin-1").decode("utf-8")
        except UnicodeError:
            pass
        access = {
            "method": environ.get("REQUEST_METHOD", ""),
            "path": path,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "workspace": self._workspace(path),
            "key_id": self._key_id(environ),
        }
        # makeRecord + handle, not log.info: info() walks the stack for the caller's file and
        # line on every request, a third of the log's cost, and this record never shows them.
        log.handle(
            log.makeRecord(LOGGER_NAME, logging.INFO, __file__, 0, "request", (), None, extra={"access": access})
        )

    def _workspace(self, path: str) -> str | None:
        for prefix in (_MOCK_WORKSPACES, WORKSPACE_RUNTIME_PREFIX):  # /_mock/workspaces/<ws>/, /_workspaces/<ws>/
            if path.startswith(prefix):
                return path[len(prefix) :].split("/", 1)[0] or None
        if path.startswith("/_mock/") or is_page(path):
            return None  # the control API and the pages belong to no workspace
        return self.server.surfaces.locate(path).workspace

    def _key_id(self, environ: dict[str, Any]) -> str | None:
        key = (environ.get("HTTP_X_RUNAGENTS_API_KEY") or "").strip() or self._bearer_key(
            environ.get("HTTP_AUTHORIZATION", "")
        )
        return key_id(self.server, key) if key else None


def key_id(server: LoggedServer, key: str) -> str:
    """A name for ``key`` that never reveals it: ``admin-key``, ``api-key-N`` (the Nth
    ``--api-key``), ``workspace-key-N`` (the Nth ``--workspace-key``), a minted key's own id
    (``key-N``, as ``GET /_mock/workspaces/{ws}/keys`` lists it), else ``fp-`` and a keyed hash."""
    config = server.config
    if config.admin_key and hmac.compare_digest(key.encode(), config.admin_key.encode()):
        return "admin-key"
    for index, accepted in enumerate(config.api_keys, 1):
        if hmac.compare_digest(key.encode(), accepted.encode()):
            return f"api-key-{index}"
    for index, (_, accepted) in enumerate(config.workspace_keys, 1):
        if hmac.compare_digest(key.encode(), accepted.encode()):
            return f"workspace-key-{index}"
    minted = server.workspace_keys.id_of(key)
    if minted:
        return minted
    return _fingerprint(key)


@functools.lru_cache(maxsize=1024)  # a client sends the same key again and again
def _fingerprint(key: str) -> str:
    return "fp-" + hmac.new(_FINGERPRINT_SECRET, key.encode(), hashlib.sha256).hexdigest()[:12]


class _LoggedBody:
    """The app's answer, passed through; logs the request when the server closes it."""

    def __init__(self, result: Iterable[bytes], on_close: Callable[[], None]):
        self.result = result
        self.on_close = on_close

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.result)

    def close(self) -> None:
        try:
            close = getattr(self.result, "close", None)
            if close:
                close()
        finally:
            self.on_close()


# --- the formats ------------------------------------------------------------------------


class TextFormatter(logging.Formatter):
    """``METHOD PATH STATUS DURATIONms ws=WS key=KEY-ID``; other records as their message.
    Spaces and control characters in a path or workspace are escaped, so a request cannot
    forge a log line or shift its fields."""

    def format(self, record: logging.LogRecord) -> str:
        access = getattr(record, "access", None)
        if access is None:
            return super().format(record)
        return (
            f"{access['method']} {_printable(access['path'])} {access['status']} "
            f"{access['duration_ms']:.1f}ms ws={_printable(access['workspace'] or '-')} key={access['key_id'] or '-'}"
        )


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``time``, ``level``, ``logger``, then the access fields, or
    ``message`` (and ``exception``) for other records."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        access = getattr(record, "access", None)
        if access is not None:
            entry.update(access)
        else:
            entry["message"] = record.getMessage()
            if record.exc_info:
                entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


JsonFormatter.converter = time.gmtime  # "Z": the times are UTC


def _printable(text: str) -> str:
    if text.isprintable() and " " not in text:
        return text  # nearly every path
    return "".join(
        "%20" if ch == " " else ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


def configure(level: str = "info", fmt: str = "text") -> None:
    """Set up the process's logging for ``serve``: every ``runagents_mock`` record at ``level``
    or above on stderr, in ``fmt``."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter("%(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
