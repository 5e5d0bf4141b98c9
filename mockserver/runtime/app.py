"""The runtime path's handlers: the tool proxy, the agent-scoped LLM gateway, ingress, the OAuth
callback and the agent runtime's keyless ``/runs/...`` calls of a named workspace.

Each is an operation of ``mock-openapi.yaml`` (by operationId), dispatched by the same request
pipeline as the API (``web/dispatch.py``). No API key: the URL names the agent, as the
platform's mesh identity would. A handler gets the located route, the request and its raw body
(the tool proxy passes bodies on as they are), and answers (status, body, content type), or
hands the request to another operation (``Forward``: the LLM gateway is the API's own chat
completion, metered as the agent).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from werkzeug.wrappers import Request

from ..basics.errors import ApiError
from ..basics.jsonhttp import RecordEncoder
from ..config import MockConfig
from ..services import agent_calls
from ..services.gateway.models import LLM_AGENT_KEY
from ..services.platform import Platform
from ..services.runtime.models import Refusal
from ..spec.paths import OAUTH_CALLBACK, WORKSPACE_RUNTIME_PREFIX
from ..spec.router import Route
from ..spec.surfaces import Surfaces
from . import ingress
from .forward import ToolProxy

# Set by the runtime path on a request it hands to the API (the agent-scoped LLM gateway): the
# agent it is for. The environ is the server's, so a client cannot set it.
RUNTIME_CALLER_KEY = "runagents_mock.runtime_caller"
# The workspace a runtime request turned out to address (for its journal entry).
RUNTIME_WORKSPACE_KEY = "runagents_mock.runtime_workspace"
V1_PREFIX = "/api/v1"

Answer = tuple[int, bytes, str]  # status, body, content type


class Forward(NamedTuple):
    """Answer this request as another path of the mock (the environ to dispatch instead)."""

    environ: dict[str, Any]


RuntimeReply = Answer | Forward
RuntimeHandler = Callable[[Route, Request, bytes], RuntimeReply]


class RuntimeHost(Protocol):
    """What the runtime path needs of the mock server (``web.app.MockServer`` is one)."""

    config: MockConfig
    handlers: dict[str, Any]  # the API's operationId -> handler
    encoder: RecordEncoder

    @property
    def workspaces(self) -> Any: ...  # services.workspaces.Workspaces

    @property
    def tokens(self) -> Any: ...  # runtime.jwt_keys.TokenIssuer

    @property
    def surfaces(self) -> Surfaces: ...  # its router answers a workspace's /runs calls


class Where(NamedTuple):
    """The workspace a runtime request addressed."""

    workspace: str
    platform: Platform
    prefix: str  # "" (default workspace) or /_workspaces/<ws>: what the URLs it hands out start with


class RuntimeHandlers:
    """operationId -> handler for every runtime operation of ``mock-openapi.yaml``."""

    def __init__(self, host: RuntimeHost):
        self.host = host
        self.tool_proxy = ToolProxy(host.config)  # answers allowed tool calls (forward.py)
        egress = ("egressGet", "egressPost", "egressPut", "egressPatch", "egressDelete")
        self.by_operation: dict[str, RuntimeHandler] = {
            **{op: self._egress for op in egress},
            **{"workspace" + op[0].upper() + op[1:]: self._egress for op in egress},
            "agentLlmGateway": self._llm,
            "workspaceLlmGateway": self._llm,
            "agentLlmGatewayHealth": self._llm_health,
            "workspaceLlmGatewayHealth": self._llm_health,
            "oauthCallback": self._oauth_callback,
            "workspaceOauthCallback": self._oauth_callback,
            "ingressJwks": self._jwks,
            "workspaceIngressJwks": self._jwks,
            "ingressInvoke": self._ingress,
            "workspaceIngressInvoke": self._ingress,
            "workspaceStoreCheckpoint": self._agent_runtime_call,
            "workspaceGetCheckpoint": self._agent_runtime_call,
            "workspaceReportToolResult": self._agent_runtime_call,
        }
        # Handed on before the body is read (the operation they forward to reads and journals
        # it); the gateway's health answer is not journaled either.
        self.forwarding = frozenset(
            {"agentLlmGateway", "workspaceLlmGateway", "agentLlmGatewayHealth", "workspaceLlmGatewayHealth"}
        )

    def _where(self, route: Route, request: Request) -> Where:
        """The workspace a runtime URL names (``/_workspaces/<ws>/...``, else the default); 400
        for a bad workspace name."""
        workspace = route.params.get("workspace")
        platform: Platform = self.host.workspaces.get(workspace) if workspace else self.host.workspaces.get("default")
        request.environ[RUNTIME_WORKSPACE_KEY] = workspace or "default"
        return Where(workspace or "default", platform, WORKSPACE_RUNTIME_PREFIX + workspace if workspace else "")

    def _agent_runtime_call(self, route: Route, request: Request, body: bytes) -> RuntimeReply:
        """The SDK runtime's keyless ``/runs/...`` calls (checkpoints, tool results) under a
        workspace's GOVERNANCE_URL: the operations of ``openapi.yaml`` marked ``security: []``,
        parsed and answered exactly as there, on that workspace."""
        where = self._where(route, request)
        path = "/" + route.path[len(WORKSPACE_RUNTIME_PREFIX) :].partition("/")[2]
        api = self.host.surfaces.router.route(request.method, path)
        op = api.operation
        if op is None or not op.keyless:
            raise ApiError(404, f"no such endpoint: {request.method} {request.path}")
        handler = self.host.handlers[op.operation_id]
        before_body = getattr(handler, "before_body", None)
        if before_body is not None:  # the run is looked up before the body is parsed, as on the API
            before_body(where.platform, api.params)
        parsed = op.parse(api.params, request.args, request.headers, body)
        status, payload, *_ = handler(where.platform, parsed)
        return status, self.host.encoder.encode(payload), "application/json"

    # --- the LLM gateway, scoped to an agent ----------------------------------------------

    def _llm_health(self, route: Route, request: Request, body: bytes) -> RuntimeReply:
        if not ("/" + route.params["path"]).endswith("/healthz"):
            return self._llm(route, request, body)  # a GET of the gateway itself: its own answer (405)
        self._where(route, request)
        return 200, b'{"status":"ok"}', "application/json"

    def _llm(self, route: Route, request: Request, body: bytes) -> RuntimeReply:
        """Every documented spelling reaches the gateway: ``LLM_GATEWAY_URL`` as a full URL, as
        a ``/v1`` base (the SDK appends ``/chat/completions``) or with ``/v1/chat/completions``
        appended (the docs). A named workspace's gateway is its ``/api/v1/workspaces/<ws>``
        chat completions, so its traffic stays in that workspace. Answered by that operation,
        with no key: the caller is the agent the URL names (its mesh identity on the
        platform), metered as it."""
        where = self._where(route, request)
        params = route.params
        caller = f"{where.workspace}/{params['namespace']}/{params['agent']}"
        if ("/" + params["path"]).endswith("/chat/completions"):
            gateway = (
                f"{V1_PREFIX}/workspaces/{where.workspace}/chat/completions" if where.prefix else "/v1/chat/completions"
            )
        else:
            gateway = f"/v1/_llm_unknown/_llm/{params['namespace']}/{params['agent']}/{params['path']}"
        agent = (params["namespace"], params["agent"])  # whose spend it is (gateway/models.py)
        # PATH_INFO in its WSGI form (UTF-8 bytes as latin-1): the params are decoded text.
        path_info = gateway.encode("utf-8", "replace").decode("latin-1")
        return Forward({**request.environ, RUNTIME_CALLER_KEY: caller, "PATH_INFO": path_info, LLM_AGENT_KEY: agent})

    # --- the tool proxy ---------------------------------------------------------------

    def _egress(self, route: Route, request: Request, body: bytes) -> RuntimeReply:
        where = self._where(route, request)
        params = route.params
        namespace, agent, tool = params["namespace"], params["agent"], params["tool"]
        tool_path = "/" + params["path"]
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

    def _jwks(self, route: Route, request: Request, body: bytes) -> RuntimeReply:
        self._where(route, request)
        return 200, json.dumps(self.host.tokens.jwks()).encode(), "application/json"

    def _ingress(self, route: Route, request: Request, body: bytes) -> RuntimeReply:
        where = self._where(route, request)
        namespace, name = route.params["namespace"], route.params["agent"]
        platform = where.platform
        agent = platform.agents.get(namespace, name)
        user = ingress.end_user(
            platform, self.host.tokens, agent, request.headers.get("Authorization", ""), request.headers.get("Origin")
        )
        assert route.operation is not None
        payload = route.operation.parse(route.params, request.args, request.headers, body).body
        proxied = agent_calls.invoke(platform, namespace, name, payload, user, None)
        reply = proxied[1] if proxied is not None else platform.agents.invoke(namespace, name, payload, user, None)
        return 200, json.dumps(reply).encode(), "application/json"

    # --- OAuth ------------------------------------------------------------------------

    def _oauth_callback(self, route: Route, request: Request, body: bytes) -> RuntimeReply:
        where = self._where(route, request)
        assert route.operation is not None
        parsed = route.operation.parse(route.params, request.args, request.headers, None)
        result = where.platform.runtime.complete_consent(parsed.query["state"])
        return 200, json.dumps(result).encode(), "application/json"
