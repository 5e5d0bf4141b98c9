"""Requests checked against openapi.yaml with plain jsonschema: no code of the mock involved.

This is what a spec-driven validator (a generated client, Prism's proxy, a contract kit) sees:
the request schemas and parameters as written, without the mock's ``x-`` extensions. A form
the mock accepts must pass here, or the spec does not describe what the mock does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker

from mockserver.spec.document import default_spec_path


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    with open(default_spec_path(), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _resolve(node: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if not ref:
        return node
    target: Any = _document()
    for part in ref[2:].split("/"):
        target = target[part]
    return target


def _validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    # The document's components ride along, so its "#/components/..." $refs resolve.
    return Draft202012Validator({**schema, "components": _document()["components"]}, format_checker=FormatChecker())


def _operation(method: str, path: str) -> tuple[dict, list[dict]]:
    """The operation for a concrete path (static paths win over templated ones) and its parameters."""
    candidates = []
    for template, item in _document()["paths"].items():
        pattern = re.sub(r"\\{\w+\\}", "[^/]+", re.escape(template))
        if method.lower() in item and re.fullmatch(pattern, path):
            candidates.append((template.count("{"), item))
    assert candidates, f"{method} {path} is not in openapi.yaml"
    item = min(candidates, key=lambda c: c[0])[1]
    op = item[method.lower()]
    params = [_resolve(p) for p in item.get("parameters", []) + op.get("parameters", [])]
    return op, params


def _coerce(raw: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    try:
        return int(raw) if kind == "integer" else float(raw) if kind == "number" else raw
    except ValueError:
        return raw


def schema_problems(
    method: str, path: str, query: Mapping[str, str] | None = None, body: Any = None, redacted: str | None = None
) -> list[str]:
    """Why openapi.yaml alone refuses this request; empty when it accepts it.

    A query parameter the operation does not declare counts as a problem: the spec must name
    every form a client sends. ``body=None`` means no body. Values equal to ``redacted`` (the
    journal's stand-in for anything that looks secret, even ``max_tokens``) are not judged.
    """
    op, params = _operation(method, path)
    problems = []
    declared = {p["name"]: p for p in params if p["in"] == "query"}
    for name, raw in (query or {}).items():
        if name not in declared:
            problems.append(f"query parameter {name} is not declared")
            continue
        schema = declared[name].get("schema", {})
        problems += [
            f"query {name}: {e.message}"
            for e in _validator(schema).iter_errors(_coerce(raw, schema))
            if redacted is None or e.instance != redacted
        ]
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if content is not None and body is not None:
        problems += [
            f"body {'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in _validator(content["schema"]).iter_errors(body)
            if redacted is None or e.instance != redacted
        ]
    return problems
