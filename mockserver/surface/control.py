"""What the mock adds around the API: the request journal, fault rules and the rate limiter
(``dispatch.py`` applies them to each request), and the ``/_mock/`` control API that tests use
to reset, seed, inspect and move time."""

from __future__ import annotations

import collections
import fnmatch
import itertools
import math
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from flask import Flask, Response, request
from werkzeug.datastructures import EnvironHeaders, MultiDict
from werkzeug.wrappers import Request

from ..basics.errors import ApiError
from ..basics.jsonhttp import INTERNAL_ERROR_BODY, error_response, json_or_none, json_response
from ..basics.nesting import may_nest_deeply, nesting_problem
from ..basics.redact import redact_body, redact_headers, redact_query
from ..services.runtime.models import agent_env as runtime_env
from ..spec.conformance import response_problems
from ..spec.document import ApiRequest, Operation, Spec, mock_spec_path
from ..spec.paths import runtime_prefix
from ..spec.security import body_type_refusal
from .seed import parse_seed_text

if TYPE_CHECKING:
    from ..basics.clock import Clock
    from ..services.platform import Platform
    from ..web.app import MockServer

MOCK_PREFIX = "/_mock/"
STATE_PATH = "/_mock/state"
# A state import (PUT /_mock/state) is not held to max_body_bytes: an export of any size the
# mock can hold loads back.
STATE_IMPORT_LIMIT = 1 << 40
_HEADER_PREFIXES = ("HTTP_", "CONTENT_")
FAULT_HEADER = "X-Mock-Fault"


class Journal:
    """The last ``size`` requests, oldest first; each body kept up to ``body_bytes`` bytes.

    Entries are stored raw and parsed and redacted when read, so recording costs the hot path
    almost nothing; what leaves the mock (``list()``) never carries a secret. A larger body is
    kept as a note of its size only, so the journal holds at most ``size * body_bytes`` of bodies.
    """

    def __init__(self, size: int, body_bytes: int = 64 * 1024):
        self.entries: collections.deque[tuple] = collections.deque(maxlen=max(size, 0))
        self.body_bytes = body_bytes
        self._seq = itertools.count(1)

    def record(self, req: Request, raw_body: bytes, status: int, workspace: str = "default") -> None:
        """Keep the query string, the header entries of the environ and the body as they are:
        they are only parsed if the journal is read."""
        headers = {k: v for k, v in req.environ.items() if k.startswith(_HEADER_PREFIXES)}
        if len(raw_body) > self.body_bytes:
            raw_body = _OverCap(len(raw_body))
        self.entries.append(
            (
                next(self._seq),
                req.method,
                req.path,
                req.environ.get("QUERY_STRING", ""),
                headers,
                raw_body,
                status,
                workspace,
            )
        )

    def list(self, workspace: str | None = None) -> list[dict[str, Any]]:
        """Every entry, or only those of one workspace (the February surface is "default")."""
        return [
            {
                "seq": seq,
                "method": method,
                "path": path,
                "query": redact_query(MultiDict(parse_qsl(query, keep_blank_values=True)).to_dict(flat=True)),
                "headers": redact_headers(dict(EnvironHeaders(headers).items())),
                "body": self._body(raw),
                "status": status,
                "workspace": ws,
            }
            for seq, method, path, query, headers, raw, status, ws in list(self.entries)
            if workspace is None or ws == workspace
        ]

    def _body(self, raw: bytes | _OverCap) -> Any:
        if isinstance(raw, _OverCap):
            return f"<{raw.size} bytes: over the journal's {self.body_bytes}-byte cap, not kept>"
        body = json_or_none(raw)
        if may_nest_deeply(raw) and nesting_problem(body):
            return "<nested too deeply to show>"
        return redact_body(body)

    def clear(self, workspace: str | None = None) -> None:
        """Forget every entry, or only one workspace's."""
        if workspace is None:
            self.entries.clear()
            return
        kept = [entry for entry in list(self.entries) if entry[-1] != workspace]
        self.entries.clear()
        self.entries.extend(kept)


class _OverCap:
    """A journal body too large to keep: only its size."""

    __slots__ = ("size",)

    def __init__(self, size: int):
        self.size = size


