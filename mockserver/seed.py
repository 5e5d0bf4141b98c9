"""Loading fixtures: resources written in the API's own request shapes, YAML or JSON.

Each item goes through the same validation and handler as the matching API call, so a
fixture can only create what a client could have created::

    tools: [{name: stripe-api, base_url: https://api.stripe.com}]
    model_providers: [{name: openai, spec: {provider: openai, endpoint: ..., models: [gpt-4o], auth: {type: None}}}]
    identity_providers: [...]
    agents: [{agent_name: a, image: img:1}]          # deploy bodies
    runs: [{agent_id: a, user_id: u, events: [{type: USER_MESSAGE}]}]
    access_requests: [{subject: s, tool_id: stripe-api}]
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import yaml

from .errors import ApiError
from .nesting import nesting_problem
from .spec import ApiRequest

if TYPE_CHECKING:
    from .app import MockServer

# Fixture section -> the operation that creates one item, in dependency order.
SECTIONS = {
    "tools": "createTool",
    "model_providers": "createModelProvider",
    "identity_providers": "createIdentityProvider",
    "agents": "deployAgent",
    "runs": "createRun",
    "access_requests": "createAccessRequest",
}


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
    problem = nesting_problem(data, "fixture") or _not_json_problem(data)
    if problem:
        raise ValueError(problem)
    if not isinstance(data, Mapping):
        raise ValueError("a fixture must be a mapping of sections: " + ", ".join(SECTIONS))
    unknown = sorted(set(map(str, data)) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown fixture section(s): {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    return data


def _not_json_problem(data: Any) -> str | None:
    """YAML can hold what JSON cannot (dates, bytes, sets, non-string keys); fixtures are API
    bodies, so the first such value is named. Call after the nesting check (recursive)."""
    stack: list[tuple[Any, str]] = [(data, "fixture")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str):
                    return f"{where}: key {key!r} must be a string (quote it)"
                stack.append((value, f"{where}.{key}"))
        elif isinstance(node, list):
            stack.extend((value, f"{where}[{i}]") for i, value in enumerate(node))
        elif node is not None and not isinstance(node, (str, int, float, bool)):
            return f"{where} is a YAML {type(node).__name__}, which JSON cannot hold (quote it)"
        elif isinstance(node, float) and not math.isfinite(node):
            return f"{where} is {node}, which JSON cannot hold"
    return None


def load_seed_file(server: "MockServer", path: str | Path) -> dict[str, Any]:
    text = Path(path).read_text(encoding="utf-8")
    return seed(server, parse_seed_text(text))


def seed(server: "MockServer", data: Mapping[str, Any]) -> dict[str, Any]:
    """Create every item, or nothing: at the first bad item the state is put back as it was
    and the error names the item. Answers how many of each were created."""
    created: dict[str, Any] = {}
    ids: dict[str, list[str]] = {}
    platform = server.platform
    with platform.lock:
        before = platform.export()
        try:
            for section, operation_id in SECTIONS.items():
                items = data.get(section) or []
                if not isinstance(items, list):
                    raise ApiError(400, f"{section} must be a list")
                for index, item in enumerate(items):
                    _seed_item(server, section, operation_id, index, item, created, ids)
        except BaseException:
            platform.load(before)
            raise
    return {"created": created, "ids": ids}


def _seed_item(server: "MockServer", section: str, operation_id: str, index: int, item: Any,
               created: dict[str, Any], ids: dict[str, list[str]]) -> None:
    item = dict(item) if isinstance(item, Mapping) else item
    events = item.pop("events", []) if section == "runs" and isinstance(item, dict) else []
    if not isinstance(events, list):
        raise ApiError(400, f"{section}[{index}].events must be a list")
    try:
        status, body = _call(server, operation_id, item)
        if section == "runs":
            for event in events:
                _call(server, "addRunEvent", event, path={"id": body["id"]})
    except ApiError as exc:
        raise ApiError(400, f"{section}[{index}]: {exc.message}") from None
    created[section] = created.get(section, 0) + 1
    ids.setdefault(section, []).append(body.get("id") or body.get("name") or body.get("agent"))


def _call(server: "MockServer", operation_id: str, item: Any, path: Mapping[str, str] | None = None):
    op = server.spec.operations[operation_id]
    raw = json.dumps(item).encode()
    parsed = op.parse(dict(path or {}), {}, {}, raw)
    return server.handlers[operation_id](server.platform, ApiRequest(parsed.path, {}, {}, parsed.body))
