"""The one request pipeline: every request the mock answers outside its web pages comes here.

A request is located once by the router (``spec/router.py``: document, operation, path
parameters, workspace), then passes the stages its operation was given at start-up, from its
document (``Plan``):

1. **guard**: auth from the document's security (``spec/security.py``): an API key for
   ``openapi.yaml``/``openapi-v1.yaml`` (the rate limit per key, or per agent for the runtime
   path's LLM calls; injected faults), the ``adminKey`` scheme for ``/_mock/``, nothing for the
   operations marked ``security: []`` of ``mock-openapi.yaml`` (the runtime path);
2. **parse and validate**: the body (``max_body_bytes``; a JSON body sent as a form type is a
   400), then ``Operation.parse`` and another release's fields refused; an operation marked
   ``x-mock-body: stream`` gets its body unread (``ApiRequest.stream``), one taking other
   media types than JSON reads its body itself (``ApiRequest.raw``);
3. **handle**: the handler registered under the operationId (the API's services, the control
   API in ``surface/control.py``, the runtime path in ``runtime/app.py``);
4. **encode**: JSON once per stored record (``RecordEncoder``), or a streamed answer (SSE, the
   state export) passed on as it is;
5. **check**: in strict mode, or for an observer such as the pytest plugin's checker, the answer
   against its operation in its document (a deviation is a loud 500 in strict mode);
6. **journal**: the raw request and the answer, for ``/_mock/journal`` (not the control API).

Any exception becomes the JSON ``500 internal error in runagents-mock`` on every surface. This
is plain WSGI around werkzeug's request object: Flask's per-request machinery cost as much as
the mock's own work (bench/README.md).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request, Response

from ..basics.errors import ApiError
from ..basics.jsonhttp import INTERNAL_ERROR, INTERNAL_ERROR_BODY, RecordEncoder, error_body
from ..runtime.app import RUNTIME_CALLER_KEY, RUNTIME_WORKSPACE_KEY, Forward, RuntimeHandler
from ..spec.conformance import operation_issues
from ..spec.document import Operation
from ..spec.releases import refuse_foreign
from ..spec.router import Route, Router, Surface
from ..spec.security import KeyRing, body_type_refusal, presented_key
from ..surface.control import STATE_IMPORT_LIMIT, ControlHandler
from ..surface.faults import FAULT_HEADER, Faults
from ..surface.journal import Journal
from ..surface.rate_limit import RateLimiter

log = logging.getLogger("runagents_mock")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Answer = tuple[int, bytes, list[tuple[str, str]], str]  # status, body, extra headers, content type
JSON = "application/json"
MOCK_SURFACE = "mock"  # mock-openapi.yaml: the control API and the runtime path

# An observer of every answer (the pytest plugin's checker): method, path, query, status,
# content type, body (None: streamed, not at hand), an injected fault, the answer's problems.
Observer = Callable[[str, str, str, int, str, "bytes | None", bool, list[str]], None]


class Workspaces(Protocol):
    def get(self, name: str) -> Any: ...
    def check_name(self, name: str) -> None: ...


@dataclass(frozen=True)
class Plan:
    """The stages of one operation, decided at start-up from its document."""

    op: Operation
    surface: Surface
    kind: str  # "api", "control" or "runtime": the handler's signature
    handler: Any
    guard: str  # "key" (the API's keys), "admin" (the control API), "none" (security: [] of mock-openapi.yaml)
    body: str  # "json" (parsed here), "raw" (the handler reads it), "stream" (unread), "none" (forwarded)
    limit: int | None  # the body's size limit
    journal: bool
    before_body: Any = None  # the API handler's look-up of what the path names, before the body
    foreign: Mapping[tuple[str, str], str] | None = None  # another release's inputs (releases.py)
    plan_use: str | None = None  # x-plan-use: what the workspace's billing plan may block
    blocked_message: str = ""


class Pipeline:
    """WSGI app answering every operation of every served document (see the module's doc)."""

    def __init__(
        self,
        router: Router,
        plans: Mapping[int, Plan],
        *,
        keys: KeyRing,
        workspaces: Workspaces,
        rate_limiter: RateLimiter,
        faults: Faults,
        journal: Journal,
        encoder: RecordEncoder,
        strict: bool,
        admin_enabled: bool,
        max_body_bytes: int,
    ):
        self.router = router
        self.plans = plans  # id(Operation) -> Plan
        self.keys = keys
        self.workspaces = workspaces
        self.rate_limiter = rate_limiter
        self.faults = faults
        self.journal = journal
        self.encoder = encoder
        self.strict = strict
        self.admin_enabled = admin_enabled
        self.max_body_bytes = max_body_bytes
        self.observers: list[Observer] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.isascii():  # WSGI carries the path's bytes as latin-1; routes are text (as werkzeug's)
            path = path.encode("latin-1").decode("utf-8", "replace")
        route = self.router.route(environ["REQUEST_METHOD"], path)
        plan = self.plans.get(id(route.operation)) if route.operation is not None else None
        request = Request(environ)
        request.max_content_length = self.max_body_bytes
        ctype = JSON
        try:
            answer = self._guard(request, route, plan) or self._handle(request, route, plan)
            if isinstance(answer, Forward):  # answered as another path (the LLM gateway)
                return self(answer.environ, start_response)
            if isinstance(answer, Response):  # streamed (SSE, the state export): passed on as it is
                return self._streamed(request, route, plan, answer, start_response)
            status, data, headers, ctype = answer
        except ApiError as exc:
            status, data, headers, ctype = exc.status, error_body(exc.message), list(exc.headers.items()), JSON
        except HTTPException as exc:
            status, data, headers = http_error_answer(request, exc)
            ctype = JSON
        except Exception as exc:  # a bug in the mock, not the client's fault: log it, answer JSON
            log.error("internal error on %s %s: %s", request.method, request.path, type(exc).__name__, exc_info=exc)
            status, data, headers, ctype = 500, error_body(INTERNAL_ERROR), [], JSON
        self._finish(request, route, plan, status, data)
        if (self.strict or self.observers) and data != INTERNAL_ERROR_BODY:
            status, data, headers, ctype = self._checked(request, route, plan, status, data, headers, ctype)
        start_response(
            f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN')}",
            [("Content-Type", ctype), ("Content-Length", str(len(data))), *headers],
        )
        return [] if request.method == "HEAD" else [data]

    # --- 1. guard -------------------------------------------------------------------------

    def _guard(self, request: Request, route: Route, plan: Plan | None) -> Answer | None:
        """Auth, rate limit and injected faults, before anything is read: an unknown path of the
        API needs a key too, one of the control API the admin key."""
        guard = plan.guard if plan is not None else self._miss_guard(route)
        if guard == "none":
            return None
        if guard == "admin":
            refusal = self.keys.control_refusal(
                request.environ, plan.op.operation_id if plan else "", route.params.get("workspace")
            )
            return (401, error_body(refusal), [], JSON) if refusal else None
        caller = request.environ.get(RUNTIME_CALLER_KEY)
        if caller is not None:  # handed over by the runtime path: no key, metered as the agent
            return self._limit_and_faults(request, _AGENT_BUCKET + caller)
        keys = self.keys
        key, problem = presented_key(request.environ, route.surface.key_header)
        if (problem or not keys.is_valid(key)) and route.keyless:
            key = ""  # an operation marked `security: []` (the agent runtime's calls): no key, no rate limit
        elif problem:
            return 401, error_body(problem), [], JSON
        elif not keys.is_valid(key):
            return 401, error_body(keys.refused_key_message(key)), [], JSON
        bound = keys.workspace_of(key) if key else None
        if bound is not None and bound != route.workspace:
            message = f'API key is bound to workspace "{bound}"; it is not valid for workspace "{route.workspace}"'
            return 401, error_body(message), [], JSON
        self.workspaces.check_name(route.workspace)
        return self._limit_and_faults(request, key)

    def _miss_guard(self, route: Route) -> str:
        """The guard of a path no served operation answers: its document's."""
        if route.surface.name != MOCK_SURFACE:
            return "key"
        return "none" if route.keyless or not self.admin_enabled else "admin"

    def _limit_and_faults(self, request: Request, bucket: str) -> Answer | None:
        """The rate limit of ``bucket`` (a key, or an agent; none when empty), then injected faults."""
        wait = self.rate_limiter.check(bucket) if bucket else None
        if wait is not None:
            return 429, error_body("rate limit exceeded"), [("Retry-After", str(wait))], JSON
        fault = self.faults.match(request.method, request.path)
        if fault:
            if fault["latency_ms"]:
                # The request is handled at once and answered late. A server that can wait
                # without blocking (rsgi_bridge) is told how long; otherwise _finish sleeps.
                request.environ[DELAY_KEY if DELAY_KEY in request.environ else _SLEEP_KEY] = fault["latency_ms"] / 1000
            if fault["status"]:
                # Marked, so spec checkers can tell an injected error from a real deviation.
                return fault["status"], error_body(fault["error"]), [(FAULT_HEADER, str(fault["id"]))], JSON
        return None

    # --- 2.-4. parse, handle, encode ------------------------------------------------------

    def _handle(self, request: Request, route: Route, plan: Plan | None) -> Answer | Response | Forward:
        if plan is None:
            return self._unrouted(request, route)
        params = route.params
        if plan.kind == "runtime":
            if plan.body == "none":  # forwarded: the operation it goes to reads the body
                reply = plan.handler(route, request, b"")
            else:
                raw = self._read(request, plan)
                reply = plan.handler(route, request, raw)
            if isinstance(reply, Forward):
                return reply
            status, data, ctype = reply
            return status, data, [], ctype
        if plan.before_body is not None:  # what the path names is looked up before the body is parsed
            plan.before_body(self.workspaces.get(route.workspace), params)
        if plan.body == "stream":
            stream = self._stream(request, plan)
            api_request = plan.op.parse(params, request.args, request.headers, None)
            api_request.stream = stream
        else:
            raw = self._read(request, plan)
            args = request.args if request.environ.get("QUERY_STRING") else _NO_ARGS
            api_request = plan.op.parse(params, args, request.headers, raw if plan.body == "json" else b"")
            if plan.body == "raw":
                api_request.raw = raw
            request.environ[_API_REQUEST_KEY] = api_request
            if plan.foreign:  # another release's field or parameter: refused, not ignored
                refuse_foreign(plan.foreign, args, api_request.body)
        if plan.kind == "control":
            control_reply = plan.handler(api_request, request)
            if isinstance(control_reply, Response):
                return control_reply
            status, payload = control_reply
            return status, json.dumps(payload, separators=(",", ":")).encode(), [], JSON
        platform = self.workspaces.get(route.workspace)
        if plan.plan_use:
            blocked = platform.billing.blocking_status(plan.plan_use)
            if blocked:  # the workspace's billing plan stops deploys (readonly) or execution too
                raise ApiError(402, plan.blocked_message.format(plan_status=blocked))
        reply = plan.handler(platform, api_request)
        if isinstance(reply, Response):
            return reply
        status, payload, *extra = reply
        return status, self.encoder.encode(payload), list(extra[0].items()) if extra else [], JSON

    def _read(self, request: Request, plan: Plan) -> bytes:
        """The body, within the operation's limit, and not a JSON body sent as a form type."""
        request.max_content_length = plan.limit
        raw = request.environ[_RAW_BODY_KEY] = request_body(request)
        refused = body_type_refusal(
            request.environ.get("CONTENT_TYPE"), raw, plan.surface.spec.document, plan.op.path, plan.op.method
        )
        if refused:
            raise ApiError(400, refused)
        return raw

    def _stream(self, request: Request, plan: Plan) -> Any:
        """The unread body of an ``x-mock-body: stream`` operation, within its own limit
        (``STATE_IMPORT_LIMIT``), its Content-Type checked as any body's."""
        environ = request.environ
        length = environ.get("CONTENT_LENGTH", "")
        has_body = "HTTP_TRANSFER_ENCODING" in environ or (length.isdigit() and int(length) > 0)
        refused = body_type_refusal(
            environ.get("CONTENT_TYPE"),
            b"(streamed)" if has_body else b"",
            plan.surface.spec.document,
            plan.op.path,
            plan.op.method,
        )
        if refused:
            raise ApiError(400, refused)
        environ[_RAW_BODY_KEY] = b""  # read by the handler, not kept
        request.max_content_length = plan.limit
        return request.stream  # werkzeug's: bounded by Content-Length, a 413 past the limit

    def _unrouted(self, request: Request, route: Route) -> Answer:
        """No served operation: 405 with the path item's methods, a malformed path's error, or 404."""
        if route.surface.name == MOCK_SURFACE and not route.keyless and not self.admin_enabled:
            raise NotFound()  # the control API is off (--no-admin): none of its paths exists
        if route.allowed and route.operation is None:
            raise MethodNotAllowed(valid_methods=list(route.allowed))
        if route.malformed is not None:
            raise ApiError(*route.malformed)
        raise NotFound()

    def _streamed(
        self,
        request: Request,
        route: Route,
        plan: Plan | None,
        response: Response,
        start_response: Callable[..., Any],
    ) -> Iterable[bytes]:
        status = response.status_code
        self._finish(request, route, plan, status, b"")
        if self.strict or self.observers:  # its status and content type are checked, the body stays streamed
            problems = self._problems(request, route, plan, status, response.content_type or "", None, False)
            if problems and self.strict:
                data = self._broken(route, problems)
                start_response(
                    "500 INTERNAL SERVER ERROR", [("Content-Type", JSON), ("Content-Length", str(len(data)))]
                )
                return [data]
        return response(request.environ, start_response)

    # --- 5. check, 6. journal -------------------------------------------------------------

    def _finish(self, request: Request, route: Route, plan: Plan | None, status: int, data: bytes) -> None:
        """Sleep out an injected delay if the server cannot wait for us; keep the journal."""
        environ = request.environ
        if _SLEEP_KEY in environ:
            time.sleep(environ[_SLEEP_KEY])
        if self.journal.entries.maxlen and (plan.journal if plan is not None else self._journals_miss(route)):
            # The body as sent (bytes, parsed only when the journal is read): never the parsed
            # form of a refused body, which can be many times its size.
            raw = environ[_RAW_BODY_KEY] if _RAW_BODY_KEY in environ else _unread_body(request)
            parsed = environ.get(_API_REQUEST_KEY)
            if parsed is not None and parsed.body == {} and not raw.strip():
                raw = b"{}"  # no body where the operation reads one as {}: journaled as read
            workspace = environ.get(RUNTIME_WORKSPACE_KEY, route.workspace)
            self.journal.record(request, raw, status, workspace, response=data)

    @staticmethod
    def _journals_miss(route: Route) -> bool:
        return route.surface.name != MOCK_SURFACE or route.keyless  # not the control API's

    def _checked(
        self,
        request: Request,
        route: Route,
        plan: Plan | None,
        status: int,
        data: bytes,
        headers: list[tuple[str, str]],
        ctype: str,
    ) -> Answer:
        """Strict mode: an answer that breaks its document becomes a loud 500."""
        fault = any(name == FAULT_HEADER for name, _ in headers)
        problems = self._problems(request, route, plan, status, ctype, data, fault)
        if not problems or not self.strict:
            return status, data, headers, ctype
        return 500, self._broken(route, problems), [], JSON

    def _problems(
        self,
        request: Request,
        route: Route,
        plan: Plan | None,
        status: int,
        ctype: str,
        data: bytes | None,
        fault: bool,
    ) -> list[str]:
        method, path = request.method, request.path
        op = plan.op if plan is not None else None
        problems = [
            issue.describe(method, route.path)
            for issue in operation_issues(route.spec, op, path, status, ctype, data, fault)
        ]
        for observe in self.observers:
            observe(method, path, request.environ.get("QUERY_STRING", ""), status, ctype, data, fault, problems)
        return problems

    @staticmethod
    def _broken(route: Route, problems: list[str]) -> bytes:
        document = route.surface.document
        log.error("response breaks %s: %s", document, "; ".join(problems))
        return error_body(f"runagents-mock broke {document}: " + "; ".join(problems))


# Per-request notes kept in the WSGI environ.
_API_REQUEST_KEY = "runagents_mock.api_request"  # the parsed request, once it parsed
_RAW_BODY_KEY = "runagents_mock.raw_body"  # the body as read, before it is parsed
_SLEEP_KEY = "runagents_mock.sleep"
# Set by a server that can wait without blocking (rsgi_bridge.py): an injected delay is put here.
DELAY_KEY = "runagents_mock.answer_delay"
_NO_ARGS: dict[str, str] = {}  # parsing an empty query string still costs a few µs
_AGENT_BUCKET = "\x00agent "  # rate-limit buckets of runtime callers; no header value starts so


def build_plans(
    surfaces: Iterable[Surface],
    api_handlers: Mapping[str, Any],
    control_handlers: Mapping[str, ControlHandler],
    runtime_handlers: Mapping[str, RuntimeHandler],
    forwarding: frozenset[str],
    foreign: Mapping[tuple[str, str], Mapping[tuple[str, str], str]],
    max_body_bytes: int,
) -> dict[int, Plan]:
    """The stages of every operation of every document, keyed by the Operation's id (the
    router answers the Operation itself). Every operation has a handler and every handler an
    operation; the control API's are left out when it is off (``--no-admin``)."""
    plans: dict[int, Plan] = {}
    mock_ops: set[str] = set()
    for surface in surfaces:
        document = surface.spec.document
        for op in surface.spec.operations.values():
            body_kind = _body_kind(op)
            if surface.name != MOCK_SURFACE:
                handler = api_handlers[op.operation_id]
                use = op.extensions.get("x-plan-use")
                plan = Plan(
                    op,
                    surface,
                    "api",
                    handler,
                    "key",
                    body_kind,
                    max_body_bytes,
                    journal=True,
                    before_body=getattr(handler, "before_body", None),
                    foreign=foreign.get((surface.name, op.operation_id)) or None,
                    plan_use=use,
                    blocked_message=document["x-error-messages"][f"plan-blocks-{use}"] if use else "",
                )
            elif op.keyless:
                mock_ops.add(op.operation_id)
                forwards = op.operation_id in forwarding
                plan = Plan(
                    op,
                    surface,
                    "runtime",
                    runtime_handlers[op.operation_id],
                    "none",
                    "none" if forwards else "raw",
                    max_body_bytes,
                    journal=not forwards,  # the operation it goes to journals it
                )
            else:
                mock_ops.add(op.operation_id)
                if op.operation_id not in control_handlers and control_handlers:
                    raise RuntimeError(f"mock-openapi.yaml's {op.operation_id} has no control handler")
                if not control_handlers:  # the control API is off
                    continue
                plan = Plan(
                    op,
                    surface,
                    "control",
                    control_handlers[op.operation_id],
                    "admin",
                    body_kind,
                    STATE_IMPORT_LIMIT if body_kind == "stream" else max_body_bytes,
                    journal=False,
                )
            plans[id(op)] = plan
    extra = sorted((set(control_handlers) | set(runtime_handlers)) - mock_ops)
    if extra:
        raise RuntimeError(f"handlers without an operation in mock-openapi.yaml: {extra}")
    return plans


def _body_kind(op: Operation) -> str:
    if op.extensions.get("x-mock-body") == "stream":
        return "stream"
    if op.body_schema is not None and not op.body_json_only:
        return "raw"  # other media types (YAML seeds): the handler reads its body itself
    return "json"


def request_body(request: Request) -> bytes:
    """The request body. A body of known length is read straight from the server's stream:
    werkzeug's get_data() costs ~15 µs a call, a sixth of a request. Others (chunked bodies on
    servers that do not de-chunk them) go through get_data(), which applies the same limit."""
    environ = request.environ
    length = environ.get("CONTENT_LENGTH", "")
    chunked = "HTTP_TRANSFER_ENCODING" in environ
    if not chunked and length.isdigit():
        if request.max_content_length is not None and int(length) > request.max_content_length:
            raise RequestEntityTooLarge()
        data: bytes = environ["wsgi.input"].read(int(length))
        return data
    return request.get_data() if chunked else b""


def _unread_body(request: Request) -> bytes:
    """The body of a request refused before it was read; nothing when it is too large."""
    try:
        return request_body(request)
    except HTTPException:
        return b""


def http_error_answer(request: Request, exc: HTTPException) -> tuple[int, bytes, list[tuple[str, str]]]:
    """Routing and body-size errors in the one error shape."""
    headers: list[tuple[str, str]] = []
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        headers.append(("Allow", ", ".join(sorted(set(exc.valid_methods) - {"HEAD", "OPTIONS"}))))
        message = f"method {request.method} is not allowed on {request.path}"
    elif isinstance(exc, NotFound):
        message = f"no such endpoint: {request.method} {request.path}"
    elif isinstance(exc, RequestEntityTooLarge):
        message = f"request body is larger than {request.max_content_length} bytes"
    else:
        message = (exc.description or exc.name).rstrip(".")
    return exc.code or 500, error_body(message), headers
