"""The OpenAPI document as the mock uses it: operations, request parsing and validation.

Everything the server knows about routes, parameters, request bodies and response shapes
comes from here, and this module reads it all from ``openapi.yaml``. Validators are compiled
once, when the spec is loaded, so no request parses or compiles anything from the spec.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..basics.errors import ApiError
from ..basics.nesting import may_nest_deeply, nesting_problem
from .matching import PathTable, template_regex

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, FormatChecker
    from werkzeug.datastructures import Headers

_JSON_ONLY = frozenset({"application/json"})
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def default_spec_path(name: str = "openapi.yaml") -> Path:
    """An OpenAPI document shipped inside the package (a link to the repo root's copy):
    ``openapi.yaml`` (the February 2026 API) or ``openapi-v1.yaml`` (``/api/v1``, June 2026)."""
    return Path(str(resources.files("mockserver") / name))


def mock_spec_path() -> Path:
    """``mock-openapi.yaml``: the mock's own surface (control API, runtime path), shipped the same way."""
    return Path(str(resources.files("mockserver") / "mock-openapi.yaml"))


def _deref(node: Any, root: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """Inline every local ``$ref``; our schemas are not recursive, so this terminates.
    (A served document is self-contained: openapi-v1.yaml is bundled, see ``bundle.py``.)"""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            if ref in seen:
                raise ValueError(f"recursive $ref {ref} is not supported")
            target: Any = root
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            merged = _deref(target, root, seen + (ref,))
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            return _with_siblings(merged, _deref(siblings, root, seen)) if siblings else merged
        return {k: _deref(v, root, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [_deref(v, root, seen) for v in node]
    return node


def _with_siblings(target: Any, siblings: Mapping[str, Any]) -> Any:
    """A ``$ref`` with sibling keywords: both apply (OpenAPI 3.1), so lists of subschemas
    (``allOf``) and of required names add up instead of one replacing the other."""
    if not isinstance(target, dict):
        return target
    merged = {**target, **siblings}
    for key in ("allOf", "required"):
        if key in target and key in siblings:
            merged[key] = [*target[key], *(v for v in siblings[key] if v not in target[key])]
    return merged


def dereference(document: Mapping[str, Any]) -> Any:
    """The whole document with every ``$ref`` inlined."""
    return _deref(document, document)


# `format` is checked where the documents declare one (uri, date-time, email, uuid), as the
# platform refuses a value that breaks it. jsonschema checks `uri` only with an optional
# package, so the one rule the mock applies is registered here: an absolute URI (a scheme,
# `:`, then no whitespace or control characters), as the compiled validator also requires.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f]*")


def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or _URI.fullmatch(value) is not None


@cache
def _formats() -> FormatChecker:
    from jsonschema import FormatChecker

    formats = FormatChecker()
    formats.checks("uri")(_is_uri)
    return formats


def _validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    """jsonschema's validator: what names a problem. Imported on first use (a tenth of a
    session's start-up): valid input is answered by the compiled check alone."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema, format_checker=_formats())


# --- error messages ---------------------------------------------------------------------


def _location(prefix: str, path: Iterable[Any]) -> str:
    out = prefix
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_RULE_MESSAGES = {
    "minLength": "{what} must be at least {value} characters",
    "maxLength": "{what} must be at most {value} characters",
    "minimum": "{what} must be >= {value}",
    "maximum": "{what} must be <= {value}",
    "minItems": "{what} must have at least {value} item(s)",
    "pattern": "{what} has an invalid format (must match {value})",
    "format": "{what} must be a valid {value}",
}


def _describe(error: Any, prefix: str) -> str:
    """One line naming the field and the rule, without echoing the value (it may be a secret)."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    custom = schema.get("x-error-messages", {})
    if error.validator in custom:
        return str(custom[error.validator])
    where = _location(prefix, error.absolute_path)
    kind = error.validator
    if kind == "required":
        instance = error.instance if isinstance(error.instance, dict) else {}
        missing = next((k for k in error.validator_value if k not in instance), "?")
        return f"{_location(where, [missing])} is required"
    what = where or "request body"
    if kind == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"{what} must be of type {expected}"
    if kind in ("enum", "const"):
        allowed = error.validator_value if kind == "enum" else [error.validator_value]
        return f"{what} must be one of: {', '.join(map(str, allowed))}"
    if kind == "pattern" and isinstance(schema.get("title"), str):
        # A shared form (Duration) says what it is in its title, rather than by its regex.
        return f"{what} must be {schema['title']}"
    if kind == "minLength" and error.validator_value == 1:
        return f"{what} must not be empty"
    if kind in _RULE_MESSAGES:
        return _RULE_MESSAGES[kind].format(what=what, value=error.validator_value)
    return f"{what} is invalid ({kind})"


def first_error(validator: Draft202012Validator | RequestCheck, instance: Any, prefix: str = "") -> str | None:
    """The message for the first violation in schema order, or None when valid."""
    if isinstance(validator, RequestCheck):
        return validator.first_error(instance, prefix)
    for error in validator.iter_errors(instance):
        return _describe(error, prefix)
    return None


try:  # compiled (Rust) JSON Schema validation, a dependency of the package
    import jsonschema_rs
except ImportError:  # the pure-Python path alone gives the same answers
    _COMPILED = False
else:
    _COMPILED = True


@dataclass(frozen=True)
class RequestCheck:
    """Validates one piece of input: a request's parameter or body, or a response body.

    Nearly every request (and answer) is valid, and for those a compiled validator, when installed, answers
    alone (about 10x faster than building jsonschema's error objects). Invalid input always
    goes through jsonschema, whose errors our messages (x-error-messages, field paths) come from.
    """

    schema: Mapping[str, Any]
    fast: jsonschema_rs.Draft202012Validator | None = None

    @cached_property
    def validator(self) -> Draft202012Validator:
        return _validator(self.schema)

    @classmethod
    def compile(cls, schema: Mapping[str, Any]) -> RequestCheck:
        fast = None
        if _COMPILED:
            try:
                fast = jsonschema_rs.Draft202012Validator(dict(schema), validate_formats=True)
            except Exception:
                fast = None
        # Without the compiled check, jsonschema answers every input: built now, not mid-request.
        return cls(schema, fast) if fast is not None else cls._with_validator(schema)

    @classmethod
    def _with_validator(cls, schema: Mapping[str, Any]) -> RequestCheck:
        check = cls(schema)
        _ = check.validator
        return check

    def is_valid(self, instance: Any) -> bool:
        if self.fast is not None:
            try:
                return bool(self.fast.is_valid(instance))
            except ValueError:  # input Rust cannot hold (a lone surrogate): jsonschema decides
                pass
        return bool(self.validator.is_valid(instance))

    def first_error(self, instance: Any, prefix: str = "") -> str | None:
        if self.is_valid(instance):
            return None
        # Invalid for the compiled check: jsonschema names the problem. Should the two disagree
        # (a format edge case), the input is still refused: never more permissive than either.
        return first_error(self.validator, instance, prefix) or f"{prefix or 'request body'} is invalid"


# --- operations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path, query or header
    required: bool
    validator: RequestCheck
    schema: Mapping[str, Any]
    alias_of: str | None = None  # a deprecated other name: the value goes to this parameter
    comma_separated: bool = False  # `x-comma-separated`: a list in one value, or the parameter repeated

    def coerce(self, raw: str) -> Any:
        """Query/path/header values arrive as text; convert for integer/number/boolean schemas."""
        kind = self.schema.get("type")
        try:
            if kind == "integer":
                return int(raw)
            if kind == "number":
                return float(raw)
        except ValueError:
            return raw
        if kind == "boolean" and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        return raw


@dataclass
class ApiRequest:
    """A request after validation: what a handler gets."""

    path: dict[str, str]
    query: dict[str, Any]
    headers: Mapping[str, str] | Headers  # a mapping, or werkzeug's request headers
    body: Any = None
    operation: Operation | None = None  # what answers it, for handlers whose answer follows their document
    raw: bytes = b""  # the body as sent, for an operation that reads its body itself (YAML seeds)
    stream: Any = None  # the unread body of an `x-mock-body: stream` operation (a file-like object)

    def header(self, name: str) -> str | None:
        value = self.headers.get(name)
        return value if value else None


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str  # upper case
    path: str  # OpenAPI template, e.g. /runs/{id}
    parameters: tuple[Parameter, ...]
    body_schema: Mapping[str, Any] | None  # an empty body counts as {} (see _parse_body)
    responses: Mapping[str, Mapping[str, Any]]  # status -> content-type -> schema
    path_item_extensions: Mapping[str, Any] = field(default_factory=dict)
    keyless: bool = False  # `security: []`: the operation takes no API key
    extensions: Mapping[str, Any] = field(default_factory=dict)  # the operation's own x- keys
    body_required: bool = False  # `requestBody.required`
    body_media: frozenset[str] = frozenset()  # the media types of `requestBody`

    @property
    def body_json_only(self) -> bool:
        """The body is JSON only: else the operation reads its body itself (YAML seeds)."""
        return self.body_media == _JSON_ONLY

    @cached_property
    def body_fields(self) -> frozenset[str]:
        """The top-level body fields the schema names (in ``properties``, also under
        ``allOf``/``anyOf``/``oneOf``), less other spellings of them (``x-alias-of``)."""
        return frozenset(
            name
            for name, prop in _top_level_properties(self.body_schema or {}).items()
            if not (isinstance(prop, dict) and "x-alias-of" in prop)
        )

    @cached_property
    def query_names(self) -> frozenset[str]:
        """The query parameters, less other spellings of them (``x-alias-of``)."""
        return frozenset(p.name for p in self.parameters if p.location == "query" and not p.alias_of)

    @cached_property
    def item_enums(self) -> Mapping[str, frozenset[Any]]:
        """For an operation answering a JSON list (200): each item field with an ``enum`` ->
        its values, i.e. what a client of this document can be shown."""
        schema = self.responses.get("200", {}).get("application/json", {})
        items = schema.get("items", {}) if schema.get("type") == "array" else {}
        return {
            name: frozenset(prop["enum"])
            for name, prop in _top_level_properties(items).items()
            if isinstance(prop, dict) and "enum" in prop
        }

    @cached_property
    def path_regex(self) -> re.Pattern[str]:
        return template_regex(self.path, self.path_item_extensions.get("x-greedy-path-parameter"))

    @cached_property
    def body_validator(self) -> RequestCheck | None:
        return RequestCheck.compile(self.body_schema) if self.body_schema is not None else None

    @cached_property
    def body_aliases(self) -> Mapping[str, str]:
        """Deprecated body field -> the documented field it stands for (``x-alias-of``)."""
        properties = (self.body_schema or {}).get("properties", {})
        return {
            name: prop["x-alias-of"]
            for name, prop in properties.items()
            if isinstance(prop, dict) and "x-alias-of" in prop
        }

    @cached_property
    def query_aliases(self) -> tuple[tuple[str, str], ...]:
        """(deprecated name, the documented parameter it stands for) of each query alias."""
        return tuple((p.name, p.alias_of) for p in self.parameters if p.location == "query" and p.alias_of)

    @cached_property
    def url_rule(self) -> str:
        """The path as a werkzeug routing rule: ``/runs/{id}`` -> ``/runs/<id>``."""
        greedy = self.path_item_extensions.get("x-greedy-path-parameter")
        return re.sub(r"{(\w+)}", lambda m: f"<path:{m[1]}>" if m[1] == greedy else f"<{m[1]}>", self.path)

    @cached_property
    def response_validators(self) -> dict[str, dict[str, RequestCheck]]:
        """status -> content type -> the compiled check of that body (fast path as for requests)."""
        return {
            status: {ctype: RequestCheck.compile(schema) for ctype, schema in content.items()}
            for status, content in self.responses.items()
        }

    # The hot path: called once per request.
    def parse(
        self,
        path_params: Mapping[str, str],
        args: Mapping[str, Any],
        headers: Mapping[str, str] | Headers,
        raw_body: bytes | None,
    ) -> ApiRequest:
        """Path, query and header parameters and the JSON body, validated (``raw_body`` None: the
        body is not parsed here; the operation reads it itself)."""
        path: dict[str, str] = {}
        query: dict[str, Any] = {}
        for param in self.parameters:
            if param.location == "path":
                raw = path_params.get(param.name)
            elif param.location == "query":
                raw = args.get(param.name)
                if raw is not None and hasattr(args, "getlist") and len(args.getlist(param.name)) > 1:
                    if not param.comma_separated:
                        # No query parameter of the spec is an array: a second value is a mistake.
                        raise ApiError(400, f"query parameter {param.name} is given more than once")
                    raw = ",".join(args.getlist(param.name))  # `--tag a --tag b` as `tag=a,b`
            else:
                raw = headers.get(param.name)
            # An empty header counts as absent; an empty query value is a value, checked like any.
            if raw is None or (raw == "" and param.location == "header"):
                if param.required:
                    raise ApiError(400, f"{param.location} parameter {param.name} is required")
                continue
            value = param.coerce(raw)
            message = param.validator.first_error(value, f"{param.location} parameter {param.name}")
            if message:
                raise ApiError(400, message)
            if param.location == "path":
                path[param.name] = value
            elif param.location == "query":
                query[param.name] = value
        for name, alias_of in self.query_aliases:  # handlers see documented names only
            if name in query:
                query.setdefault(alias_of, query.pop(name))
        body = None if raw_body is None else self._parse_body(raw_body)
        return ApiRequest(path=path, query=query, headers=headers, body=body, operation=self)

    def _parse_body(self, raw_body: bytes) -> Any:
        validator = self.body_validator
        if validator is None:
            return None  # bodies on operations that take none are ignored, like the real server
        body = decode_json(raw_body)
        if body is None and not self.body_required:
            body = {}  # JSON null where the body is optional is no body (the vendor CLI's plain approve)
        elif body == {} and self.body_required and not raw_body.strip() and validator.is_valid(body):
            # No body where one is required, and {} would pass: refused, as the platform does
            # (when {} fails, the message naming the missing field says more).
            raise ApiError(400, "request body is required")
        # The schema accepts both names (so messages name the field as sent); then the
        # handler gets the documented name.
        message = validator.first_error(body)
        if message:
            raise ApiError(400, message)
        if isinstance(body, dict) and self.body_aliases:
            for alias, canonical in self.body_aliases.items():
                if alias in body and canonical not in body:
                    body = {**body, canonical: body[alias]}
        return body


def _top_level_properties(schema: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key, []):
            if isinstance(sub, dict):
                found.update(_top_level_properties(sub))
    found.update(schema.get("properties", {}))
    return found


def decode_json(raw: bytes) -> Any:
    """A request body as JSON: {} when empty (the vendor CLI posts nothing where an empty object
    is meant); ApiError 400 saying what is wrong when it is not JSON or nests too deeply."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_constant=refuse_constant)
    except RecursionError:
        raise ApiError(400, "request body is nested too deeply") from None
    except ValueError:
        raise ApiError(400, "request body is not valid JSON") from None
    problem = nesting_problem(body, "request body") if may_nest_deeply(raw) else None
    if problem:
        raise ApiError(400, problem)
    return body


def refuse_constant(name: str) -> Any:
    """NaN and Infinity are not JSON, though Python's parser takes them."""
    raise ValueError(f"{name} is not JSON")


class Spec:
    """The loaded OpenAPI document and its operations."""

    def __init__(self, document: Mapping[str, Any]):
        self.document = document
        self.operations: dict[str, Operation] = {}
        self._component_validators: dict[str, RequestCheck] = {}
        for path, item in document.get("paths", {}).items():
            item = _deref(item, document)
            shared = item.get("parameters", [])
            extensions = {k: v for k, v in item.items() if k.startswith("x-")}
            for method in HTTP_METHODS:
                if method in item:
                    op = self._operation(path, method, item[method], shared, extensions)
                    self.operations[op.operation_id] = op

    @classmethod
    def load(cls, path: str | Path | None = None) -> Spec:
        """The spec at ``path`` (default: the packaged one), parsed once per process.

        A Spec is immutable once built, so apps built from the same file share one: creating
        an app per test stays cheap.
        """
        resolved = Path(path or default_spec_path()).resolve()
        return _load_cached(str(resolved), resolved.stat().st_mtime_ns)

    @staticmethod
    def _operation(
        path: str, method: str, raw: Mapping[str, Any], shared: list[Mapping[str, Any]], extensions: Mapping[str, Any]
    ) -> Operation:
        by_key = {(p["name"], p["in"]): p for p in shared}
        by_key.update({(p["name"], p["in"]): p for p in raw.get("parameters", [])})
        params = tuple(
            Parameter(
                name=p["name"],
                location=p["in"],
                required=bool(p.get("required")),
                validator=RequestCheck.compile(p.get("schema", {})),
                schema=p.get("schema", {}),
                alias_of=p.get("x-alias-of"),
                comma_separated=bool(p.get("x-comma-separated")),
            )
            for p in by_key.values()
            if p["in"] in ("path", "query", "header")
        )
        body = raw.get("requestBody")
        body_schema = body["content"].get("application/json", {}).get("schema", {}) if body else None
        responses = {
            str(status): {ctype: media.get("schema", {}) for ctype, media in resp.get("content", {}).items()}
            for status, resp in raw.get("responses", {}).items()
        }
        return Operation(
            operation_id=raw["operationId"],
            method=method.upper(),
            path=path,
            parameters=params,
            body_schema=body_schema,
            responses=responses,
            path_item_extensions=extensions,
            keyless=raw.get("security") == [],
            extensions={k: v for k, v in raw.items() if k.startswith("x-")},
            # Only for a JSON-only body: an operation taking other media types reads its body its own way.
            body_required=bool(body and body.get("required") and set(body["content"]) == _JSON_ONLY),
            body_media=frozenset(body["content"]) if body else frozenset(),
        )

    def component_validator(self, name: str) -> RequestCheck:
        """A compiled validator for ``components/schemas/<name>`` (compiled once); with the
        compiled fast path, as a state file of a million records is checked at every start."""
        if name not in self._component_validators:
            schema = _deref(self.document["components"]["schemas"][name], self.document)
            self._component_validators[name] = RequestCheck.compile(schema)
        return self._component_validators[name]

    @cached_property
    def paths(self) -> PathTable:
        """The document's path items, indexed for matching (``matching.py``; ``router.py`` puts
        the mounts in front)."""
        return PathTable(self.operations.values())

    def find(self, method: str, path: str) -> Operation | None:
        """The operation serving a path of this document (no mount), or None."""
        found: Operation | None = self.paths.lookup(method.upper(), path).operation
        return found

    def response_issues(self, op: Operation, status: int, content_type: str, body: bytes | None) -> list[ResponseIssue]:
        """Ways a response breaks the spec, each with its check and the JSON path it concerns.
        ``body`` None: the body is not at hand (too large to keep); status and type are checked."""
        documented = op.response_validators.get(str(status))
        if documented is None:
            return [ResponseIssue("status_code_conformance", status, "", f"status {status} is not documented")]
        ctype = (content_type or "").split(";")[0].strip()
        if not documented:
            return []
        if ctype not in documented:
            return [ResponseIssue("content_type_conformance", status, "", f"content type {ctype!r} is not documented")]
        if ctype != "application/json" or body is None:
            return []
        try:
            instance = json.loads(body)
        except (ValueError, RecursionError):
            return [ResponseIssue("content_type_conformance", status, "", "body is not JSON")]
        check = documented[ctype]
        if check.is_valid(instance):
            return []
        return [
            ResponseIssue(
                "response_schema_conformance", status, "/".join(map(str, e.absolute_path)) or "<root>", e.message
            )
            for e in check.validator.iter_errors(instance)
        ]

    def response_errors(self, op: Operation, status: int, content_type: str, body: bytes) -> list[str]:
        """Ways a response breaks the spec, one line each; empty when it conforms."""
        return [issue.describe(op.method, op.path) for issue in self.response_issues(op, status, content_type, body)]


@dataclass(frozen=True)
class ResponseIssue:
    """One way a response departs from the spec."""

    check: str  # status_code_conformance, content_type_conformance, response_schema_conformance, ...
    status: int
    where: str  # the JSON path in the body ("<root>" for the whole body); "" when not about the body
    message: str

    def describe(self, method: str, path: str) -> str:
        if self.check in ("status_code_conformance", "undocumented_path"):
            return f"{method} {path}: {self.message}"
        return f"{method} {path} {self.status}: " + (f"{self.where}: " if self.where else "") + self.message


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int) -> Spec:
    return Spec(_read_document(path, mtime_ns))


@lru_cache(maxsize=8)
def _read_document(path: str, mtime_ns: int) -> Mapping[str, Any]:
    """The parsed document. Parsing YAML was a fifth of a session's start-up, so the parsed form
    is kept in a cache keyed by the file's content (a changed document is parsed afresh)."""
    with open(path, "rb") as fh:
        raw = fh.read()
    cached = _parsed_cache_file(raw)
    try:
        document = marshal.loads(cached.read_bytes()) if cached else None
    except (OSError, ValueError, EOFError, TypeError):  # absent or unreadable: parse it
        document = None
    if isinstance(document, dict):
        return document
    import yaml  # only on a cache miss

    parsed: dict[str, Any] = yaml.load(raw.decode("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if cached:
        _store_parsed(cached, parsed)
    return parsed


def _parsed_cache_file(raw: bytes) -> Path | None:
    """Where the parsed form of a document with this content lives: the user's cache directory
    (``$XDG_CACHE_HOME`` or ``~/.cache``), one file per content hash, Python and marshal version."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):  # no usable home: no cache
        return None
    digest = hashlib.sha256(raw).hexdigest()[:32]
    version = f"py{sys.version_info[0]}{sys.version_info[1]}-m{marshal.version}"
    return Path(base, "runagents-mock", "parsed-openapi", f"{digest}-{version}.marshal")


def _store_parsed(target: Path, document: Any) -> None:
    """Best effort: a document marshal cannot hold, or a cache we cannot write, is parsed each time."""
    try:
        data = marshal.dumps(document)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}-{id(document)}.tmp")
        partial.write_bytes(data)
        os.replace(partial, target)  # readers see the whole file or none
    except (OSError, ValueError):
        pass


@dataclass(frozen=True)
class ServedDocument:
    """An OpenAPI document the mock serves and lists on ``/docs``.

    ``MockServer.documents`` is the one list of them: whatever adds a document to the mock
    (another API version, the mock's own surface) appends it there.
    """

    name: str  # a URL segment: /docs/openapi/<name>.json
    path: Path

    def document(self) -> Mapping[str, Any]:
        """The parsed document (parsed once per file version)."""
        resolved = self.path.resolve()
        return _read_document(str(resolved), resolved.stat().st_mtime_ns)

    @property
    def title(self) -> str:
        info = self.document().get("info", {})
        return f"{info.get('title', self.name)} {info.get('version', '')}".strip()
