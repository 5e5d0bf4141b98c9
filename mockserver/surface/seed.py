"""Loading fixtures: resources written in the API's own request shapes, YAML or JSON.

Each item goes through the same validation and handler as the matching API call, so a
fixture can only create what a client could have created::

    tools: [{name: stripe-api, base_url: https://api.stripe.com}]
    model_providers: [{name: openai, spec: {provider: openai, endpoint: ..., models: [gpt-4o], auth: {type: None}}}]
    identity_providers: [...]
    policies: [{name: p, spec: {policies: [...]}}]
    agents: [{agent_name: a, image: img:1}]          # deploy bodies
    runs: [{agent_id: a, user_id: u, events: [{type: USER_MESSAGE}]}]
    access_requests: [{subject: s, tool_id: stripe-api}]

Runs and access requests take a few keys beyond the create body (``FIXTURE_ONLY``), so a
recorded session (``runagents-mock proxy --record``) comes back with its ids and statuses:
``id``, ``status`` (reached through the API's own transitions: updateRun, approve, reject),
a run's ``events`` (addRunEvent bodies), and an access request's ``approver_id``/``reason``/``scope``.

    catalog: [{id: my-agent, version: 1.0.0, name: My agent, deploymentTemplate: {agentName: my-agent}}]

Two June kinds are created through ``/api/v1``'s operations (``sections(june_only=True)``), in the
fixture's workspace: ``approval_connectors`` (createApprovalConnector bodies; a new id each)
and ``deploy_drafts`` (createDeployDraft bodies with their ``id``, and a ``status``: a
COMPLETED or ABANDONED draft is completed or abandoned after it is created).

``catalog`` items are catalog manifests (``CatalogManifest`` in openapi-v1.yaml, plus the
listing fields ``category``, ``tags``, ``complexity``, ``published_at``, ``changelog``); each
adds one version of an entry to the /api/v1 catalog.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..basics.errors import ApiError
from ..basics.nesting import nesting_problem
from ..spec.document import RequestCheck, Spec, mock_spec_path

if TYPE_CHECKING:
    from ..services.platform import Platform
    from .host import SeedHost


@cache
def sections(june_only: bool = False) -> dict[str, str]:
    """Fixture section -> the operation that creates one item, in dependency order (policies
    before the agents bound to them): the ``Fixture`` schema of mock-openapi.yaml says it
    (``x-created-by``; ``june_only``: the kinds created by an /api/v1 operation, seeded after
    the others). Read on first use: a mock that is never seeded or recorded does not ask."""
    fixture = Spec.load(mock_spec_path()).document["components"]["schemas"]["Fixture"]["properties"]
    return {
        name: schema["x-created-by"]
        for name, schema in fixture.items()
        if "x-created-by" in schema and bool(schema.get("x-june-only")) == june_only
    }


CATALOG_SECTION = "catalog"  # no API call creates catalog entries: checked against the v1 schema
# {name: fixture}: the same sections, loaded into that named workspace (a June
# /api/v1/workspaces/{name} session recorded by the proxy). Only at a fixture's top level.
WORKSPACES_SECTION = "workspaces"


# Keys of a fixture item that are not part of the create call's body.
FIXTURE_ONLY = {
    "runs": ("id", "status", "events"),
    "access_requests": ("id", "status", "approver_id", "reason", "scope"),
    "deploy_drafts": ("status",),
}
# Creates that June widened: an item the February call refuses is created as on /api/v1 (a
# recorded June policy with approval_required rules).
_JUNE_FORM = {"createPolicy": "createPolicyV1"}
# A draft's status, reached after it is created through the API's own transition.
_DRAFT_TRANSITIONS = {"COMPLETED": "completeDeployDraft", "ABANDONED": "abandonDeployDraft"}


@cache
def _no_alias_loader() -> type:
    """Built on first use: a mock that is never seeded does not load yaml."""
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        """Fixtures need no anchors/aliases, and aliases let a few bytes expand without bound."""

        def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
            if self.check_event(yaml.events.AliasEvent):
                raise yaml.YAMLError("aliases (*name) are not allowed in fixtures")
            return super().compose_node(parent, index)

    return NoAliasLoader


def parse_seed_text(text: str) -> Mapping[str, Any]:
    import yaml

    try:
        data = yaml.load(text, Loader=_no_alias_loader()) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise ValueError(f"fixture is neither valid YAML nor JSON: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ValueError("fixture is nested too deeply") from None
    problem = nesting_problem(data, "fixture") or _not_json_problem(data)
    if problem:
        raise ValueError(problem)
    if not isinstance(data, Mapping):
        raise ValueError("a fixture must be a mapping of sections: " + ", ".join(sections()))
    known = [*sections(), *sections(june_only=True), CATALOG_SECTION, WORKSPACES_SECTION]
    unknown = sorted(set(map(str, data)) - set(known))
    if unknown:
        raise ValueError(f"unknown fixture section(s): {', '.join(unknown)}; known: {', '.join(known)}")
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


def load_seed_file(server: SeedHost, path: str | Path) -> dict[str, Any]:
    text = Path(path).read_text(encoding="utf-8")
    return seed(server, parse_seed_text(text))


def seed(server: SeedHost, data: Mapping[str, Any], platform: Platform | None = None) -> dict[str, Any]:
    """Create every item in ``platform`` (a workspace; default: the default one); answers how
    many of each were created. A bad item stops the load and undoes it whole, so a refused
    fixture changes nothing."""
    named = _section(data, WORKSPACES_SECTION, {})
    if not isinstance(named, Mapping):
        raise ApiError(400, f"{WORKSPACES_SECTION} must map workspace names to fixtures")
    if named:
        if platform is not None and platform is not server.platform:
            raise ApiError(400, f"{WORKSPACES_SECTION} is only read by a fixture for the default workspace")
        for name in named:
            server.workspaces.check_name(name)
        data = {k: v for k, v in data.items() if k != WORKSPACES_SECTION}
    platform = platform or server.platform
    result = _seed_one(server, platform, data)
    for name, fixture in named.items():
        if not isinstance(fixture, Mapping) or WORKSPACES_SECTION in fixture:
            raise ApiError(400, f"{WORKSPACES_SECTION}.{name} must be a fixture without {WORKSPACES_SECTION}")
        try:
            result.setdefault(WORKSPACES_SECTION, {})[name] = _seed_one(server, server.workspaces.get(name), fixture)
        except ApiError as exc:
            raise ApiError(400, f"{WORKSPACES_SECTION}.{name}: {exc.message}") from None
    return result


def _section(data: Mapping[str, Any], name: str, empty: Any) -> Any:
    # A missing or null section is an empty one; any other value must be of the section's type
    # (false, 0 or "" is refused, not read as empty).
    value = data.get(name)
    return empty if value is None else value


def _seed_one(server: SeedHost, platform: Platform, data: Mapping[str, Any]) -> dict[str, Any]:
    with platform.lock:
        before = platform.export()
        try:
            return _seed_items(server, platform, data)
        except BaseException:
            platform.load(before)
            raise


def _seed_items(server: SeedHost, platform: Platform, data: Mapping[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = {}
    ids: dict[str, list[str]] = {}
    steps = [(section, op_id, False) for section, op_id in sections().items()]
    steps += [(section, op_id, True) for section, op_id in sections(june_only=True).items()]
    for section, operation_id, v1 in steps:
        items = _section(data, section, [])
        if not isinstance(items, list):
            raise ApiError(400, f"{section} must be a list")
        for index, item in enumerate(items):
            # An item is an object: a null one is not "no body" (the API reads a null body so).
            if not isinstance(item, Mapping):
                raise ApiError(400, f"{section}[{index}]: request body must be of type object")
            item = dict(item)
            extra = {key: item.pop(key) for key in FIXTURE_ONLY.get(section, ()) if key in item}
            try:
                status, body = _create(server, platform, operation_id, item, v1)
                if section == "deploy_drafts":
                    body = _replay_draft(server, platform, body, extra)
                elif status == 201 and "id" in extra:
                    body = _keep_id(server, platform, section, body["id"], extra["id"])
                if section == "runs":
                    body = _replay_run(server, platform, body, extra)
                elif section == "access_requests":
                    body = _replay_request(server, platform, body, extra)
            except ApiError as exc:
                raise ApiError(400, f"{section}[{index}]: {exc.message}") from None
            created[section] = created.get(section, 0) + 1
            ids.setdefault(section, []).append(body.get("id") or body.get("name") or body.get("agent"))
    _seed_catalog(server, platform, _section(data, CATALOG_SECTION, []), created, ids)
    return {"created": created, "ids": ids}


def _create(server: SeedHost, platform: Platform, operation_id: str, item: Any, v1: bool) -> tuple[int, Any]:
    try:
        return _call(server, platform, operation_id, item, v1=v1)
    except ApiError:
        june = _JUNE_FORM.get(operation_id)
        if v1 or june is None or server.v1_spec is None or june not in server.v1_spec.operations:
            raise
        return _call(server, platform, june, item, v1=True)


def _keep_id(server: SeedHost, platform: Platform, section: str, created: str, wanted: Any) -> dict[str, Any]:
    if not isinstance(wanted, str) or not wanted.strip():
        raise ApiError(400, "id must be a non-empty string")
    # The id must be one the API could have given (a run's is a uuid): the created record's schema says.
    record_schema = server.spec.operations[sections()[section]].responses["201"]["application/json"]
    message = RequestCheck.compile(record_schema["properties"]["id"]).first_error(wanted, "id")
    if message:
        raise ApiError(400, message)
    backend = platform.runs if section == "runs" else platform.governance
    return backend.rename(created, wanted)


def _replay_run(server: SeedHost, platform: Platform, run: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    events = extra.get("events") or []
    if not isinstance(events, list):
        raise ApiError(400, "events must be a list")
    for event in events:
        try:
            _call(server, platform, "addRunEvent", event, path={"id": run["id"]})
        except ApiError:  # an event type only the June API has (RUN_CREATED), as a recorded June session holds
            if server.v1_spec is None or "addRunEvent" not in server.v1_spec.operations:
                raise
            _call(server, platform, "addRunEvent", event, path={"id": run["id"]}, v1=True)
    if extra.get("status") and extra["status"] != run["status"]:
        run = _call(server, platform, "updateRun", {"status": extra["status"]}, path={"id": run["id"]})[1]
    return run


def _replay_draft(
    server: SeedHost, platform: Platform, draft: dict[str, Any], extra: Mapping[str, Any]
) -> dict[str, Any]:
    wanted = extra.get("status")
    if wanted in (None, draft.get("status")):
        return draft
    if wanted not in _DRAFT_TRANSITIONS:
        raise ApiError(400, f"status must be one of IN_PROGRESS, COMPLETED, ABANDONED (got {wanted!r})")
    return _call(server, platform, _DRAFT_TRANSITIONS[wanted], None, path={"id": draft["id"]}, v1=True)[1]


def _replay_request(
    server: SeedHost, platform: Platform, request: dict[str, Any], extra: Mapping[str, Any]
) -> dict[str, Any]:
    wanted = extra.get("status")
    if wanted in (None, request["status"]):
        return request
    if wanted == "APPROVED":
        body = {key: extra[key] for key in ("approver_id", "scope") if extra.get(key)}
        return _call(server, platform, "approveAccessRequest", body, path={"id": request["id"]})[1]
    if wanted == "REJECTED":
        body = {"reason": extra["reason"]} if extra.get("reason") else {}
        return _call(server, platform, "rejectAccessRequest", body, path={"id": request["id"]})[1]
    raise ApiError(400, f"status must be one of PENDING, APPROVED, REJECTED (got {wanted!r})")


def _seed_catalog(
    server: SeedHost, platform: Platform, items: Any, created: dict[str, Any], ids: dict[str, list[str]]
) -> None:
    if not isinstance(items, list):
        raise ApiError(400, f"{CATALOG_SECTION} must be a list")
    validator = server.surfaces.by_name("v1").spec.component_validator("CatalogManifest")
    for index, item in enumerate(items):
        message = validator.first_error(item, "")
        if message:
            raise ApiError(400, f"{CATALOG_SECTION}[{index}]: {message}")
        platform.catalog.add(item)
        created[CATALOG_SECTION] = created.get(CATALOG_SECTION, 0) + 1
        ids.setdefault(CATALOG_SECTION, []).append(f"{item['id']}@{item['version']}")


def _call(
    server: SeedHost,
    platform: Platform,
    operation_id: str,
    item: Any,
    path: Mapping[str, str] | None = None,
    v1: bool = False,
) -> tuple[int, dict[str, Any]]:
    """Status and answer; each call a seed makes creates or changes one record, and answers it."""
    invoker = server.v1_invoker if v1 else server.invoker
    status, record = invoker.call(platform, operation_id, item, path)
    return status, record
