"""Tools: create-or-update by name, credentials wired in as secret references, probes.

Credential values are kept in memory only, for the tool proxy to inject (``secret()``): they are
not part of any record, so nothing leaks through responses, the journal or an exported state
file (a restored state has the field names but not the values).
"""

from __future__ import annotations

import copy
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ...basics.errors import ApiError
from ..common import DEFAULT_NAMESPACE, NamedCollection
from ..state import mapping, records

if TYPE_CHECKING:
    from ..ports import PlatformPort


@dataclass(frozen=True)
class BaseUrl:
    """A tool's base URL in pieces, as validated: what the loopback check and the forwarded
    request are both built from (docs/runtime.md, *Tool base URLs*)."""

    scheme: str  # "http" or "https"
    host: str  # a name or an IPv4 address, or an IPv6 address without brackets
    port: int
    path: str  # "" or "/..." without a trailing slash

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


# The rule, as openapi.yaml's ToolBaseUrl pattern states it (tests/runtime/test_tool_paths.py
# checks the two are the same string): scheme, a plain host (a name, or a bracketed IPv6 address
# without zone), a port of 1-65535, a path of segments none of which is "." or "..", with no
# encoded ".", "/" or "\". It ends in "(?![\s\S])", not "$": Python's "$" also matches before a
# final newline, ECMA's (JSON Schema's) does not.
_HEX = "[0-9A-Fa-f]{1,4}"
_IPV6 = "|".join(
    [
        f"(?:{_HEX}:){{7}}{_HEX}",
        f"(?:{_HEX}:){{1,7}}:",
        f"(?:{_HEX}:){{1,6}}:{_HEX}",
        *(f"(?:{_HEX}:){{1,{n}}}(?::{_HEX}){{1,{7 - n}}}" for n in range(5, 0, -1)),
        f":(?:(?::{_HEX}){{1,7}}|:)",
    ]
)
_PORT = "0*(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
_UNIT = "(?:[A-Za-z0-9_~!$&'()*+,;=:@-]|%(?:[013-46-9A-Fa-f][0-9A-Fa-f]|2[0-9A-Da-d]|5[0-9ABD-Fabd-f]))"
_SEGMENT = rf"(?:\.*{_UNIT}(?:{_UNIT}|\.)*|\.{{3,}})"
BASE_URL_PATTERN = (
    rf"^(https?)://([A-Za-z0-9._-]+|\[(?:{_IPV6})\])(?::({_PORT}))?"
    rf"((?:/{_SEGMENT}?)*)(?![\s\S])"
)
_BASE_URL = re.compile(BASE_URL_PATTERN)
_ENCODED_SEPARATOR = re.compile(r"%(2e|2f|5c)", re.IGNORECASE)


def parse_base_url(url: str) -> BaseUrl:
    """The pieces of a tool base URL; ValueError saying what is wrong for anything another
    URL parser could read differently: a backslash, user info, spaces or control characters,
    a query or fragment, a host that is not a plain name or IP literal, a port outside
    1-65535, dot segments or an encoded dot or slash in the path."""
    match = _BASE_URL.match(url)
    if match is None:
        raise ValueError(_why_refused(url))
    scheme, host, port, path = match.groups()
    host = host[1:-1] if host.startswith("[") else host
    return BaseUrl(scheme, host.lower(), int(port) if port else (443 if scheme == "https" else 80), path.rstrip("/"))


def _why_refused(url: str) -> str:
    """The first thing wrong with a base URL the pattern refused, in words."""
    scheme, sep, rest = url.partition("://")
    authority, _, path = rest.partition("/")
    if "\\" in url:
        return "must not contain a backslash"
    if not sep or scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if "@" in authority:
        return "must not contain user info (user@host)"
    if "?" in url or "#" in url:
        return "must not contain a query or fragment"
    if _ENCODED_SEPARATOR.search(path) or any(seg in (".", "..") for seg in path.split("/")):
        return "must not contain '.' or '..' segments or an encoded '.', '/' or '\\' in its path"
    return (
        "must be an http(s) URL of a plain host[:port] and path (port 1-65535"
        "; no user info, backslash, space, query, fragment or dot segment)"
    )


def check_base_url(url: Any, field: str) -> None:
    """ApiError 400 naming ``field`` for a base URL ``parse_base_url`` refuses."""
    try:
        parse_base_url(url if isinstance(url, str) else "")
    except ValueError as exc:
        raise ApiError(400, f"{field} {exc}") from None


