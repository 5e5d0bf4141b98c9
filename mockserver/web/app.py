"""The app factory: the API (``dispatch.py``) in front of a Flask app serving ``/_mock/``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from ..basics.errors import ApiError
from ..basics.jsonhttp import INTERNAL_ERROR, RecordEncoder, error_response
from ..config import MockConfig
from ..services import HANDLER_SETS
from ..services.agent_calls import AgentCalls, ResumeWorker
from ..services.agent_processes.runner import start_agent_runner
from ..services.platform import Platform, state_sections
from ..services.workspace_keys import WorkspaceKeys
from ..services.workspaces import Workspaces
from ..spec.document import ServedDocument, Spec, default_spec_path, mock_spec_path
from ..spec.security import KeyRing
from ..spec.state_check import state_problem
from ..spec.surfaces import Surface, Surfaces
from ..surface.console import mount_pages
from ..surface.control import register_control_api
from ..surface.control_service import ControlService
from ..surface.faults import Faults
from ..surface.journal import Journal
from ..surface.rate_limit import RateLimiter
from ..surface.seed import load_seed_file
from . import access_log
from .browser_guard import BrowserGuard
from .dispatch import ApiDispatcher, http_error_answer
from .invoker import SpecInvoker

if TYPE_CHECKING:
    from ..runtime.jwt_keys import TokenIssuer

log = logging.getLogger("runagents_mock")


class MockServer:
    """What one app instance holds; reachable as ``app.extensions["runagents_mock"]``."""

    def __init__(self, config: MockConfig, spec: Spec, platform: Platform, v1_spec: Spec | None = None):
        self.config = config
        self.spec = spec  # the February document (openapi.yaml)
        self.v1_spec = v1_spec  # the June document (openapi-v1.yaml), when served
        self.platform = platform  # the default workspace
        # Every served OpenAPI document, where it is mounted (listed by /docs, used by routing).
        self.surfaces = Surfaces(
            [Surface.from_spec("2026-02", "openapi.yaml", spec)]
            + ([Surface.from_spec("v1", "openapi-v1.yaml", v1_spec)] if v1_spec else [])
        )
        name_check = v1_spec.component_validator("WorkspaceName") if v1_spec else None
        self.workspaces = Workspaces(
            config,
            platform,
            lambda name: name_check.first_error(name, "workspace name") if name_check else "workspaces are not served",
        )
        self.journal = Journal(config.journal_size, config.journal_body_bytes, self.workspaces.now)
        self.workspace_keys = WorkspaceKeys(platform.now_iso, config.max_objects_per_kind)  # minted on /_mock/
        self.keys = KeyRing(config.api_keys, config.workspace_keys, config.admin_key, self.workspace_keys)
        self.faults = Faults()
        self.rate_limiter = RateLimiter(config.rate_limit_per_minute, platform.clock)
        self.handlers: dict[str, Any] = {}
        # services.invoker.OperationInvoker of openapi.yaml and of openapi-v1.yaml (seeds), set by create_app
        self.invoker: Any = None
        self.v1_invoker: Any = None
        self.encoder = RecordEncoder()
        # Every OpenAPI document this mock serves, as /docs lists them (the files behind
        # ``surfaces``, and any other document a part of the mock serves).
        self.documents = [ServedDocument("runagents", Path(config.spec_path or default_spec_path()))]
        if v1_spec is not None:
            self.documents.append(
                ServedDocument("runagents-v1", Path(config.v1_spec_path or default_spec_path("openapi-v1.yaml")))
            )
        self.documents.append(ServedDocument("runagents-mock", mock_spec_path()))
        # With --state-file: persistence.Store and its StateSaver (status: GET /_mock/health).
        self.store: Any = None
        self.state_saver: Any = None
        self.control = ControlService(self)  # what /_mock/ and the pytest plugin's handle call
        self.agent_runner: Any = None  # agent_processes.runner.AgentRunner with run_agents

    @cached_property
    def tokens(self) -> TokenIssuer:
        """Signs POST /_mock/jwt tokens; ingress verifies them. Made on first use: most mocks
        never mint a token, and PyJWT costs a tenth of the start-up."""
        from ..runtime.jwt_keys import TokenIssuer

        return TokenIssuer()

    def reset(self) -> None:
        """Empty state (every workspace), journal, faults and replies; configured rate limit; real time."""
        self.workspaces.reset_all()
        self.workspace_keys.forget()
        self.journal.clear()
        self.faults.clear()
        self.rate_limiter.set_limit(self.config.rate_limit_per_minute)

    def workspace_of_key(self, key: str) -> str | None:
        """The workspace an API key is bound to (``--workspace-key``, or minted), or None."""
        return self.keys.workspace_of(key)

    def state_problem(self, state: Any) -> str | None:
        """Why ``state`` cannot be loaded, or None (event logs hold every release's event types)."""
        return state_problem(self.spec, state, self.v1_spec, state_sections())

    def load_state(self, state: Any, workspace: str = "default") -> None:
        """Replace a workspace's state with an export; ValueError (and no change) when it is not a sound one."""
        try:
            self.control.load_state(state, workspace)
        except ApiError as exc:
            raise ValueError(exc.message) from None

    def key_is_valid(self, key: str) -> bool:
        """Whether the API takes ``key`` (``spec/security.py`` decides; kept for callers)."""
        return self.keys.is_valid(key)


def create_app(config: MockConfig | Mapping[str, Any] | None = None) -> Flask:
    """Build a mock server app. ``config`` is a MockConfig or a mapping of its fields.

    The API itself is answered by ``dispatch.ApiDispatcher``, installed as the app's WSGI
    middleware; the Flask app serves the ``/_mock/`` control API.
    """
    cfg = MockConfig.from_mapping(config)
    spec = Spec.load(cfg.spec_path)
    v1_spec = Spec.load(cfg.v1_spec_path or default_spec_path("openapi-v1.yaml"))
    platform = Platform(cfg)
    server = MockServer(cfg, spec, platform, v1_spec)
    server.handlers = _handlers(server.surfaces)
    # The one operation invoker (services/invoker.py): /api/v1's for action plans, the
    # February document's for seeds.
    server.workspaces.replay = platform.replay = SpecInvoker(v1_spec, server.handlers)
    server.invoker = SpecInvoker(spec, server.handlers)
    server.v1_invoker = platform.replay
    server.workspaces.keys = platform.keys = server.workspace_keys  # /api/v1/auth/api-keys
    for workspace, _ in cfg.workspace_keys:
        try:
            server.workspaces.check_name(workspace)
        except ApiError as exc:
            raise ValueError(f"--workspace-key {workspace}=...: {exc.message}") from None
    runner = server.agent_runner = start_agent_runner(cfg)  # serve --run-agents, else None
    calls = AgentCalls(cfg)  # one pool of calls to agents for the process

    def prepare(workspace: Platform) -> None:  # every workspace resumes its own runs, and runs agents
        ResumeWorker.attach(workspace)
        workspace.agent_runner = runner
        workspace.agent_calls = calls

    server.workspaces.prepare = prepare
    prepare(platform)

    app = Flask("runagents_mock")
    app.config["MAX_CONTENT_LENGTH"] = cfg.max_body_bytes
    # OPTIONS is no operation of mock-openapi.yaml: a 405 with Allow, as on the API (not Flask's 200).
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.extensions["runagents_mock"] = server
    _register_errors(app)
    if cfg.admin_enabled:
        register_control_api(app, server)
    app.wsgi_app = ApiDispatcher(server, app.wsgi_app)  # type: ignore[method-assign]
    app.wsgi_app = mount_pages(server, app.wsgi_app)  # type: ignore[method-assign]
    # No web page on another origin or name reaches any surface (browser_guard.py); the access
    # log stays outermost, so it sees the guard's refusals too.
    app.wsgi_app = BrowserGuard(app.wsgi_app, cfg.allowed_hosts)  # type: ignore[method-assign]
    app.wsgi_app = access_log.wrap(server, app.wsgi_app)  # type: ignore[method-assign,assignment]  # outermost

    if cfg.seed_file:
        load_seed_file(server, cfg.seed_file)
    return app


def _handlers(surfaces: Surfaces) -> dict[str, Any]:
    """operationId -> handler, from every service; the specs and the handlers must agree.

    An operation both documents share (by ``$ref``) has one operationId and one handler."""
    handlers: dict[str, Any] = {}
    for handler_set in HANDLER_SETS:
        handlers.update(handler_set.by_operation)
    operations = {op_id for surface in surfaces for op_id in surface.spec.operations}
    missing = sorted(operations - set(handlers))
    extra = sorted(set(handlers) - operations)
    if missing or extra:
        raise RuntimeError(f"spec and handlers disagree: no handler for {missing}, no operation for {extra}")
    return handlers


def _register_errors(app: Flask) -> None:
    """Errors of the control API (and of anything else Flask serves) in the one JSON shape."""

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.message, exc.headers)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status, data, headers = http_error_answer(request, exc)
        return Response(data, status=status, mimetype="application/json", headers=headers)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        # A bug in the mock, not the client's fault: log it (without request data) and answer JSON.
        log.error("internal error on %s %s: %s", request.method, request.path, type(exc).__name__, exc_info=exc)
        return error_response(500, INTERNAL_ERROR)
