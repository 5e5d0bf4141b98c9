"""The ``/_mock/`` control API that tests use to reset, seed, inspect and move time: thin
handlers over ``control_service.py``. The journal, faults and rate limiter it controls live in
``journal.py``, ``faults.py`` and ``rate_limit.py``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request

from ..basics.errors import ApiError
from ..basics.jsonhttp import INTERNAL_ERROR_BODY, error_response, json_response
from ..services.runtime.models import agent_env as runtime_env
from ..spec.conformance import response_problems
from ..spec.document import ApiRequest, Operation, Spec, mock_spec_path
from ..spec.paths import runtime_prefix
from ..spec.security import body_type_refusal
from .seed import parse_seed_text

if TYPE_CHECKING:
    from ..services.platform import Platform
    from ..web.app import MockServer

MOCK_PREFIX = "/_mock/"
STATE_PATH = "/_mock/state"
# A state import (PUT /_mock/state) is not held to max_body_bytes: an export of any size the
# mock can hold loads back.
STATE_IMPORT_LIMIT = 1 << 40


def reads_own_body(method: str, path: str) -> bool:
    """Whether the request is one of the control operations that read their body themselves
    (``x-mock-body: stream``: a state import of any size), which a server must pass on whole,
    not held to ``max_body_bytes``."""
    return any(op.method == method and op.path_regex.fullmatch(path) for op in _streamed_operations())


@functools.cache
def _streamed_operations() -> tuple[Operation, ...]:
    ops = Spec.load(mock_spec_path()).operations.values()
    return tuple(op for op in ops if op.extensions.get("x-mock-body") == "stream")


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
        control.load_state_stream(req.body, workspace_of(req))  # x-mock-body: stream
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
        if op.extensions.get("x-mock-body") == "stream":  # an import of any size: the handler reads the body
            request.max_content_length = STATE_IMPORT_LIMIT
            refused = body_type_refusal(request.content_type, b"(streamed)", document, op.path, op.method)
            if refused:
                raise ApiError(400, refused)
            return handler(replace(op.parse(path, request.args, request.headers, b"{}"), body=request.stream))
        raw = request.get_data()
        refused = body_type_refusal(request.content_type, raw, document, op.path, op.method)
        if refused:
            raise ApiError(400, refused)
        if op.operation_id in ("seedMock", "seedWorkspace"):
            raw = b""  # YAML or JSON text, parsed by the handler
        return handler(op.parse(path, request.args, request.headers, raw))

    return view