def spec_from_flat(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The nested tool spec for the flat form (deploy's tools_to_create, the SDK's create)."""
    spec: dict[str, Any] = {
        "connection": {
            "topology": "External",
            "baseUrl": fields["base_url"],
            "port": fields.get("port", 443),
            "scheme": fields.get("scheme", "HTTPS"),
            "authentication": {"type": fields.get("auth_type") or "None"},
        },
    }
    if fields.get("description"):
        spec["description"] = fields["description"]
    return spec


def simulate_probe(url: str) -> dict[str, Any]:
    """A deterministic stand-in for an HTTP probe; the mock never touches the network.

    - no http(s) scheme or no host: unreachable ("invalid URL");
    - hosts under the reserved ``.invalid`` domain (RFC 6761): unreachable (no such host);
    - a host whose first label is ``status-NNN`` answers NNN (5xx counts as unreachable);
    - anything else answers 200.
    Latency is derived from the host, so it is stable between runs.
    """
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        parts, host = None, ""
    latency = 20 + zlib.crc32(host.encode()) % 180
    if parts is None or parts.scheme.lower() not in ("http", "https") or not host:
        return {"reachable": False, "latency_ms": 0, "error": "invalid URL"}
    if host == "invalid" or host.endswith(".invalid"):
        return {"reachable": False, "latency_ms": latency, "error": f"dial tcp: lookup {host}: no such host"}
    status = 200
    label = host.split(".")[0]
    if label.startswith("status-") and label[7:].isdigit() and 100 <= int(label[7:]) <= 599:
        status = int(label[7:])
    return {"reachable": status < 500, "status_code": status, "latency_ms": latency}


def _credential_fields_problem(fields: Any, state: Mapping[str, Any]) -> str | None:
    if not isinstance(fields, Mapping) or not all(
        isinstance(names, list) and all(isinstance(n, str) for n in names) for names in fields.values()
    ):
        return "tools.credential_fields must map a tool name to a list of field names"
    return None


class ToolsBackend(NamedCollection):
    kind = "tools"
    not_found_message = 'tool "{name}" not found'
    STATE = (
        records("items", key="name", schema="Tool", charge=kind),
        mapping("credential_fields", list, check=_credential_fields_problem),
    )

    def __init__(self, platform: PlatformPort) -> None:
        super().__init__(platform)
        self.credential_fields: dict[str, list[str]] = {}  # tool name -> which fields were given
        self._secrets: dict[str, dict[str, str]] = {}  # tool name -> credential values; never exported

    def put(
        self,
        name: str,
        spec: Mapping[str, Any],
        credentials: Mapping[str, Any] | None = None,
        url_field: str = "spec.connection.baseUrl",
    ) -> tuple[dict[str, Any], bool]:
        """Create or replace the tool; 400 naming ``url_field`` for an ambiguous base URL."""
        connection = spec.get("connection") or {}
        if "baseUrl" in connection:
            check_base_url(connection["baseUrl"], url_field)
        own_spec = copy.deepcopy(dict(spec))
        if credentials:
            self._wire_credentials(name, own_spec)
        record = {"name": name, "namespace": DEFAULT_NAMESPACE, "spec": own_spec, "status": {"phase": "Pending"}}
        with self.platform.lock:
            stored, created = self.store(record)
            if credentials:
                self.credential_fields[name] = sorted(k for k, v in credentials.items() if v)
                self._secrets[name] = {k: str(v) for k, v in credentials.items() if v}
            return stored, created

    @staticmethod
    def _wire_credentials(name: str, spec: dict[str, Any]) -> None:
        """Point the tool's authentication at the stored credentials, as the platform does."""
        auth = spec.setdefault("connection", {}).setdefault("authentication", {"type": "None"})
        ref = {"name": f"{name}-credentials", "namespace": DEFAULT_NAMESPACE}
        if auth.get("type") == "OAuth2":
            auth.setdefault("oauth2Config", {})["credentialsSecretRef"] = ref
        elif auth.get("type") == "APIKey":
            auth.setdefault("apiKeyConfig", {})["secretRef"] = {"name": ref["name"]}

    def delete(self, name: str) -> None:
        with self.platform.lock:
            super().delete(name)
            self.credential_fields.pop(name, None)
            self._secrets.pop(name, None)

    def secret(self, name: str, field: str) -> str | None:
        """A stored credential value, for injection by the tool proxy only."""
        return self._secrets.get(name, {}).get(field)

    def test(self, name: str) -> dict[str, Any]:
        """Probe the tool's base URL and record the outcome in its status."""
        with self.platform.lock:
            tool = self.get(name)
            result = simulate_probe(tool["spec"].get("connection", {}).get("baseUrl", ""))
            status = {
                "phase": "Available" if result["reachable"] else "Unreachable",
                "last_probe_time": self.platform.now_iso(),
                "probe_latency_ms": result["latency_ms"],
            }
            if not result["reachable"]:
                status["message"] = result.get("error") or f"probe answered {result.get('status_code')}"
            self.items[name] = {**tool, "status": status}
            return result

    def approval_duration(self, name: str) -> str | None:
        """The tool's governance.approval.defaultDuration, if the tool exists and sets one."""
        tool = self.items.get(name)
        if not tool:
            return None
        duration: str | None = tool["spec"].get("governance", {}).get("approval", {}).get("defaultDuration")
        return duration
