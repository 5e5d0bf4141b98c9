"""Loading fixtures: resources written in the API's own request shapes, YAML or JSON.

Each item goes through the same validation and handler as the matching API call, so a
fixture can only create what a client could have created::

    tools: [{name: stripe-api, base_url: https://api.stripe.com}]
    model_providers: [{name: openai, spec: {provider: openai, endpoint: ..., models: [gpt-4o], auth: {type: None}}}]
    identity_providers: [...]
    agents: [{agent_name: a, image: img:1}]          # deploy bodies
    runs: [{agent_id: a, user_id: u, events: [{type: USER_MESSAGE}]}]
    access_requests: [{subject: s, tool_id: stripe-api}]
    catalog: [{id: my-agent, version: 1.0.0, name: My agent, deploymentTemplate: {agentName: my-agent}}]

``catalog`` items are catalog manifests (``CatalogManifest`` in openapi-v1.yaml, plus the
listing fields ``category``, ``tags``, ``complexity``, ``published_at``, ``changelog``); each
adds one version of an entry to the /api/v1 catalog.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import yaml

from .errors import ApiError
from .spec import ApiRequest, first_error

if TYPE_CHECKING:
    from .app import MockServer
    from .platform import Platform

# Fixture section -> the operation that creates one item, in dependency order.
SECTIONS = {
    "tools": "createTool",
    "model_providers": "createModelProvider",
    "identity_providers": "createIdentityProvider",
    "agents": "deployAgent",
    "runs": "createRun",
    "access_requests": "createAccessRequest",
}
CATALOG_SECTION = "catalog"  # no API call creates catalog entries: checked against the v1 schema


class _NoAliasLoader(yaml.SafeLoader):
    """Fixtures need no anchors/aliases, and aliases let a few bytes expand without bound."""

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.events.AliasEvent):
            raise yaml.YAMLError("aliases (*name) are not allowed in fixtures")
        return super().compose_node(parent, index)


def parse_seed_text(text: str) -> Mapping[str, Any]:
    try:
        data = yaml.load(text, Loader=_NoAliasLoader) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise ValueError(f"fixture is neither valid YAML nor JSON: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ValueError("fixture is nested too deeply") from None
    if not isinstance(data, Mapping):
        raise ValueError("a fixture must be a mapping of sections: " + ", ".join(SECTIONS))
    known = [*SECTIONS, CATALOG_SECTION]
    unknown = sorted(set(map(str, data)) - set(known))
    if unknown:
        raise ValueError(f"unknown fixture section(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return data


def load_seed_file(server: "MockServer", path: str | Path) -> dict[str, Any]:
    text = Path(path).read_text(encoding="utf-8")
    return seed(server, parse_seed_text(text))


def seed(server: "MockServer", data: Mapping[str, Any], platform: "Platform | None" = None) -> dict[str, Any]:
    """Create every item in ``platform`` (a workspace; default: the default one); answers how
    many of each were created. Stops at the first bad item."""
    platform = platform or server.platform
    created: dict[str, Any] = {}
    ids: dict[str, list[str]] = {}
    with platform.lock:
        for section, operation_id in SECTIONS.items():
            items = data.get(section) or []
            if not isinstance(items, list):
                raise ApiError(400, f"{section} must be a list")
            for index, item in enumerate(items):
                item = dict(item) if isinstance(item, Mapping) else item
                events = item.pop("events", []) if section == "runs" and isinstance(item, dict) else []
                try:
                    status, body = _call(server, platform, operation_id, item)
                    if section == "runs":
                        for event in events:
                            _call(server, platform, "addRunEvent", event, path={"id": body["id"]})
                except ApiError as exc:
                    raise ApiError(400, f"{section}[{index}]: {exc.message}") from None
                created[section] = created.get(section, 0) + 1
                ids.setdefault(section, []).append(body.get("id") or body.get("name") or body.get("agent"))
        _seed_catalog(server, platform, data.get(CATALOG_SECTION), created, ids)
    return {"created": created, "ids": ids}


def _seed_catalog(server: "MockServer", platform: "Platform", items: Any, created: dict[str, Any],
                  ids: dict[str, list[str]]) -> None:
    if not items:
        return
    if not isinstance(items, list):
        raise ApiError(400, f"{CATALOG_SECTION} must be a list")
    validator = server.surfaces.by_name("v1").spec.component_validator("CatalogManifest")
    for index, item in enumerate(items):
        message = first_error(validator, item, "")
        if message:
            raise ApiError(400, f"{CATALOG_SECTION}[{index}]: {message}")
        platform.catalog.add(item)
        created[CATALOG_SECTION] = created.get(CATALOG_SECTION, 0) + 1
        ids.setdefault(CATALOG_SECTION, []).append(f"{item['id']}@{item['version']}")


def _call(server: "MockServer", platform: "Platform", operation_id: str, item: Any,
          path: Mapping[str, str] | None = None):
    op = server.spec.operations[operation_id]
    raw = json.dumps(item).encode()
    parsed = op.parse(dict(path or {}), {}, {}, raw)
    return server.handlers[operation_id](platform, ApiRequest(parsed.path, {}, {}, parsed.body))
