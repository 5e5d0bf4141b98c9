"""The runtime surface as WSGI: the tool proxy, the agent-scoped LLM gateway, the OAuth callback.

``ApiDispatcher`` hands every request under ``paths.RUNTIME_PREFIXES`` here. No API key: the
URL names the agent, as the platform's mesh identity would.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable, Iterable

from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from ..spec.conformance import response_problems
from ..basics.errors import ApiError
from ..basics.jsonhttp import error_body
from ..services.runtime.models import Refusal
from ..spec.document import Spec, mock_spec_path
from ..services import agent_calls
from . import ingress
from .forward import ToolProxy
from ..spec.paths import EGRESS_PREFIX, INGRESS_PREFIX, JWKS_PATH, LLM_PREFIX, OAUTH_CALLBACK

if TYPE_CHECKING:
    from ..web.app import MockServer

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Answer = tuple[int, bytes, str]  # status, body, content type


class RuntimeApp:
    def __init__(self, server: "MockServer", api_app: WSGIApp):
        self.server = server
        self.api_app = api_app  # the dispatcher, for the LLM gateway
        self.operations = Spec.load(mock_spec_path()).operations  # requests parsed from mock-openapi.yaml
        self.tool_proxy = ToolProxy(server)  # answers allowed tool calls (forward.py)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(LLM_PREFIX):
            return self._llm(environ, start_response)
        request = Request(environ)
        request.max_content_length = self.server.config.max_body_bytes
        try:
            body = request.get_data()
        except HTTPException:
            body = b""
            status, data, ctype = 413, error_body(f"request body is larger than {request.max_content_length} bytes"), \
                "application/json"
            start_response("413 Request Entity Too Large", [("Content-Type", ctype), ("Content-Length", str(len(data)))])
            return [data]
        try:
            if path.startswith(EGRESS_PREFIX):
                status, data, ctype = self._egress(request, body)
            elif path == OAUTH_CALLBACK and request.method == "GET":
                status, data, ctype = self._oauth_callback(request)
            elif path == JWKS_PATH and request.method == "GET":
                status, data, ctype = 200, json.dumps(self.server.tokens.jwks()).encode(), "application/json"
            elif path.startswith(INGRESS_PREFIX) and request.method == "POST":
                status, data, ctype = self._ingress(request, body)
            else:
                status, data, ctype = 404, error_body(f"no such endpoint: {request.method} {path}"), "application/json"
        except ApiError as exc:
            status, data, ctype = exc.status, error_body(exc.message), "application/json"
        self.server.journal.record(request, body, status)
        if self.server.config.strict_responses:  # as the dispatcher does, against mock-openapi.yaml
            problems = response_problems(self.server.spec, request.method, path, status, ctype, data)
            if problems:
                status, data, ctype = 500, error_body("runagents-mock broke mock-openapi.yaml: "
                                                      + "; ".join(problems)), "application/json"
        start_response(f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN')}",
                       [("Content-Type", ctype), ("Content-Length", str(len(data)))])
        return [] if request.method == "HEAD" else [data]

    # --- the LLM gateway, scoped to an agent ----------------------------------------------

    def _llm(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Every documented spelling reaches the gateway: ``LLM_GATEWAY_URL`` as a full URL, as
        a ``/v1`` base (the SDK appends ``/chat/completions``) or with ``/v1/chat/completions``
        appended (the docs)."""
        path = environ["PATH_INFO"]
        if path.endswith("/healthz") and environ["REQUEST_METHOD"] == "GET":
            data = b'{"status":"ok"}'
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
            return [data]
        if path.endswith("/chat/completions"):
            keys = self.server.config.api_keys
            environ = {**environ, "PATH_INFO": "/v1/chat/completions",
                       "HTTP_AUTHORIZATION": f"Bearer {keys[0] if keys else 'agent-runtime'}"}
        else:
            environ = {**environ, "PATH_INFO": "/v1/_llm_unknown" + path}
        return self.api_app(environ, start_response)

    # --- the tool proxy ---------------------------------------------------------------

    def _egress(self, request: Request, body: bytes) -> Answer:
        parts = request.path[len(EGRESS_PREFIX):].split("/", 3)
        if len(parts) < 3 or not all(parts[:3]):
            raise ApiError(404, "egress URLs look like /_egress/<namespace>/<agent>/<tool>/<path>")
        namespace, agent, tool = parts[:3]
        tool_path = "/" + parts[3] if len(parts) > 3 else "/"
        run_id = request.headers.get("X-Run-ID") or None
        platform = self.server.platform
        decision = platform.runtime.check_tool_call(
            namespace, agent, tool, request.method, tool_path, request.query_string.decode("latin-1"), body,
            run_id, request.headers.get("X-End-User-ID") or None, request.host_url.rstrip("/") + OAUTH_CALLBACK)
        if isinstance(decision, Refusal):
            return decision.status, json.dumps(decision.body).encode(), "application/json"
        platform.runtime.log_tool_event(decision, "TOOL_REQUEST", request.method)
        status, data, ctype = self.tool_proxy.answer(decision, request, body, f"{namespace}/{agent}")
        platform.runtime.log_tool_event(decision, "TOOL_RESPONSE", request.method, status)
        return status, data, ctype

    # --- ingress ----------------------------------------------------------------------

    def _ingress(self, request: Request, body: bytes) -> Answer:
        parts = request.path[len(INGRESS_PREFIX):].split("/")
        if len(parts) != 3 or parts[2] != "invoke" or not all(parts):
            raise ApiError(404, "ingress URLs look like /_ingress/<namespace>/<agent>/invoke")
        namespace, name = parts[:2]
        platform = self.server.platform
        agent = platform.agents.get(namespace, name)
        user = ingress.end_user(platform, self.server.tokens, agent, request.headers.get("Authorization", ""),
                                request.headers.get("Origin"))
        payload = self.operations["ingressInvoke"].parse(
            {"namespace": namespace, "agent": name}, request.args, request.headers, body).body
        proxied = agent_calls.invoke(platform, namespace, name, payload, user, None)
        reply = proxied[1] if proxied is not None else platform.agents.invoke(namespace, name, payload, user, None)
        return 200, json.dumps(reply).encode(), "application/json"

    # --- OAuth ------------------------------------------------------------------------

    def _oauth_callback(self, request: Request) -> Answer:
        parsed = self.operations["oauthCallback"].parse({}, request.args, request.headers, b"")
        result = self.server.platform.runtime.complete_consent(parsed.query["state"])
        return 200, json.dumps(result).encode(), "application/json"
