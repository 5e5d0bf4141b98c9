"""Tools: create-or-update by name, credentials wired in as secret references, probes.

Credential values are kept in memory only, for the tool proxy to inject (``secret()``): they are
not part of any record, so nothing leaks through responses, the journal or an exported state
file (a restored state has the field names but not the values).
"""

from __future__ import annotations

import copy
import ipaddress
import re
import zlib
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

from ...basics.errors import ApiError
from ..common import DEFAULT_NAMESPACE, NamedCollection


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


# The rule openapi.yaml's ToolBaseUrl pattern states, plus what a pattern cannot say simply.
_HOST_NAME = re.compile(r"[A-Za-z0-9._-]+")
_PATH = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")
_PORT = re.compile(r"[0-9]{1,5}")
_ENCODED_SEPARATOR = re.compile(r"%(2e|2f|5c)", re.IGNORECASE)


def parse_base_url(url: str) -> BaseUrl:
    """The pieces of a tool base URL; ValueError saying what is wrong for anything another
    URL parser could read differently: a backslash, user info, spaces or control characters,
    a query or fragment, a host that is not a plain name or IP literal, a port outside
    1-65535, dot segments or an encoded dot or slash in the path."""
    if "\\" in url:
        raise ValueError("must not contain a backslash")
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("http", "https"):
        raise ValueError("must start with http:// or https://")
    authority, slash, path = rest.partition("/")
    path = slash + path
    if "@" in authority:
        raise ValueError("must not contain user info (user@host)")
    if "?" in url or "#" in url:
        raise ValueError("must not contain a query or fragment")
    if authority.startswith("["):
        literal, bracket, port_text = authority[1:].partition("]")
        try:
            if "%" in literal:  # a zone id: each parser reads it its own way
                raise ValueError
            ipaddress.IPv6Address(literal)
        except ValueError:
            raise ValueError("must have a valid IPv6 address in brackets") from None
        if not bracket or (port_text and not port_text.startswith(":")):
            raise ValueError("must have a plain host[:port] after the scheme")
        host, port_text = literal, port_text[1:]
        if not port_text and authority.endswith(":"):
            raise ValueError("must have a port of 1-65535 after ':'")
    else:
        host, colon, port_text = authority.partition(":")
        if not _HOST_NAME.fullmatch(host) or (colon and not port_text):
            raise ValueError("must have a plain host[:port] after the scheme")
    if port_text and (not _PORT.fullmatch(port_text) or not 1 <= int(port_text) <= 65535):
        raise ValueError("must have a port of 1-65535 after ':'")
    if not _PATH.fullmatch(path):
        raise ValueError("must not contain spaces, control characters or other unencoded characters in its path")
    if _ENCODED_SEPARATOR.search(path) or any(seg in (".", "..") for seg in path.split("/")):
        raise ValueError("must not contain '.' or '..' segments or an encoded '.', '/' or '\\' in its path")
    port = int(port_text) if port_text else (443 if scheme == "https" else 80)
    return BaseUrl(scheme, host.lower(), port, path.rstrip("/"))


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


class ToolsBackend(NamedCollection):
    kind = "tools"
    not_found_message = 'tool "{name}" not found'

    def __init__(self, platform):
        super().__init__(platform)
        self.credential_fields: dict[str, list[str]] = {}  # tool name -> which fields were given
        self._secrets: dict[str, dict[str, str]] = {}  # tool name -> credential values; never exported

    def put(self, name: str, spec: Mapping[str, Any],
            credentials: Mapping[str, Any] | None = None,
            url_field: str = "spec.connection.baseUrl") -> tuple[dict[str, Any], bool]:
        """Create or replace the tool; 400 naming ``url_field`` for an ambiguous base URL."""
        connection = spec.get("connection") or {}
        if "baseUrl" in connection:
            check_base_url(connection["baseUrl"], url_field)
        spec = copy.deepcopy(dict(spec))
        if credentials:
            self._wire_credentials(name, spec)
        record = {"name": name, "namespace": DEFAULT_NAMESPACE, "spec": spec, "status": {"phase": "Pending"}}
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
        return tool["spec"].get("governance", {}).get("approval", {}).get("defaultDuration")

    def export(self) -> dict[str, Any]:
        return {**super().export(), "credential_fields": dict(self.credential_fields)}

    def load(self, data: Mapping[str, Any]) -> None:
        super().load(data)
        self.credential_fields = dict(data.get("credential_fields", {}))
