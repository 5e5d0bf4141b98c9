"""The spec as schemathesis sees it: loading, configuring, and choosing the operations to test.

Nothing here lists requests by hand: every request is generated from ``openapi.yaml``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import schemathesis
import yaml
from schemathesis.specs.openapi.schemas import OpenApiSchema

# Where a key goes is read from the document's securitySchemes by the mock's one auth module.
from mockserver.spec.security import WORKSPACE_KEY_PREFIX, bearer_schemes, key_header

HTTP_METHODS = ("get", "put", "post", "delete", "patch")
REQUIRED_LINK = "x-required-link"  # on an OpenAPI link: every run must follow it (docs/contracts.md)

# Writes only sent to the in-process mock, which is thrown away after: those that create
# resources under fixed names (echo-tool, playground-llm), which cannot carry the run's prefix,
# and those whose effect on a real account cleanup could not undo.
IN_PROCESS_ONLY_WRITES = {
    "seedStarterKit": "creates echo-tool and playground-llm, whose names cannot carry the prefix; "
    "covered against the in-process mock only",
    "seedStarterKitV1": "creates echo-tool and playground-llm, whose names cannot carry the prefix; "
    "covered against the in-process mock only",
    # June writes that change a real account in ways cleanup cannot undo (billing, workspace
    # defaults) or create objects cleanup cannot find by name (connectors have ids; plans
    # create what their steps name).
    "createApprovalConnector": "connectors are found by id, not name; covered against the in-process mock only",
    "updateApprovalConnectorDefaults": "changes the workspace's delivery defaults; in-process mock only",
    "applyActionPlan": "creates what its steps name, beyond the prefix; in-process mock only",
    "attachBillingPaymentMethod": "changes the account's plan; in-process mock only",
    "createBillingSetupIntent": "starts a payment flow; in-process mock only",
    "createBillingCheckout": "starts a payment flow; in-process mock only",
    "createBillingPortal": "starts a payment flow; in-process mock only",
}


def default_spec_path(api: str = "2026-02") -> Path:
    from mockserver.spec.document import default_spec_path as packaged

    from .settings import APIS

    return packaged(APIS[api][0])


def load_document(path: Path | None, api: str = "2026-02") -> dict[str, Any]:
    """The document with every ``$ref`` inlined, as the kit's checks read it."""
    from mockserver.spec.document import dereference

    path = Path(path or default_spec_path(api)).resolve()
    with open(path, encoding="utf-8") as fh:
        document: dict[str, Any] = dereference(yaml.safe_load(fh))
    return document


@dataclass(frozen=True)
class SpecOperation:
    operation_id: str
    method: str  # upper case
    path: str

    @property
    def label(self) -> str:
        """The name schemathesis gives the operation, e.g. ``POST /api/tools``."""
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class SpecLink:
    name: str  # e.g. AddEventToRun
    source: SpecOperation  # where the link starts
    status: str  # the response status that carries it
    target: SpecOperation  # where it leads
    # ``x-required-link: true`` on the link: a run that did not follow it (with a 2xx answer) fails.
    required: bool = False

    @property
    def transition_id(self) -> str:
        """How schemathesis names a step taken along this link."""
        return f"{self.source.label} -> [{self.status}] {self.name} -> {self.target.label}"


def spec_operations(document: dict[str, Any]) -> list[SpecOperation]:
    return [
        SpecOperation(op["operationId"], method.upper(), path)
        for path, item in document.get("paths", {}).items()
        for method, op in item.items()
        if method in HTTP_METHODS
    ]


def spec_links(document: dict[str, Any]) -> list[SpecLink]:
    """Every OpenAPI link in the spec (by operationId), for the report's link coverage."""
    operations = {op.operation_id: op for op in spec_operations(document)}
    found = []
    for item in document.get("paths", {}).values():
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            for status, response in op.get("responses", {}).items():
                for name, link in (response.get("links") or {}).items():
                    if link.get("operationId") in operations:
                        found.append(
                            SpecLink(
                                name,
                                operations[op["operationId"]],
                                str(status),
                                operations[link["operationId"]],
                                link.get(REQUIRED_LINK) is True,
                            )
                        )
    return found