class Faults:
    """Rules that delay requests, or answer them with an error, matched by method and path glob."""

    def __init__(self) -> None:
        self.rules: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # Every request is matched against every rule: the table stays small.
    MAX_RULES = 256

    def add(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        rule = _validated_fault(spec)
        with self._lock:
            if len(self.rules) >= self.MAX_RULES:
                raise ApiError(409, f"limit of {self.MAX_RULES} fault rules reached; DELETE /_mock/faults first")
            rule["id"] = next(self._ids)
            self.rules.append(rule)
        return dict(rule)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def match(self, method: str, path: str) -> dict[str, Any] | None:
        """The first live rule for this request, counted as used."""
        if not self.rules:
            return None
        with self._lock:
            for rule in self.rules:
                if rule["method"] not in ("*", method) or not fnmatch.fnmatchcase(path, rule["path"]):
                    continue
                if rule["times"] is not None:
                    if rule["times"] <= 0:
                        continue
                    rule["times"] -= 1
                rule["hits"] += 1
                return dict(rule)
        return None


def _validated_fault(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A rule from a request (HTTP, or the pytest plugin's ``faults.add``), checked against
    ``FaultRequest`` in mock-openapi.yaml."""
    message = Spec.load(mock_spec_path()).component_validator("FaultRequest").first_error(spec)
    if message:
        raise ApiError(400, message)
    return {
        "method": str(spec.get("method", "*")).upper(),
        "path": spec.get("path", "*"),
        "status": spec.get("status"),
        "latency_ms": spec.get("latency_ms", 0),
        "error": str(spec.get("error", "injected fault")),
        "times": spec.get("times"),
        "hits": 0,
    }


class RateLimiter:
    """At most ``per_minute`` requests per API key in any 60 s of the mock's clock.

    The table is bounded: at ``MAX_KEYS`` keys, keys with no hit in the last minute are
    dropped, and if none can be, further new keys share one bucket. So a client that sends a
    new key with every request (possible when any key is accepted) neither grows memory nor
    escapes the limit for long.
    """

    MAX_KEYS = 10_000
    _SHARED = "\x00other keys"

    def __init__(self, per_minute: int | None, clock: Clock):
        self.per_minute = per_minute
        self.clock = clock
        self._hits: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> int | None:
        """None when allowed; otherwise the seconds to wait."""
        if not self.per_minute:
            return None
        now = self.clock.now()
        with self._lock:
            if key not in self._hits and len(self._hits) >= self.MAX_KEYS:
                self._hits = {k: h for k, h in self._hits.items() if h and h[-1] > now - 60}
                if len(self._hits) >= self.MAX_KEYS:
                    key = self._SHARED
            hits = self._hits.setdefault(key, collections.deque())
            while hits and hits[0] <= now - 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(1, math.ceil(hits[0] + 60 - now))
            hits.append(now)
            return None

    def set_limit(self, per_minute: int | None) -> None:
        with self._lock:
            self.per_minute = per_minute
            self._hits.clear()


def register_control_api(app: Flask, server: MockServer) -> None:
    """Route every ``/_mock/`` operation of ``mock-openapi.yaml`` to its handler below; requests
    are parsed and validated from that document, as the API's are from ``openapi.yaml``.

    The state-holding calls (reset, state, seed, journal, clock, replies) act on the default
    workspace, or on one workspace of ``/api/v1`` under ``/_mock/workspaces/{workspace}/``
    (the same handlers, operations of their own in the document)."""
    spec = Spec.load(mock_spec_path())

    @app.before_request
    def admin_only() -> Response | None:
        # Who opens which control call: spec/security.py (KeyRing.control_refusal).
        rule = request.url_rule
        operation_id = rule.endpoint.removeprefix("mock:") if rule is not None else ""
        refusal = server.keys.control_refusal(request.environ, operation_id, (request.view_args or {}).get("workspace"))
        return error_response(401, refusal) if refusal else None

    if server.config.strict_responses:

        @app.after_request
        def checked(response: Response) -> Response:
            # Strict mode, as for the API: an answer that breaks mock-openapi.yaml is a loud 500.
            # A streamed answer (a state export) stays streamed: its status and type are checked.
            body = None if response.is_streamed else response.get_data()
            if body == INTERNAL_ERROR_BODY:
                return response
            problems = response_problems(
                server.spec, request.method, request.path, response.status_code, response.content_type, body
            )
            return (
                error_response(500, "runagents-mock broke mock-openapi.yaml: " + "; ".join(problems))
                if problems
                else response
            )

    handlers: dict[str, Callable[[ApiRequest], Response]] = {}

    def operation(*operation_ids: str):
        def register(fn: Callable[[ApiRequest], Response]) -> Callable[[ApiRequest], Response]:
            for operation_id in operation_ids:
                handlers[operation_id] = fn
            return fn

        return register

    def workspace_of(req: ApiRequest) -> str | None:
        return req.path.get("workspace")

    def platform_of(req: ApiRequest) -> Platform:
        return control.platform(workspace_of(req))

    control = server.control

    @operation("resetMock", "resetWorkspace")
    def reset(req: ApiRequest) -> Response:
        control.reset(workspace_of(req))
        return json_response(200, {"status": "reset"})

    @operation("createWorkspaceKey")
    def create_key(req: ApiRequest) -> Response:
        return json_response(201, control.mint_key(req.path["workspace"]))

    @operation("listWorkspaceKeys")
    def list_keys(req: ApiRequest) -> Response:
        return json_response(200, {"keys": control.keys(req.path["workspace"])})

    @operation("revokeWorkspaceKey")
    def revoke_key(req: ApiRequest) -> Response:
        control.revoke_key(req.path["workspace"], req.path["key_id"])
        return json_response(200, {"status": "revoked"})

    @operation("rotateWorkspaceKey")
    def rotate_key(req: ApiRequest) -> Response:
        return json_response(201, control.rotate_key(req.path["workspace"], req.path["key_id"]))

    @operation("listWorkspaces")
    def list_workspaces(req: ApiRequest) -> Response:
        return json_response(200, {"workspaces": server.workspaces.names()})

    @operation("exportState", "exportWorkspaceState")
    def get_state(req: ApiRequest) -> Response:
        # Streamed: encoded chunk by chunk from a snapshot, whatever the size of the state.
        return Response(control.export_chunks(workspace_of(req)), status=200, mimetype="application/json")

    @operation("loadState", "loadWorkspaceState")
    def put_state(req: ApiRequest) -> Response:
        control.load_state(req.body, workspace_of(req))
        saved = server.state_saver.save_import() if server.state_saver else {}  # durable before the answer
        return json_response(200, {"status": "loaded", **saved})

    @operation("getHealth")
    def get_health(req: ApiRequest) -> Response:
        saver = server.state_saver
        if saver is None:
            return json_response(200, {"status": "ok", "state_file": None})
        status = saver.status()
        return json_response(200, {"status": "degraded" if status["error"] else "ok", "state_file": status})

    @operation("seedMock", "seedWorkspace")
    def post_seed(req: ApiRequest) -> Response:
        try:  # YAML or JSON text: the one body the document cannot parse for us
            data = parse_seed_text(request.get_data(as_text=True))
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        return json_response(200, control.seed(data, workspace_of(req)))

    @operation("readJournal", "readWorkspaceJournal")
    def get_journal(req: ApiRequest) -> Response:
        return json_response(200, control.journal(workspace_of(req)))

    @operation("clearJournal", "clearWorkspaceJournal")
    def clear_journal(req: ApiRequest) -> Response:
        control.clear_journal(workspace_of(req))
        return json_response(200, {"status": "cleared"})

    @operation("readClock", "readWorkspaceClock")
    def get_clock(req: ApiRequest) -> Response:
        return json_response(200, control.clock(workspace_of(req)))

    @operation("advanceClock", "advanceWorkspaceClock")
    def advance_clock(req: ApiRequest) -> Response:
        return json_response(200, control.advance(req.body["seconds"], workspace_of(req)))

    @operation("listFaults")
    def list_faults(req: ApiRequest) -> Response:
        return json_response(200, control.faults())

    @operation("addFault")
    def add_fault(req: ApiRequest) -> Response:
        return json_response(201, control.add_fault(req.body))

    @operation("clearFaults")
    def clear_faults(req: ApiRequest) -> Response:
        control.clear_faults()
        return json_response(200, {"status": "cleared"})

    @operation("setRateLimit")
    def set_rate_limit(req: ApiRequest) -> Response:
        return json_response(200, control.set_rate_limit(req.body.get("per_minute")))

    @operation("setReplies", "setWorkspaceReplies")
    def set_replies(req: ApiRequest) -> Response:
        return json_response(200, control.set_replies(req.body, workspace_of(req)))

    @operation("mintJwt", "mintWorkspaceJwt")
    def mint_jwt(req: ApiRequest) -> Response:
        from ..runtime.jwt_keys import DEFAULT_ISSUER  # PyJWT loads on first use

        now = int(platform_of(req).clock.now())  # the workspace's clock, which its ingress checks
        claims = {
            "iss": DEFAULT_ISSUER,
            "iat": now,
            "exp": now + req.body.get("expires_in", 3600),
            **req.body.get("claims", {}),
        }
        return json_response(200, {"token": server.tokens.mint(claims), "kid": server.tokens.kid, "claims": claims})

    @operation("getAgentEnv", "getWorkspaceAgentEnv")
    def agent_env(req: ApiRequest) -> Response:
        platform = platform_of(req)
        agent = platform.agents.get(req.path["namespace"], req.path["name"])
        return json_response(
            200,
            runtime_env(
                agent,
                request.host_url.rstrip("/") + runtime_prefix(workspace_of(req)),
                tools=platform.tools.items,
                source=platform.agents.source_of(agent["namespace"], agent["name"]),
            ),
        )

    @operation("listAgentProcesses")
    def list_agent_processes(req: ApiRequest) -> Response:
        runner = server.agent_runner
        return json_response(200, {"enabled": runner is not None, "agents": runner.list() if runner else []})

    @operation("getAgentProcessLog")
    def agent_process_log(req: ApiRequest) -> Response:
        server.workspaces.check_name(req.path["workspace"])
        runner = server.agent_runner
        found = runner.output(req.path["workspace"], req.path["namespace"], req.path["name"]) if runner else None
        if found is None:
            raise ApiError(
                404,
                f"no agent process for {req.path['namespace']}/{req.path['name']} in workspace "
                f"{req.path['workspace']}" + ("" if runner else " (the mock runs agents only with --run-agents)"),
            )
        return json_response(200, found)

    @operation("setAgentEndpoint", "setWorkspaceAgentEndpoint")
    def set_agent_endpoint(req: ApiRequest) -> Response:
        namespace, name, platform = req.path["namespace"], req.path["name"], platform_of(req)
        platform.agents.get(namespace, name)
        platform.runtime.set_endpoint(namespace, name, req.body["url"])
        return json_response(200, {"agent": f"{namespace}/{name}", "url": platform.runtime.endpoint(namespace, name)})

    operations = {op_id: op for op_id, op in spec.operations.items() if op.path.startswith(MOCK_PREFIX)}
    if set(operations) != set(handlers):
        raise RuntimeError(f"mock-openapi.yaml and the control API disagree: {sorted(set(operations) ^ set(handlers))}")
    for op_id, op in operations.items():
        app.add_url_rule(
            op.url_rule,
            endpoint="mock:" + op_id,
            view_func=_view(op, handlers[op_id], spec.document),
            methods=[op.method],
        )


def _view(
    op: Operation, handler: Callable[[ApiRequest], Response], document: Mapping[str, Any]
) -> Callable[..., Response]:
    def view(**path: str) -> Response:
        if op.method == "PUT" and op.path.endswith("/state"):  # an import of any size
            request.max_content_length = STATE_IMPORT_LIMIT
        raw = request.get_data()
        refused = body_type_refusal(request.content_type, raw, document, op.path, op.method)
        if refused:
            raise ApiError(400, refused)
        if op.operation_id in ("seedMock", "seedWorkspace"):
            raw = b""  # YAML or JSON text, parsed by the handler
        return handler(op.parse(path, request.args, request.headers, raw))

    return view
