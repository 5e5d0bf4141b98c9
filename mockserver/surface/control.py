"""The ``/_mock/`` control API that tests use to reset, seed, inspect and move time: thin
handlers over ``control_service.py``, one per operation of ``mock-openapi.yaml`` (by
operationId), dispatched by the same request pipeline as the API (``web/dispatch.py``: auth from
the document's ``adminKey`` scheme via ``spec/security.py``, parsing and validation from the
document, the strict answer check). The journal, faults and rate limiter it controls live in
``journal.py``, ``faults.py`` and ``rate_limit.py``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol

from werkzeug.wrappers import Request, Response

from ..basics.errors import ApiError
from ..services.runtime.models import agent_env as runtime_env
from ..spec.document import ApiRequest, Spec, mock_spec_path
from ..spec.matching import PathTable
from ..spec.paths import runtime_prefix
from .control_service import ControlService
from .seed import parse_seed_text

MOCK_PREFIX = "/_mock/"
STATE_PATH = "/_mock/state"
# A state import (PUT /_mock/state) is not held to max_body_bytes: an export of any size the
# mock can hold loads back.
STATE_IMPORT_LIMIT = 1 << 40


def reads_own_body(method: str, path: str) -> bool:
    """Whether the request is one of the control operations that read their body themselves
    (``x-mock-body: stream``: a state import of any size), which a server must pass on whole,
    not held to ``max_body_bytes`` (granian's bridge asks, per request)."""
    if not path.startswith(MOCK_PREFIX):
        return False
    op = _mock_paths().lookup(method.upper(), path).operation
    return op is not None and op.extensions.get("x-mock-body") == "stream"


@functools.cache
def _mock_paths() -> PathTable:
    return Spec.load(mock_spec_path()).paths


# A control handler's answer: (status, JSON payload), or a streamed answer (the state export).
ControlReply = tuple[int, Any] | Response
ControlHandler = Callable[[ApiRequest, Request], ControlReply]


class ControlHost(Protocol):
    """What the control API needs of the mock server (``web.app.MockServer`` is one)."""

    control: ControlService
    state_saver: Any  # persistence.StateSaver with --state-file, else None
    agent_runner: Any  # agent_processes.runner.AgentRunner with --run-agents, else None

    @property
    def workspaces(self) -> Any: ...  # services.workspaces.Workspaces

    @property
    def tokens(self) -> Any: ...  # runtime.jwt_keys.TokenIssuer


def control_handlers(host: ControlHost) -> dict[str, ControlHandler]:
    """operationId -> handler, for every ``/_mock/`` operation of ``mock-openapi.yaml``.

    The state-holding calls (reset, state, seed, journal, clock, replies) act on the default
    workspace, or on one workspace of ``/api/v1`` under ``/_mock/workspaces/{workspace}/``
    (the same handlers, operations of their own in the document)."""
    handlers: dict[str, ControlHandler] = {}
    control = host.control

    def operation(*operation_ids: str) -> Callable[[ControlHandler], ControlHandler]:
        def register(fn: ControlHandler) -> ControlHandler:
            for operation_id in operation_ids:
                handlers[operation_id] = fn
            return fn

        return register

    def workspace_of(req: ApiRequest) -> str | None:
        return req.path.get("workspace")

    @operation("resetMock", "resetWorkspace")
    def reset(req: ApiRequest, http: Request) -> ControlReply:
        control.reset(workspace_of(req))
        return 200, {"status": "reset"}

    @operation("createWorkspaceKey")
    def create_key(req: ApiRequest, http: Request) -> ControlReply:
        return 201, control.mint_key(req.path["workspace"])

    @operation("listWorkspaceKeys")
    def list_keys(req: ApiRequest, http: Request) -> ControlReply:
        return 200, {"keys": control.keys(req.path["workspace"])}

    @operation("revokeWorkspaceKey")
    def revoke_key(req: ApiRequest, http: Request) -> ControlReply:
        control.revoke_key(req.path["workspace"], req.path["key_id"])
        return 200, {"status": "revoked"}

    @operation("rotateWorkspaceKey")
    def rotate_key(req: ApiRequest, http: Request) -> ControlReply:
        return 201, control.rotate_key(req.path["workspace"], req.path["key_id"])

    @operation("listWorkspaces")
    def list_workspaces(req: ApiRequest, http: Request) -> ControlReply:
        return 200, {"workspaces": host.workspaces.names()}

    @operation("exportState", "exportWorkspaceState")
    def get_state(req: ApiRequest, http: Request) -> ControlReply:
        # Streamed: encoded chunk by chunk from a snapshot, whatever the size of the state.
        return Response(control.export_chunks(workspace_of(req)), status=200, mimetype="application/json")

    @operation("loadState", "loadWorkspaceState")
    def put_state(req: ApiRequest, http: Request) -> ControlReply:
        control.load_state_stream(req.stream, workspace_of(req))  # x-mock-body: stream: the body unread
        saved = host.state_saver.save_import() if host.state_saver else {}  # durable before the answer
        return 200, {"status": "loaded", **saved}

    @operation("getHealth")
    def get_health(req: ApiRequest, http: Request) -> ControlReply:
        saver = host.state_saver
        if saver is None:
            return 200, {"status": "ok", "state_file": None}
        status = saver.status()
        return 200, {"status": "degraded" if status["error"] else "ok", "state_file": status}

    @operation("seedMock", "seedWorkspace")
    def post_seed(req: ApiRequest, http: Request) -> ControlReply:
        try:  # YAML or JSON text: the one body the document cannot parse for us
            data = parse_seed_text(req.raw.decode("utf-8", "replace"))
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        return 200, control.seed(data, workspace_of(req))

    @operation("readJournal", "readWorkspaceJournal")
    def get_journal(req: ApiRequest, http: Request) -> ControlReply:
        return 200, control.journal(workspace_of(req))

    @operation("clearJournal", "clearWorkspaceJournal")
    def clear_journal(req: ApiRequest, http: Request) -> ControlReply:
        control.clear_journal(workspace_of(req))
        return 200, {"status": "cleared"}

    @operation("readClock", "readWorkspaceClock")
    def get_clock(req: ApiRequest, http: Request) -> ControlReply:
        return 200, control.clock(workspace_of(req))

    @operation("advanceClock", "advanceWorkspaceClock")
    def advance_clock(req: ApiRequest, http: Request) -> ControlReply:
        return 200, control.advance(req.body["seconds"], workspace_of(req))

    @operation("listFaults")
    def list_faults(req: ApiRequest, http: Request) -> ControlReply:
        return 200, control.faults()

    @operation("addFault")
    def add_fault(req: ApiRequest, http: Request) -> ControlReply:
        return 201, control.add_fault(req.body)

    @operation("clearFaults")
    def clear_faults(req: ApiRequest, http: Request) -> ControlReply:
        control.clear_faults()
        return 200, {"status": "cleared"}

    @operation("setRateLimit")
    def set_rate_limit(req: ApiRequest, http: Request) -> ControlReply:
        return 200, control.set_rate_limit(req.body.get("per_minute"))

    @operation("setReplies", "setWorkspaceReplies")
    def set_replies(req: ApiRequest, http: Request) -> ControlReply:
        return 200, control.set_replies(req.body, workspace_of(req))

    @operation("mintJwt", "mintWorkspaceJwt")
    def mint_jwt(req: ApiRequest, http: Request) -> ControlReply:
        from ..runtime.jwt_keys import DEFAULT_ISSUER  # PyJWT loads on first use

        now = int(control.platform(workspace_of(req)).clock.now())  # the workspace's clock, which its ingress checks
        claims = {
            "iss": DEFAULT_ISSUER,
            "iat": now,
            "exp": now + req.body.get("expires_in", 3600),
            **req.body.get("claims", {}),
        }
        return 200, {"token": host.tokens.mint(claims), "kid": host.tokens.kid, "claims": claims}

    @operation("getAgentEnv", "getWorkspaceAgentEnv")
    def agent_env(req: ApiRequest, http: Request) -> ControlReply:
        platform = control.platform(workspace_of(req))
        agent = platform.agents.get(req.path["namespace"], req.path["name"])
        return 200, runtime_env(
            agent,
            http.host_url.rstrip("/") + runtime_prefix(workspace_of(req)),
            tools=platform.tools.items,
            source=platform.agents.source_of(agent["namespace"], agent["name"]),
        )

    @operation("listAgentProcesses")
    def list_agent_processes(req: ApiRequest, http: Request) -> ControlReply:
        runner = host.agent_runner
        return 200, {"enabled": runner is not None, "agents": runner.list() if runner else []}

    @operation("getAgentProcessLog")
    def agent_process_log(req: ApiRequest, http: Request) -> ControlReply:
        host.workspaces.check_name(req.path["workspace"])
        runner = host.agent_runner
        found = runner.output(req.path["workspace"], req.path["namespace"], req.path["name"]) if runner else None
        if found is None:
            raise ApiError(
                404,
                f"no agent process for {req.path['namespace']}/{req.path['name']} in workspace "
                f"{req.path['workspace']}" + ("" if runner else " (the mock runs agents only with --run-agents)"),
            )
        return 200, found

    @operation("setAgentEndpoint", "setWorkspaceAgentEndpoint")
    def set_agent_endpoint(req: ApiRequest, http: Request) -> ControlReply:
        namespace, name, platform = req.path["namespace"], req.path["name"], control.platform(workspace_of(req))
        platform.agents.get(namespace, name)
        platform.runtime.set_endpoint(namespace, name, req.body["url"])
        return 200, {"agent": f"{namespace}/{name}", "url": platform.runtime.endpoint(namespace, name)}

    return handlers
