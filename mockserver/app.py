"""The Flask app factory: routes from the spec, auth, JSON errors, and the control API."""

from __future__ import annotations

import hmac
import logging
from typing import Any, Mapping

from flask import Flask, Request, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from .config import MockConfig
from .conformance import response_problems
from .control import API_REQUEST_KEY, FAULT_HEADER, RAW_BODY_KEY, Faults, Journal, RateLimiter, register_control_api, register_middleware
from .errors import ApiError
from .jsonhttp import RecordEncoder, error_response
from .platform import Platform
from .seed import load_seed_file
from .services import HANDLER_SETS
from .spec import ApiRequest, Operation, Spec
from .state_check import state_problem

log = logging.getLogger("runagents_mock")


class MockServer:
    """What one app instance holds; reachable as ``app.extensions["runagents_mock"]``."""

    def __init__(self, config: MockConfig, spec: Spec, platform: Platform):
        self.config = config
        self.spec = spec
        self.platform = platform
        self.journal = Journal(config.journal_size)
        self.faults = Faults()
        self.rate_limiter = RateLimiter(config.rate_limit_per_minute, platform.clock)
        self.handlers: dict[str, Any] = {}
        self.encoder = RecordEncoder()

    def reset(self) -> None:
        """Empty state, journal, faults and replies; configured rate limit; real time."""
        self.platform.reset()
        self.journal.clear()
        self.faults.clear()
        self.rate_limiter.set_limit(self.config.rate_limit_per_minute)

    def load_state(self, state: Any) -> None:
        """Replace all state with an export; ValueError (and no change) when it is not a sound one."""
        problem = state_problem(self.spec, state)
        if problem:
            raise ValueError(problem)
        self.platform.load(state)

    def key_is_valid(self, key: str, admin: bool = False) -> bool:
        """Constant-time comparison against every accepted key."""
        if admin and self.config.admin_key:
            return hmac.compare_digest(key.encode(), self.config.admin_key.encode())
        if not self.config.api_keys:
            return bool(key)
        return any([hmac.compare_digest(key.encode(), k.encode()) for k in self.config.api_keys])


def create_app(config: MockConfig | Mapping[str, Any] | None = None) -> Flask:
    """Build a mock server app. ``config`` is a MockConfig or a mapping of its fields."""
    cfg = MockConfig.from_mapping(config)
    spec = Spec.load(cfg.spec_path)
    platform = Platform(cfg)
    server = MockServer(cfg, spec, platform)

    app = Flask("runagents_mock")
    app.config["MAX_CONTENT_LENGTH"] = cfg.max_body_bytes
    app.extensions["runagents_mock"] = server

    _register_operations(app, server)
    _register_errors(app)
    if cfg.admin_enabled:
        register_control_api(app, server)
    register_middleware(app, server)
    if cfg.strict_responses:
        _register_strict_check(app, server)

    if cfg.seed_file:
        load_seed_file(server, cfg.seed_file)
    return app


def _register_operations(app: Flask, server: MockServer) -> None:
    handlers: dict[str, Any] = {}
    for handler_set in HANDLER_SETS:
        handlers.update(handler_set.by_operation)
    missing = sorted(set(server.spec.operations) - set(handlers))
    extra = sorted(set(handlers) - set(server.spec.operations))
    if missing or extra:
        raise RuntimeError(f"spec and handlers disagree: no handler for {missing}, no operation for {extra}")
    server.handlers = handlers

    for op in server.spec.operations.values():
        # No automatic OPTIONS answer: the API documents none, so OPTIONS is a 405 like any other.
        app.add_url_rule(op.flask_rule, endpoint=op.operation_id, methods=[op.method],
                         view_func=_view(op, handlers[op.operation_id], server),
                         provide_automatic_options=False)

    # A path item may name the error for malformed paths under its static prefix.
    for op in server.spec.operations.values():
        message = op.path_item_extensions.get("x-malformed-path-error")
        if message and f"malformed:{op.path}" not in app.view_functions:
            prefix = op.path.split("{", 1)[0]
            app.add_url_rule(f"{prefix}<path:_rest>", endpoint=f"malformed:{op.path}",
                             methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                             view_func=_malformed_view(server, message))


def _view(op: Operation, handler: Any, server: MockServer):
    platform = server.platform

    def view(**path_params: str) -> Response:
        http = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup
        environ = http.environ
        raw_body = environ[RAW_BODY_KEY] = request_body(http)
        args = http.args if environ.get("QUERY_STRING") else _NO_ARGS
        req: ApiRequest = op.parse(path_params, args, http.headers, raw_body)
        environ[API_REQUEST_KEY] = req
        reply = handler(platform, req)
        if isinstance(reply, Response):
            return reply
        return server.encoder.response(*reply)

    view.__name__ = op.operation_id
    return view


_NO_ARGS: Mapping[str, str] = {}  # parsing an empty query string still costs a few µs


def request_body(http: Request) -> bytes:
    """The request body. A body of known length is read straight from the server's stream:
    werkzeug's get_data() costs ~15 µs a call, a sixth of a request. Others (chunked bodies on
    servers that do not de-chunk them) go through get_data(), which applies the same limit."""
    environ = http.environ
    length = environ.get("CONTENT_LENGTH", "")
    if "HTTP_TRANSFER_ENCODING" in environ or not length.isdigit():
        return b"" if not length and "HTTP_TRANSFER_ENCODING" not in environ else http.get_data()
    if int(length) > (http.max_content_length or int(length)):
        raise RequestEntityTooLarge()
    return environ["wsgi.input"].read(int(length))


def _malformed_view(server: MockServer, message: str):
    def view(_rest: str) -> Response:
        # A known path with the wrong method is still a 405, not a malformed path.
        allowed = sorted({op.method for op in server.spec.operations.values()
                          if server.spec.find(op.method, request.path) is op})
        if allowed:
            raise MethodNotAllowed(valid_methods=allowed)
        return error_response(400, message)
    return view


def _register_errors(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.message, exc.headers)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        headers = {}
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            headers["Allow"] = ", ".join(sorted(set(exc.valid_methods) - {"HEAD", "OPTIONS"}))
            message = f"method {request.method} is not allowed on {request.path}"
        elif exc.code == 404:
            message = f"no such endpoint: {request.method} {request.path}"
        elif exc.code == 413:
            message = f"request body is larger than {app.config['MAX_CONTENT_LENGTH']} bytes"
        else:
            message = (exc.description or exc.name).rstrip(".")
        return error_response(exc.code or 500, message, headers)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        # A bug in the mock, not the client's fault: log it (without request data) and answer JSON.
        log.error("internal error on %s %s: %s", request.method, request.path, type(exc).__name__,
                  exc_info=exc)
        return error_response(500, "internal error in runagents-mock")


def _register_strict_check(app: Flask, server: MockServer) -> None:
    @app.after_request
    def check(response: Response) -> Response:
        if response.mimetype == "text/event-stream":
            return response  # streamed: the gateway tests parse and check the chunks themselves
        problems = response_problems(server.spec, request.method, request.path, response.status_code,
                                     response.content_type, response.get_data(),
                                     injected_fault=FAULT_HEADER in response.headers)
        if not problems:
            return response
        log.error("response breaks openapi.yaml: %s", "; ".join(problems))
        return error_response(500, "runagents-mock broke openapi.yaml: " + "; ".join(problems))