def link_flows(links: list[SpecLink]) -> dict[str, list[str]]:
    """Operations joined by links, grouped into flows: flow name -> operationIds.

    A flow is a connected group (createRun, addRunEvent, createBlockedAction, approveAction...),
    named after the operations its links start from. Each flow gets its own stateful test, so
    every flow is exercised, and a deviation in one does not stop the others.
    """
    group: dict[str, str] = {}  # union-find: operationId -> another operationId of its group

    def root(op: str) -> str:
        while group.setdefault(op, op) != op:
            op = group[op]
        return op

    for link in links:
        group[root(link.target.operation_id)] = root(link.source.operation_id)
    members: dict[str, list[str]] = {}
    for op in group:
        members.setdefault(root(op), []).append(op)
    targets = {link.target.operation_id for link in links}
    flows = {}
    for ops in members.values():
        starts = [op for op in ops if op not in targets] or ops[:1]
        flows["+".join(starts)] = ops
    return flows


def skipped_operations(document: dict[str, Any], *, read_only: bool, in_process: bool) -> dict[str, str]:
    """operationId -> why this run does not test it."""
    skipped = {}
    for op in spec_operations(document):
        if read_only and op.method != "GET":
            skipped[op.operation_id] = "read-only run"
        elif op.operation_id in IN_PROCESS_ONLY_WRITES and not in_process:
            skipped[op.operation_id] = IN_PROCESS_ONLY_WRITES[op.operation_id]
    return skipped


def build_schema(
    document: dict[str, Any],
    *,
    base_url: str,
    api_key: str,
    seed: int,
    max_examples: int,
    skipped: dict[str, str],
    negative: bool = True,
    read_only: bool = False,
) -> OpenApiSchema:
    """A schemathesis schema that sends what ``st run`` would send to ``base_url``.

    Every phase runs as in the bare CLI: the spec's examples, coverage (boundary values and,
    unless ``negative`` is off, invalid values and unexpected methods), fuzzing, and the
    stateful phase (``test_stateful.py``), which follows the spec's links and the links
    schemathesis infers.
    """
    unexpected_methods: list[str] | None
    if negative and not read_only:
        unexpected_methods = None  # schemathesis' default: every method the path lacks
    else:
        unexpected_methods = []  # other methods would write (read-only), or are not spec-valid
    coverage: dict[str, Any] = {"enabled": True}
    if unexpected_methods is not None:
        coverage["unexpected-methods"] = unexpected_methods
    settings: dict[str, Any] = {
        "seed": seed,
        "base-url": base_url,
        "request-timeout": 30,
        "generation": {
            "mode": "all" if negative else "positive",
            "max-examples": max_examples,
            "database": "none",  # no .hypothesis/ directory wherever the kit is run from
        },
        # Links come from the spec only (as schemathesis.toml tells `st run`): inferred ones join
        # operations whose schemas merely look alike (createRun -> approveAction).
        "phases": {"coverage": coverage, "stateful": {"inference": {"algorithms": []}}},
    }
    header = key_header(document)
    if header and api_key.startswith(WORKSPACE_KEY_PREFIX):
        schemes = {header[0]: {"api_key": api_key}}
    else:
        schemes = {name: {"bearer": api_key} for name in bearer_schemes(document)}
    if schemes:
        # The key goes where the spec's security scheme says, on every generated request.
        settings["auth"] = {"openapi": schemes}
    # from_dict normalises the document in place; keep the caller's copy intact.
    schema = schemathesis.openapi.from_dict(copy.deepcopy(document), config=schemathesis.Config.from_dict(settings))
    if skipped:
        # exclude() answers a clone of the schema, of its class (annotated as the base class).
        schema = cast(OpenApiSchema, schema.exclude(operation_id=sorted(skipped)))
    return schema
