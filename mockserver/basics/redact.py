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

Names are read word by word (``STRIPE_KEY``, ``dbPass``, ``x-github-pat`` -> words): a name is
secret when a word is a credential word (``secret``, ``pass``, ``password``, ``pat``,
``token``, ``credentials``, ``dsn``...), or when it is the name of a *value* (an env entry, a
header, a query parameter) and a word is ``key`` or the first word is a vendor's
(``STRIPE_ACCOUNT``, ``OPENAI_ORG_KEY``); unless its last word names a reference, a setting or
an id (``_URL``, ``_REF``, ``_ID``, ``_CONFIG``...). Body field names take the credential words
only (``idempotency_key`` is not a secret; ``apiKey`` is, as before).

Text that is not JSON goes through the same rule: form bodies (``a=1&client_secret=...``) and
URLs (``Location``, request targets) have their secret-named values, OAuth ``code``/``state``,
and userinfo replaced; other text has ``Bearer ...`` credentials and ``name=value`` pairs
with secret names replaced.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

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


# Words that make any name secret.
_CREDENTIAL_WORDS = frozenset(
    {
        "secret",
        "secrets",
        "password",
        "passwd",
        "pwd",
        "pass",
        "passphrase",
        "pat",
        "token",
        "credential",
        "credentials",
        "creds",
        "apikey",
        "dsn",
        "privatekey",
        "cookie",
        "jwt",
        "otp",
        "bearer",
        "webhook",
    }
)
# Vendors whose every setting is treated as a secret unless its last word says otherwise.
_VENDORS = frozenset(
    {
        "stripe",
        "github",
        "gh",
        "gitlab",
        "openai",
        "anthropic",
        "aws",
        "azure",
        "gcp",
        "google",
        "slack",
        "twilio",
        "sendgrid",
        "mailgun",
        "datadog",
        "dd",
        "sentry",
        "hf",
        "huggingface",
        "npm",
        "pypi",
        "docker",
        "shopify",
        "paypal",
        "cohere",
        "mistral",
        "groq",
        "pinecone",
        "supabase",
        "firebase",
        "vercel",
        "netlify",
        "heroku",
        "cloudflare",
        "okta",
        "auth0",
        "atlassian",
        "jira",
        "notion",
        "discord",
        "telegram",
        "replicate",
    }
)
# A last word naming a reference, a setting, a place or an id: such a name holds no secret.
_NOT_SECRET_LAST = frozenset(
    {
        "ref",
        "config",
        "url",
        "uri",
        "endpoint",
        "tokens",
        "type",
        "fields",
        "prefix",
        "id",
        "name",
        "host",
        "hostname",
        "port",
        "region",
        "timeout",
        "ttl",
        "enabled",
        "mode",
        "level",
        "version",
        "model",
        "header",
        "path",
        "file",
        "env",
        "count",
        "limit",
        "expiry",
        "expires",
        "at",
        "kind",
        "format",
        "scheme",
        "param",
    }
)
# OAuth and signed-URL query values that grant access on their own.
_SECRET_QUERY = frozenset({"code", "state", "sig", "signature", "assertion", "ticket", "otp"})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# "Bearer abc.def" / "Basic dXNlcjpw" in free text.
_AUTH_IN_TEXT = re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{6,}")
# name=value / "name": "value" / name: value pairs in free text, judged by the name.
_PAIR_IN_TEXT = re.compile(r"""(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)(?P<sep>"?\s*[=:]\s*"?)(?P<value>[^\s"&,;]+)""")


def _words(name: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(name)]


def secret_name(name: Any, value_name: bool = True) -> bool:
    """Whether a name says its value is a secret. ``value_name``: the name of a value (an env
    entry, a header, a query parameter), where ``key`` and vendor names count too."""
    if not isinstance(name, str) or not name:
        return False
    words = _words(name)
    if "webhook" in words:  # a webhook URL is the credential itself
        return True
    if not words or words[-1] in _NOT_SECRET_LAST:
        return False
    if _CREDENTIAL_WORDS.intersection(words):
        return True
    joined = {a + b for a, b in zip(words, words[1:])}  # apiKey, private_key, access-key
    if {"apikey", "privatekey", "accesskey", "secretkey", "signingkey", "masterkey", "licensekey"} & joined:
        return True
    if words[0] in _VENDORS and "key" in words:  # STRIPE_KEY, stripeKey
        return True
    return value_name and ("key" in words or (words[0] in _VENDORS and len(words) > 1))


