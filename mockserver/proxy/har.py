"""The exchanges as HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), written as they
happen so that memory stays bounded: the file is a valid HAR once the session ends.

Everything goes through ``basics/redact.py``'s one rule: ``Authorization``, cookies and every
header or query parameter named like a key or secret, OAuth ``code``/``state``, ``Location``
URLs, JSON, form and text bodies; a body larger than the proxy keeps is left out (its size stays).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl

from werkzeug.http import HTTP_STATUS_CODES

from ..basics.redact import redact_headers, redact_payload, redact_query, redact_url
from .exchange import Exchange

CREATOR = {"name": "runagents-mock proxy", "version": "1"}


def _pairs(items: Any) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in items]


def _text(body: bytes | None, content_type: str) -> dict[str, Any]:
    """A HAR body, redacted by the one rule (JSON, forms, other text); binary left out (a comment)."""
    if body is None:
        return {"comment": "larger than the proxy keeps; not recorded"}
    if not body:
        return {"text": ""}
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        if "json" not in content_type:
            return {"comment": "binary body; not recorded"}
    return {"text": redact_payload(body, content_type)}


def har_entry(exchange: Exchange, upstream: str) -> dict[str, Any]:
    request_type = exchange.request_headers.get("Content-Type", "")
    request = {
        "method": exchange.method,
        "url": upstream + exchange.shown_target,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _pairs(redact_headers(exchange.request_headers).items()),
        "queryString": _pairs(redact_query(dict(parse_qsl(exchange.query, keep_blank_values=True))).items()),
        "headersSize": -1,
        "bodySize": len(exchange.request_body) if exchange.request_body is not None else -1,
    }
    if exchange.request_body:
        request["postData"] = {"mimeType": request_type, **_text(exchange.request_body, request_type)}
    headers = [next(iter(redact_headers({name: value}).items())) for name, value in exchange.response_headers]
    milliseconds = round(exchange.duration * 1000, 3)
    return {
        "startedDateTime": datetime.fromtimestamp(exchange.started, UTC).isoformat(timespec="milliseconds"),
        "time": milliseconds,
        "request": request,
        "response": {
            "status": exchange.status,
            "statusText": HTTP_STATUS_CODES.get(exchange.status, ""),
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _pairs(headers),
            "content": {
                "size": exchange.response_size,
                "mimeType": exchange.content_type,
                **_text(exchange.response_body, exchange.content_type),
            },
            "redirectURL": redact_url(exchange.response_header("Location")),
            "headersSize": -1,
            "bodySize": exchange.response_size,
        },
        "cache": {},
        "timings": {"send": 0, "wait": milliseconds, "receive": 0},
        "comment": f"answered by {exchange.answered_by}",
    }


class HarWriter:
    def __init__(self, path: Path, upstream: str):
        self.upstream = upstream
        self.lock = threading.Lock()
        self._file: TextIO | None = open(path, "w", encoding="utf-8")  # noqa: SIM115 - open for the session
        self._file.write('{"log": {"version": "1.2", "creator": ' + json.dumps(CREATOR) + ', "entries": [\n')
        self._first = True

    def add(self, exchange: Exchange) -> None:
        line = json.dumps(har_entry(exchange, self.upstream), ensure_ascii=False)
        with self.lock:
            if self._file is None:
                return
            self._file.write(("" if self._first else ",\n") + line)
            self._first = False
            self._file.flush()

    def close(self) -> None:
        with self.lock:
            if self._file is not None:
                self._file.write("\n]}}\n")
                self._file.close()
                self._file = None
