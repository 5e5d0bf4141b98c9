"""One request and its answer, as the checks, the recorder and the HAR see them.

Bodies are kept up to a bound (``ProxyConfig.keep_body_bytes``): a larger body is passed on
in full but kept as ``None`` (not validated, not recorded), so memory stays bounded whatever
the traffic.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from ..basics.jsonhttp import json_or_none
from ..basics.redact import redact_query


class KeptBody:
    """The first ``limit`` bytes of a body as it streams by; ``value`` None once it grew past them."""

    def __init__(self, limit: int):
        self.limit = limit
        self.size = 0
        self._parts: list[bytes] | None = []

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self._parts is not None:
            if self.size > self.limit:
                self._parts = None  # too large: drop what was kept
            else:
                self._parts.append(chunk)

    @property
    def value(self) -> bytes | None:
        return b"".join(self._parts) if self._parts is not None else None


def decoded(body: bytes | None, content_encoding: str, limit: int) -> bytes | None:
    """A kept body as the client's library would read it (gzip/deflate undone), bounded by ``limit``."""
    encoding = (content_encoding or "").strip().lower()
    if body is None or encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        return None  # br, zstd...: passed on, not inspected
    try:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, detected
        out = inflater.decompress(body, limit + 1)
    except zlib.error:
        return None
    return out if len(out) <= limit else None


@dataclass
class Exchange:
    method: str
    path: str
    query: str  # the raw query string, without "?"
    request_headers: dict[str, str]
    request_body: bytes | None  # None: larger than the kept bound
    started: float  # time.time() when the request arrived
    answered_by: str = "upstream"  # or "mock", or "proxy" (a 502 of its own)
    status: int = 0
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes | None = b""  # decoded; None: larger than the kept bound, or not readable
    response_size: int = 0
    duration: float = 0.0  # seconds until the answer's last byte
    upstream_error: str | None = None  # how the upstream failed, when it did
    located: Any = None  # routing.Located: the document and operation serving the path

    @property
    def target(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")

    @property
    def shown_target(self) -> str:
        """The path and query for reports and the HAR: query values named like secrets redacted."""
        if not self.query:
            return self.path
        pairs = [
            next(iter(redact_query({name: value}).items()))
            for name, value in parse_qsl(self.query, keep_blank_values=True)
        ]
        return f"{self.path}?{urlencode(pairs, safe='*')}"

    def response_header(self, name: str) -> str:
        wanted = name.lower()
        return next((value for key, value in self.response_headers if key.lower() == wanted), "")

    @property
    def content_type(self) -> str:
        return self.response_header("Content-Type")

    def request_json(self) -> Any:
        return json_or_none(self.request_body) if self.request_body else None

    def response_json(self) -> Any:
        return json_or_none(self.response_body) if self.response_body else None
