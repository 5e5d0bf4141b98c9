"""The API's request path: every request outside ``/_mock/`` is answered here.

Routing comes from the specs: every served OpenAPI document (``surfaces.py``: ``openapi.yaml``
at the root, ``openapi-v1.yaml`` under ``/api/v1`` and ``/api/v1/workspaces/{ws}``) adds one rule
per operation and mount (``operationId`` -> handler, run on the workspace's platform); then
auth (per surface), rate limit and injected faults, request parsing and validation
(``spec.py``), refusing another release's fields (``spec/releases.py``), the handler, the JSON
answer, the journal, and in strict mode a check of the answer against the document of its
surface. This is plain WSGI around werkzeug's router and request object: Flask's per-request
machinery (contexts, hooks, response objects) cost as much as the mock's own work
(bench/README.md), so the Flask app only serves the control API under ``/_mock/``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..basics.errors import ApiError
from ..basics.jsonhttp import INTERNAL_ERROR, INTERNAL_ERROR_BODY, error_body
from ..runtime.app import RUNTIME_CALLER_KEY, RuntimeApp
from ..spec.conformance import response_problems
from ..spec.paths import RUNTIME_PREFIXES
from ..spec.releases import refuse_foreign
from ..spec.security import body_type_refusal, presented_key
from ..spec.surfaces import WORKSPACE_PARAM, Located
from ..surface.control import MOCK_PREFIX
from ..surface.faults import FAULT_HEADER

if TYPE_CHECKING:
    from .app import MockServer

log = logging.getLogger("runagents_mock")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Answer = tuple[int, bytes, list[tuple[str, str]]]  # status, JSON body, extra headers


@dataclass(frozen=True)
class _Route:
    """A URL rule's endpoint: an operation of one surface, or a malformed path under a prefix."""

    surface: str
    operation_id: str = ""
    malformed: str = ""  # the 400 message, for a malformed path


