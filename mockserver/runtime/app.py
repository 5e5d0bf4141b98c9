"""The runtime surface as WSGI: the tool proxy, the agent-scoped LLM gateway, the OAuth callback.

``ApiDispatcher`` hands every request under ``paths.RUNTIME_PREFIXES`` here. No API key: the
URL names the agent, as the platform's mesh identity would.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn

from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from ..basics.errors import ApiError
from ..basics.jsonhttp import INTERNAL_ERROR, INTERNAL_ERROR_BODY, error_body
from ..services import agent_calls
from ..services.gateway.models import LLM_AGENT_KEY
from ..services.runtime.models import Refusal
from ..spec.conformance import response_problems
from ..spec.document import Spec, mock_spec_path
from ..spec.paths import EGRESS_PREFIX, INGRESS_PREFIX, JWKS_PATH, LLM_PREFIX, OAUTH_CALLBACK, WORKSPACE_RUNTIME_PREFIX
from ..spec.security import body_type_refusal
from ..spec.surfaces import DEFAULT_WORKSPACE
from . import ingress
from .forward import ToolProxy

if TYPE_CHECKING:
    from ..services.platform import Platform
    from ..web.app import MockServer

log = logging.getLogger("runagents_mock")
# Set by the runtime path on a request it hands to the API (the agent-scoped LLM gateway): the
# agent it is for. The environ is the server's, so a client cannot set it.
RUNTIME_CALLER_KEY = "runagents_mock.runtime_caller"
V1_PREFIX = "/api/v1"


class Where(NamedTuple):
    """The workspace a runtime request addressed, and its path on that workspace's runtime."""

    workspace: str
    platform: Platform
    path: str  # without the workspace prefix: /_egress/..., /_llm/..., /runs/...
    prefix: str  # "" (default workspace) or /_workspaces/<ws>: what the URLs it hands out start with


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Answer = tuple[int, bytes, str]  # status, body, content type


