"""The request journal: the last requests each surface answered, for tests to assert on
(``GET /_mock/journal``, the plugin's ``journal``) and for the console."""

from __future__ import annotations

import collections
import itertools
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.datastructures import EnvironHeaders, MultiDict
from werkzeug.wrappers import Request

from ..basics.jsonhttp import json_or_none
from ..basics.nesting import may_nest_deeply, nesting_problem
from ..basics.redact import redact_body, redact_headers, redact_query, redact_url

_HEADER_PREFIXES = ("HTTP_", "CONTENT_")


# Where a stored entry keeps its workspace (entries are plain tuples: the cheapest to make).
_WORKSPACE = 7
# A text value that is a URL or a request target with a query: an answer echoing what a tool
# was sent (``/items?x=1&X-Key=...``) names its secrets there, under no secret-named field.
_URL_WITH_QUERY = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*://|/)[^\s?]*\?\S*=")


def _real_time(workspace: str) -> float:
    return time.time()


class Journal:
    """The last ``size`` requests, oldest first, with their answers; each request and response
    body kept up to ``body_bytes`` bytes.

    Entries are stored raw and parsed and redacted when read, so recording costs the hot path
    almost nothing; what leaves the mock (``list()``) never carries a secret. A larger body is
    kept as a note of its size only, so the journal holds at most ``2 * size * body_bytes`` of
    bodies.

    ``now(workspace)`` is the time an entry is stamped with: the server gives its workspaces'
    clocks (``Workspaces.now``), so a test that moved a workspace's clock sees its journal on the
    same time line as the ``createdAt``/``expiresAt`` of the answers it shows.
    """

    def __init__(self, size: int, body_bytes: int = 64 * 1024, now: Callable[[str], float] = _real_time):
        self.entries: collections.deque[tuple] = collections.deque(maxlen=max(size, 0))
        self.body_bytes = body_bytes
        self.now = now
        self._seq = itertools.count(1)

    def record(
        self, req: Request, raw_body: bytes, status: int, workspace: str = "default", response: bytes = b""
    ) -> None:
        """Keep the query string, the header entries of the environ, the body and the answer's
        JSON body (``response``) as they are: they are only parsed if the journal is read."""
        headers = {k: v for k, v in req.environ.items() if k.startswith(_HEADER_PREFIXES)}
        if len(raw_body) > self.body_bytes:
            raw_body = _OverCap(len(raw_body))
        if len(response) > self.body_bytes:
            response = _OverCap(len(response))
        self.entries.append(
            (
                next(self._seq),
                req.method,
                req.path,
                req.environ.get("QUERY_STRING", ""),
                headers,
                raw_body,
                status,
                workspace,
                self.now(workspace),
                response,
            )
        )

    def list(self, workspace: str | None = None) -> list[dict[str, Any]]:
        """Every entry, or only those of one workspace (the February surface is "default")."""
        return [
            {
                "seq": seq,
                "time": _iso_ms(when),
                "method": method,
                "path": path,
                "query": redact_query(MultiDict(parse_qsl(query, keep_blank_values=True)).to_dict(flat=True)),
                "headers": redact_headers(dict(EnvironHeaders(headers).items())),
                "body": self._body(raw),
                "status": status,
                "response": self._body(response),
                "workspace": ws,
            }
            for seq, method, path, query, headers, raw, status, ws, when, response in list(self.entries)
            if workspace is None or ws == workspace
        ]

    def _body(self, raw: bytes | _OverCap) -> Any:
        if isinstance(raw, _OverCap):
            return f"<{raw.size} bytes: over the journal's {self.body_bytes}-byte cap, not kept>"
        body = json_or_none(raw)
        if may_nest_deeply(raw) and nesting_problem(body):
            return "<nested too deeply to show>"
        return _urls_redacted(redact_body(body))

    def clear(self, workspace: str | None = None) -> None:
        """Forget every entry, or only one workspace's."""
        if workspace is None:
            self.entries.clear()
            return
        kept = [entry for entry in list(self.entries) if entry[_WORKSPACE] != workspace]
        self.entries.clear()
        self.entries.extend(kept)


def _urls_redacted(value: Any) -> Any:
    """Every URL-like text with a query, its secret-named values masked (``redact_url``); the
    body rule masks only their passwords. Depth is bounded: deeper bodies are not shown."""
    if isinstance(value, str):
        return redact_url(value) if _URL_WITH_QUERY.match(value) else value
    if isinstance(value, dict):
        return {key: _urls_redacted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_urls_redacted(item) for item in value]
    return value


def _iso_ms(ts: float) -> str:
    """RFC 3339 in UTC to the millisecond (requests come faster than the API's seconds)."""
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _OverCap:
    """A journal body too large to keep: only its size."""

    __slots__ = ("size",)

    def __init__(self, size: int):
        self.size = size