class ApiDispatcher:
    """WSGI middleware: answers the API, hands ``/_mock/`` to ``control_app`` (the Flask app)."""

    def __init__(self, server: MockServer, control_app: WSGIApp):
        self.server = server
        self.control_app = control_app
        self.url_map = _url_map(server)
        self.runtime_app = RuntimeApp(server, self)  # the platform's runtime path (docs/runtime.md)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(MOCK_PREFIX):
            return self.control_app(environ, start_response)
        if environ.get("PATH_INFO", "").startswith(RUNTIME_PREFIXES):
            return self.runtime_app(environ, start_response)
        request = Request(environ)
        request.max_content_length = self.server.config.max_body_bytes
        located = environ[_LOCATED_KEY] = self.server.surfaces.locate(request.path)
        try:
            answer = self._guard(request, located) or self._handle(request, located)
            if isinstance(answer, Response):  # streamed (SSE): passed on as it is
                self._finish(request, answer.status_code)
                return answer(environ, start_response)
            status, data, headers = answer
        except ApiError as exc:
            status, data, headers = exc.status, error_body(exc.message), list(exc.headers.items())
        except HTTPException as exc:
            status, data, headers = http_error_answer(request, exc)
        except Exception as exc:  # a bug in the mock, not the client's fault: log it, answer JSON
            log.error("internal error on %s %s: %s", request.method, request.path, type(exc).__name__, exc_info=exc)
            status, data, headers = 500, error_body(INTERNAL_ERROR), []
        self._finish(request, status, data)
        if self.server.config.strict_responses and data != INTERNAL_ERROR_BODY:
            status, data, headers = self._checked(request, located, status, data, headers)
        start_response(
            f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN')}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(data))), *headers],
        )
        return [] if request.method == "HEAD" else [data]

    # --- the steps ----------------------------------------------------------------------

    def _guard(self, request: Request, located: Located) -> Answer | None:
        """Auth, rate limit and injected faults, before routing: an unknown path needs a key too."""
        server = self.server
        caller = request.environ.get(RUNTIME_CALLER_KEY)
        if caller is not None:  # handed over by the runtime path: no key, metered as the agent
            return self._limit_and_faults(request, located, _AGENT_BUCKET + caller)
        keys = server.keys
        key, problem = presented_key(request.environ, located.surface.key_header)
        if (problem or not keys.is_valid(key)) and located.surface.spec.is_keyless(located.path):
            key = ""  # an operation marked `security: []` (the agent runtime's calls): no key, no rate limit
        elif problem:
            return 401, error_body(problem), []
        elif not keys.is_valid(key):
            return 401, error_body(keys.refused_key_message(key)), []
        bound = keys.workspace_of(key) if key else None
        if bound is not None and bound != located.workspace:
            return (
                401,
                error_body(
                    f'API key is bound to workspace "{bound}"; it is not valid for workspace "{located.workspace}"'
                ),
                [],
            )
        server.workspaces.check_name(located.workspace)
        return self._limit_and_faults(request, located, key)

    def _limit_and_faults(self, request: Request, located: Located, bucket: str) -> Answer | None:
        """The rate limit of ``bucket`` (a key, or an agent; none when empty), then injected faults."""
        server = self.server
        wait = server.rate_limiter.check(bucket) if bucket else None
        if wait is not None:
            return 429, error_body("rate limit exceeded"), [("Retry-After", str(wait))]
        fault = server.faults.match(request.method, request.path)
        if fault:
            if fault["latency_ms"]:
                # The request is handled at once and answered late. A server that can wait
                # without blocking (rsgi_bridge) is told how long; otherwise _finish sleeps.
                request.environ[DELAY_KEY if DELAY_KEY in request.environ else _SLEEP_KEY] = fault["latency_ms"] / 1000
            if fault["status"]:
                # Marked, so spec checkers can tell an injected error from a real deviation.
                return fault["status"], error_body(fault["error"]), [(FAULT_HEADER, str(fault["id"]))]
        return None

    def _handle(self, request: Request, located: Located) -> Answer | Response:
        try:
            route, path_params = self.url_map.bind_to_environ(request.environ).match()
        except MethodNotAllowed:
            # Allow names the spec's path item for this path (werkzeug would add the methods
            # of a templated sibling: GET and DELETE of /api/tools/{name} on /api/tools/probe).
            raise MethodNotAllowed(valid_methods=located.surface.spec.allowed_methods(located.path)) from None
        path_params.pop(WORKSPACE_PARAM, None)
        surface = self.server.surfaces.by_name(route.surface)
        if route.malformed:  # a bad path under a known prefix
            self._malformed(request, located, route.malformed)
        op = surface.spec.operations[route.operation_id]
        before_body = getattr(self.server.handlers[op.operation_id], "before_body", None)
        if before_body is not None:  # what the path names is looked up before the body is parsed
            before_body(self.server.workspaces.get(located.workspace), path_params)
        raw_body = request.environ[_RAW_BODY_KEY] = request_body(request)
        refused = body_type_refusal(
            request.environ.get("CONTENT_TYPE"), raw_body, surface.spec.document, op.path, op.method
        )
        if refused:
            raise ApiError(400, refused)
        args = request.args if request.environ.get("QUERY_STRING") else _NO_ARGS
        api_request = op.parse(path_params, args, request.headers, raw_body)
        request.environ[_API_REQUEST_KEY] = api_request
        foreign = self.server.surfaces.foreign.get((surface.name, op.operation_id))
        if foreign:  # another release's field or parameter: refused, not ignored
            refuse_foreign(foreign, args, api_request.body)
        platform = self.server.workspaces.get(located.workspace)
        use = op.extensions.get("x-plan-use")
        blocked = platform.billing.blocking_status(use) if use else None
        if blocked:  # the workspace's billing plan stops deploys (readonly) or execution too
            raise ApiError(
                402, surface.spec.document["x-error-messages"][f"plan-blocks-{use}"].format(plan_status=blocked)
            )
        reply = self.server.handlers[op.operation_id](platform, api_request)
        if isinstance(reply, Response):
            return reply
        status, payload, *extra = reply
        return status, self.server.encoder.encode(payload), list(extra[0].items()) if extra else []

    def _malformed(self, request: Request, located: Located, message: str) -> NoReturn:
        # A known path with the wrong method is still a 405, not a malformed path. The
        # catch-all rules take any method, so werkzeug never puts theirs in an Allow header.
        allowed = located.surface.spec.allowed_methods(located.path)
        if allowed:
            raise MethodNotAllowed(valid_methods=allowed)
        raise ApiError(400, message)

    def _finish(self, request: Request, status: int, data: bytes = b"") -> None:
        """Sleep out an injected delay if the server cannot wait for us; keep the journal."""
        environ = request.environ
        if _SLEEP_KEY in environ:
            time.sleep(environ[_SLEEP_KEY])
        if self.server.journal.entries.maxlen:
            # The body as sent (bytes, parsed only when the journal is read): never the parsed
            # form of a refused body, which can be many times its size.
            raw = environ[_RAW_BODY_KEY] if _RAW_BODY_KEY in environ else _unread_body(request)
            parsed = environ.get(_API_REQUEST_KEY)
            if parsed is not None and parsed.body == {} and not raw.strip():
                raw = b"{}"  # no body where the operation reads one as {}: journaled as read
            self.server.journal.record(request, raw, status, environ[_LOCATED_KEY].workspace, response=data)

    def _checked(
        self, request: Request, located: Located, status: int, data: bytes, headers: list[tuple[str, str]]
    ) -> Answer:
        """Strict mode: an answer that breaks its surface's document becomes a loud 500."""
        document = located.surface.document
        problems = response_problems(
            located.surface.spec,
            request.method,
            located.path,
            status,
            "application/json",
            data,
            injected_fault=any(name == FAULT_HEADER for name, _ in headers),
        )
        if not problems:
            return status, data, headers
        log.error("response breaks %s: %s", document, "; ".join(problems))
        return 500, error_body(f"runagents-mock broke {document}: " + "; ".join(problems)), []