def _secret_name(name: str) -> bool:
    return (
        name.lower() in _SECRET_HEADERS
        or bool(_SECRET_FIELD.search(name))
        or "key" in name.lower()
        or secret_name(name)
    )


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Secret-named headers masked; URLs in ``Location``-like headers redacted as URLs."""
    return {
        name: (REDACTED if _secret_name(name) else redact_url(value) if name.lower() in _URL_HEADERS else value)
        for name, value in headers.items()
    }


_URL_HEADERS = frozenset({"location", "content-location", "referer"})


def _secret_query_name(name: str) -> bool:
    return _secret_name(name) or name.lower() in _SECRET_QUERY


def redact_query(query: Mapping[str, str]) -> dict[str, str]:
    return {name: (REDACTED if _secret_query_name(name) else _redact_text(value)) for name, value in query.items()}


def redact_form(text: str) -> str:
    """A query string or form body with its secret values masked (names and order kept)."""
    if "=" not in text:
        return _redact_text(text)  # not name=value pairs: nothing is named a secret
    pairs = parse_qsl(text, keep_blank_values=True)
    return urlencode(
        [(name, REDACTED if _secret_query_name(name) else _redact_text(value)) for name, value in pairs],
        safe="*:/",
        quote_via=quote,
    )


def redact_url(url: str) -> str:
    """A URL with userinfo, secret query values and a fragment of parameters (OAuth implicit
    grants) masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _redact_text(url)
    if "@" not in url and "?" not in url and "#" not in url:
        return url  # nothing in it can be a secret: left exactly as sent
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    fragment = redact_form(parts.fragment) if "=" in parts.fragment else parts.fragment
    return urlunsplit((parts.scheme, netloc, parts.path, redact_form(parts.query) if parts.query else "", fragment))


def redact_free_text(text: str) -> str:
    """Text of unknown shape (a plain-text or HTML body, a log line): credentials after
    ``Bearer``, values of secret-named ``name=value`` pairs, and URL userinfo masked."""
    text = _AUTH_IN_TEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _PAIR_IN_TEXT.sub(
        lambda m: (
            f"{m.group('name')}{m.group('sep')}{REDACTED}"
            if _secret_query_name(m.group("name")) and m.group("value") != REDACTED
            else m.group(0)
        ),
        text,
    )
    return _redact_text(text)


def redact_payload(body: bytes | str, content_type: str = "") -> str:
    """Any body as text for a report or a HAR file: JSON by the body rule, forms by the form
    rule, other text by ``redact_free_text``."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        return json.dumps(redact_body(json.loads(text)), ensure_ascii=False)
    except (ValueError, RecursionError):
        pass
    if "x-www-form-urlencoded" in content_type.lower():
        return redact_form(text)
    return redact_free_text(text)


def _redact_text(text: str) -> str:
    return _URL_USERINFO.sub(r"\1***@", text) if "@" in text else text


def secret_field(name: Any) -> bool:
    """Whether a body field's value is a secret under the rule above."""
    if not isinstance(name, str):
        return False
    if _SECRET_FIELD.search(name) and not _NOT_SECRET_FIELD.search(name):
        return True
    return secret_name(name, value_name=False)


def redact_body(body: Any, depth: int = 0, sources: bool = True) -> Any:
    """A copy of a JSON body with secret values replaced; with ``sources`` (the journal), source
    files are shown as sizes too. The depth bound is a last guard: bodies are refused beyond
    nesting.MAX_NESTING before they get here."""
    if depth > 100:
        return REDACTED
    if isinstance(body, dict):
        out = {}
        # {name: OPENAI_API_KEY, value: ...} (environment entries): the name says the value is secret.
        named_secret = secret_name(body.get("name")) and "value" in body
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