class RuntimeApp:
    def __init__(self, server: MockServer, api_app: WSGIApp):
        self.server = server
        self.api_app = api_app  # the dispatcher, for the LLM gateway
        spec = Spec.load(mock_spec_path())
        self.operations = spec.operations  # requests parsed from mock-openapi.yaml
        self.spec = spec
        self.document = spec.document
        self.tool_proxy = ToolProxy(server)  # answers allowed tool calls (forward.py)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        full_path = environ.get("PATH_INFO", "")
        where: Where | None = None
        try:
            where = self._where(full_path)
        except ApiError as exc:  # a bad workspace name: answered below, journaled like any refusal
            failed = exc
        if where is not None and where.path.startswith(LLM_PREFIX):
            return self._llm(where, environ, start_response)
        request = Request(environ)
        request.max_content_length = self.server.config.max_body_bytes
        try:
            body = request.get_data()
        except HTTPException:
            body = b""
            status, data, ctype = (
                413,
                error_body(f"request body is larger than {request.max_content_length} bytes"),
                "application/json",
            )
            start_response(
                "413 Request Entity Too Large", [("Content-Type", ctype), ("Content-Length", str(len(data)))]
            )
            return [data]
        headers: list[tuple[str, str]] = []
        try:
            if where is None:
                raise failed
            status, data, ctype = self._route(where, request, body)
        except ApiError as exc:
            status, data, ctype = exc.status, error_body(exc.message), "application/json"
            headers = list(exc.headers.items())
        except Exception as exc:  # a bug in the mock, not the caller's fault: log it, answer JSON
            log.error("internal error on %s %s: %s", request.method, full_path, type(exc).__name__, exc_info=exc)
            status, data, ctype = 500, error_body(INTERNAL_ERROR), "application/json"
        self.server.journal.record(
            request, body, status, where.workspace if where else DEFAULT_WORKSPACE, response=data
        )
        if self.server.config.strict_responses and data != INTERNAL_ERROR_BODY:  # as the dispatcher does
            problems = response_problems(self.server.spec, request.method, full_path, status, ctype, data)
            if problems:
                status, data, ctype = (
                    500,
                    error_body("runagents-mock broke mock-openapi.yaml: " + "; ".join(problems)),
                    "application/json",
                )
        start_response(
            f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN')}",
            [("Content-Type", ctype), ("Content-Length", str(len(data))), *headers],
        )
        return [] if request.method == "HEAD" else [data]

    def _where(self, path: str) -> Where:
        """The workspace a runtime URL names (``/_workspaces/<ws>/...``, else the default) and
        the runtime path within it; 400 for a bad workspace name."""
        if not path.startswith(WORKSPACE_RUNTIME_PREFIX):
            return Where(DEFAULT_WORKSPACE, self.server.platform, path, "")
        workspace, _, rest = path[len(WORKSPACE_RUNTIME_PREFIX) :].partition("/")
        platform = self.server.workspaces.get(workspace)  # 400 for a bad name
        return Where(workspace, platform, "/" + rest, WORKSPACE_RUNTIME_PREFIX + workspace)

    def _route(self, where: Where, request: Request, body: bytes) -> Answer:
        path = where.path
        if path.startswith(EGRESS_PREFIX):
            return self._egress(where, request, body)
        if path == OAUTH_CALLBACK and request.method == "GET":
            return self._oauth_callback(where, request)
        if path == JWKS_PATH and request.method == "GET":
            return 200, json.dumps(self.server.tokens.jwks()).encode(), "application/json"
        if path.startswith(INGRESS_PREFIX) and path != JWKS_PATH and request.method == "POST":
            return self._ingress(where, request, body)
        if where.prefix and path.startswith("/runs/"):
            return self._agent_runtime_call(where, request, body)
        self._not_served(request)

    def _not_served(self, request: Request) -> NoReturn:
        """405 with Allow on a path of mock-openapi.yaml (as the API answers a wrong method), else 404."""
        allowed = self.spec.allowed_methods(request.path)
        if allowed:
            raise ApiError(
                405, f"method {request.method} is not allowed on {request.path}", {"Allow": ", ".join(allowed)}
            )
        raise ApiError(404, f"no such endpoint: {request.method} {request.path}")

    def _agent_runtime_call(self, where: Where, request: Request, body: bytes) -> Answer:
        """The SDK runtime's keyless ``/runs/...`` calls (checkpoints, tool results) under a
        workspace's GOVERNANCE_URL: the operations of ``openapi.yaml`` marked ``security: []``,
        parsed and answered exactly as there, on that workspace."""
        matched = self.server.spec.match(request.method, where.path)
        if matched is None or not matched[0].keyless:
            self._not_served(request)
        op, params = matched
        before_body = getattr(self.server.handlers[op.operation_id], "before_body", None)
        if before_body is not None:  # the run is looked up before the body is parsed, as on the API
            before_body(where.platform, params)
        parsed = op.parse(params, request.args, request.headers, body)
        status, payload, *_ = self.server.handlers[op.operation_id](where.platform, parsed)
        return status, self.server.encoder.encode(payload), "application/json"

    # --- the LLM gateway, scoped to an agent ----------------------------------------------

    def _llm(self, where: Where, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Every documented spelling reaches the gateway: ``LLM_GATEWAY_URL`` as a full URL, as
        a ``/v1`` base (the SDK appends ``/chat/completions``) or with ``/v1/chat/completions``
        appended (the docs). A named workspace's gateway is its ``/api/v1/workspaces/<ws>``
        chat completions, so its traffic stays in that workspace."""
        path = where.path
        if path.endswith("/healthz") and environ["REQUEST_METHOD"] == "GET":
            data = b'{"status":"ok"}'
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
            return [data]
        # Answered by the API's own chat-completion operation (the workspace's), with no key: the
        # caller is the agent the URL names (its mesh identity on the platform), metered as it.
        parts = path[len(LLM_PREFIX) :].split("/", 2)
        caller = where.workspace + "/" + ("/".join(parts[:2]) if len(parts) >= 2 and all(parts[:2]) else path)
        if path.endswith("/chat/completions"):
            gateway = (
                f"{V1_PREFIX}/workspaces/{where.workspace}/chat/completions" if where.prefix else "/v1/chat/completions"
            )
        else:
            gateway = "/v1/_llm_unknown" + path
        agent = tuple(parts[:2]) if len(parts) > 2 else ("", "")  # whose spend it is (gateway/models.py)
        environ = {**environ, RUNTIME_CALLER_KEY: caller, "PATH_INFO": gateway, LLM_AGENT_KEY: agent}
        return self.api_app(environ, start_response)

    # --- the tool proxy ---------------------------------------------------------------

    def _egress(self, where: Where, request: Request, body: bytes) -> Answer:
        parts = where.path[len(EGRESS_PREFIX) :].split("/", 3)
        if len(parts) < 3 or not all(parts[:3]):
            raise ApiError(404, "egress URLs look like /_egress/<namespace>/<agent>/<tool>/<path>")
        namespace, agent, tool = parts[:3]
        tool_path = "/" + parts[3] if len(parts) > 3 else "/"
        run_id = request.headers.get("X-Run-ID") or None
        platform = where.platform
        # X-End-User-ID is not passed: the platform sets it from the run, the agent cannot forge it.
        decision = platform.runtime.check_tool_call(
            namespace,
            agent,
            tool,
            request.method,
            tool_path,
            request.query_string.decode("latin-1"),
            body,
            run_id,
            request.host_url.rstrip("/") + where.prefix + OAUTH_CALLBACK,
        )
        if isinstance(decision, Refusal):
            return decision.status, json.dumps(decision.body).encode(), "application/json"
        # One forwarding pool for the process; a caller's share is per agent (and workspace).
        caller = f"{namespace}/{agent}" if not where.prefix else f"{where.workspace}/{namespace}/{agent}"
        status, data, ctype = self.tool_proxy.answer(platform, decision, request, body, caller)
        platform.runtime.log_tool_event(decision, "TOOL_RESPONSE", request.method, status)
        return status, data, ctype

    # --- ingress ----------------------------------------------------------------------

    def _ingress(self, where: Where, request: Request, body: bytes) -> Answer:
        parts = where.path[len(INGRESS_PREFIX) :].split("/")
        if len(parts) != 3 or parts[2] != "invoke" or not all(parts):
            raise ApiError(404, "ingress URLs look like /_ingress/<namespace>/<agent>/invoke")
        operation = self.operations["ingressInvoke"]
        refused = body_type_refusal(request.content_type, body, self.document, operation.path, operation.method)
        if refused:
            raise ApiError(400, refused)
        namespace, name = parts[:2]
        platform = where.platform
        agent = platform.agents.get(namespace, name)
        user = ingress.end_user(
            platform, self.server.tokens, agent, request.headers.get("Authorization", ""), request.headers.get("Origin")
        )
        payload = operation.parse({"namespace": namespace, "agent": name}, request.args, request.headers, body).body
        proxied = agent_calls.invoke(platform, namespace, name, payload, user, None)
        reply = proxied[1] if proxied is not None else platform.agents.invoke(namespace, name, payload, user, None)
        return 200, json.dumps(reply).encode(), "application/json"

    # --- OAuth ------------------------------------------------------------------------

    def _oauth_callback(self, where: Where, request: Request) -> Answer:
        parsed = self.operations["oauthCallback"].parse({}, request.args, request.headers, b"")
        result = where.platform.runtime.complete_consent(parsed.query["state"])
        return 200, json.dumps(result).encode(), "application/json"
