"""Tools: create-or-update by name, credentials wired in as secret references, probes.

Credential values are kept in memory only, for the tool proxy to inject (``secret()``): they are
not part of any record, so nothing leaks through responses, the journal or an exported state
file (a restored state has the field names but not the values).
"""

from __future__ import annotations

import copy
import zlib
from typing import Any, Mapping
from urllib.parse import urlsplit

from ..common import DEFAULT_NAMESPACE, NamedCollection
from ..state import mapping, records


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
            isinstance(names, list) and all(isinstance(n, str) for n in names) for names in fields.values()):
        return "tools.credential_fields must map a tool name to a list of field names"
    return None


class ToolsBackend(NamedCollection):
    kind = "tools"
    not_found_message = 'tool "{name}" not found'
    STATE = (records("items", key="name", schema="Tool", charge=kind),
             mapping("credential_fields", list, check=_credential_fields_problem))

    def __init__(self, platform):
        super().__init__(platform)
        self.credential_fields: dict[str, list[str]] = {}  # tool name -> which fields were given
        self._secrets: dict[str, dict[str, str]] = {}  # tool name -> credential values; never exported

    def put(self, name: str, spec: Mapping[str, Any],
            credentials: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], bool]:
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