# Per-request notes kept in the WSGI environ.
_API_REQUEST_KEY = "runagents_mock.api_request"  # the parsed request, once it parsed
_RAW_BODY_KEY = "runagents_mock.raw_body"  # the body as read, before it is parsed
_SLEEP_KEY = "runagents_mock.sleep"
# Set by a server that can wait without blocking (rsgi_bridge.py): an injected delay is put here.
DELAY_KEY = "runagents_mock.answer_delay"
_LOCATED_KEY = "runagents_mock.located"  # surfaces.Located: surface, relative path, workspace
_NO_ARGS: dict[str, str] = {}
_AGENT_BUCKET = "\x00agent "  # rate-limit buckets of runtime callers; no header value starts so  # parsing an empty query string still costs a few µs


def _url_map(server: MockServer) -> Map:
    """For each surface and each of its mounts: one rule per operation, and one per path item
    that names an error for malformed paths under its static prefix (any method)."""
    rules = []
    for surface in server.surfaces:
        operations = surface.spec.operations.values()
        prefixes: dict[str, str] = {}
        for op in operations:
            message = op.path_item_extensions.get("x-malformed-path-error")
            if message:
                prefixes.setdefault(op.path.split("{", 1)[0], message)
        for mount in surface.mounts:
            mount_rule = mount.replace("{" + WORKSPACE_PARAM + "}", f"<{WORKSPACE_PARAM}>")
            rules += [
                Rule(mount_rule + op.url_rule, endpoint=_Route(surface.name, op.operation_id), methods=[op.method])
                for op in operations
            ]
            rules += [
                Rule(f"{mount_rule}{prefix}<path:_rest>", endpoint=_Route(surface.name, malformed=message))
                for prefix, message in prefixes.items()
            ]
    return Map(rules)


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
        return environ["wsgi.input"].read(int(length))
    return request.get_data() if chunked else b""


def _unread_body(request: Request) -> bytes:
    """The body of a request refused before it was read; nothing when it is too large."""
    try:
        return request_body(request)
    except HTTPException:
        return b""


def http_error_answer(request: Request, exc: HTTPException) -> Answer:
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
