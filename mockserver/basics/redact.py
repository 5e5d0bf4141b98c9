"""Keeping secrets out of everything the mock keeps or hands back: the one rule for stored
records (tools, providers, run events, loaded state), the journal and logs.

The rule: a text value under a secret-named field (``apiKey``, ``clientSecret``, ``password``,
``token``...) becomes ``***``, and so does every text inside an object or list under such a
field (``credentials: {...}``), and the ``value`` of a ``{name, value}`` pair whose name is
secret-named (``{name: OPENAI_API_KEY, value: ...}``, as in agent ``env``); ``user:password@``
in any URL-like text becomes ``***@``. Fields
that name a reference, a setting or a count rather than a secret (``secretRef``,
``apiKeyConfig``, ``tokenUrl``, ``max_tokens``) are not secrets. Numbers, booleans and nulls
are kept: they are counts and flags, never credentials.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

REDACTED = "***"
# Field names whose values are secrets wherever they appear in a body.
_SECRET_FIELD = re.compile(r"(secret|password|passwd|token|api[_-]?key|credential|private[_-]?key)", re.I)
# Secret-looking names that hold a reference, a setting, a URL or a count, not a secret.
_NOT_SECRET_FIELD = re.compile(r"(ref|config|url|uri|endpoint|tokens|type|fields|prefix)$", re.I)
# Fields carrying source code, which may hold hard-coded secrets: kept as a size only.
_SOURCE_FIELDS = frozenset({"files", "source_files"})
# Fields whose every value is a credential: approval connectors' `headers` (bot tokens, routing keys).
_CREDENTIAL_MAPS = frozenset({"headers"})
# A list of objects under this field is a scanner's findings (an analysis' detected secrets:
# type, file, line, severity; never the value): each finding passes through the rule as any
# object does, with its `value` masked too. Anything else under it is masked whole.
_FINDINGS_FIELD = "secrets"
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


def secret_field(name: Any) -> bool:
    """Whether a body field's value is a secret under the rule above."""
    return isinstance(name, str) and bool(_SECRET_FIELD.search(name)) and not _NOT_SECRET_FIELD.search(name)


def redact_body(body: Any, depth: int = 0, sources: bool = True) -> Any:
    """A copy of a JSON body with secret values replaced; with ``sources`` (the journal), source
    files are shown as sizes too. The depth bound is a last guard: bodies are refused beyond
    nesting.MAX_NESTING before they get here."""
    if depth > 100:
        return REDACTED
    if isinstance(body, dict):
        out = {}
        # {name: OPENAI_API_KEY, value: ...} (environment entries): the name says the value is secret.
        named_secret = secret_field(body.get("name")) and "value" in body
        for key, value in body.items():
            if named_secret and key == "value":
                out[key] = _redact_all(value, depth + 1)
            elif key == _FINDINGS_FIELD and isinstance(value, list):
                out[key] = [_finding(item, depth + 2, sources) for item in value]
            elif sources and key in _SOURCE_FIELDS and isinstance(value, dict):
                out[key] = {name: f"<{len(src) if isinstance(src, str) else 0} chars>" for name, src in value.items()}
            elif secret_field(key) or key in _CREDENTIAL_MAPS:
                out[key] = _redact_all(value, depth + 1)
            else:
                out[key] = redact_body(value, depth + 1, sources)
        return out
    if isinstance(body, list):
        return [redact_body(v, depth + 1, sources) for v in body]
    if isinstance(body, str):
        return _redact_text(body)
    return body


def _finding(value: Any, depth: int, sources: bool) -> Any:
    if not isinstance(value, dict):
        return _redact_all(value, depth)
    finding = redact_body(value, depth, sources)
    if "value" in finding:
        finding["value"] = _redact_all(finding["value"], depth + 1)
    return finding


def _redact_all(value: Any, depth: int) -> Any:
    """Every text inside a secret field; the shape (keys, numbers, flags) is kept."""
    if depth > 100:
        return REDACTED
    if isinstance(value, dict):
        return {k: _redact_all(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_all(v, depth + 1) for v in value]
    return REDACTED if isinstance(value, str) else value


def redact_stored(value: Any) -> Any:
    """What a store keeps of a client's data: the same rule, source files left as they are."""
    return redact_body(value, sources=False)
