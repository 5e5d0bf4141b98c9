"""Keeping secrets out of everything the mock hands back: journal entries and logs."""

from __future__ import annotations

import re
from typing import Any, Mapping

REDACTED = "***"
# Field names whose values are secrets wherever they appear in a body.
_SECRET_FIELD = re.compile(r"(secret|password|passwd|token|api[_-]?key|credential|private[_-]?key)", re.I)
# Fields carrying source code, which may hold hard-coded secrets: kept as a size only.
_SOURCE_FIELDS = frozenset({"files", "source_files"})
# Fields whose every value is a credential: approval connectors' `headers` (bot tokens, routing keys).
_CREDENTIAL_MAPS = frozenset({"headers"})
_SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "set-cookie"})
# user:password@ in URLs found in any string value.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")


def _secret_name(name: str) -> bool:
    return name.lower() in _SECRET_HEADERS or bool(_SECRET_FIELD.search(name)) or "key" in name.lower()


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: (REDACTED if _secret_name(name) else value) for name, value in headers.items()}


def redact_query(query: Mapping[str, str]) -> dict[str, str]:
    return {name: (REDACTED if _secret_name(name) else _redact_text(value)) for name, value in query.items()}


def _redact_text(text: str) -> str:
    return _URL_USERINFO.sub(r"\1***@", text) if "@" in text else text


def redact_body(body: Any, depth: int = 0) -> Any:
    """A copy of a JSON body with secret values replaced (bounded depth: hostile nesting stops here)."""
    if depth > 32:
        return REDACTED
    if isinstance(body, dict):
        out = {}
        for key, value in body.items():
            if isinstance(key, str) and _SECRET_FIELD.search(key) and not isinstance(value, (dict, list)):
                out[key] = REDACTED
            elif key in _SOURCE_FIELDS and isinstance(value, dict):
                out[key] = {name: f"<{len(src) if isinstance(src, str) else 0} chars>" for name, src in value.items()}
            elif isinstance(key, str) and (_SECRET_FIELD.search(key) or key in _CREDENTIAL_MAPS):
                out[key] = _redact_all(value)
            else:
                out[key] = redact_body(value, depth + 1)
        return out
    if isinstance(body, list):
        return [redact_body(v, depth + 1) for v in body]
    if isinstance(body, str):
        return _redact_text(body)
    return body


def _redact_all(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED for k in value}
    if isinstance(value, list):
        return [REDACTED for _ in value]
    return REDACTED
