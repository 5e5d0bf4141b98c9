"""The app factory: the API (``dispatch.py``) in front of a Flask app serving ``/_mock/``."""

from __future__ import annotations

import hmac
import logging
from typing import Any, Mapping

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from .config import MockConfig
from .control import Faults, Journal, RateLimiter, register_control_api
from .dispatch import ApiDispatcher, http_error_answer
from .errors import ApiError
from .jsonhttp import RecordEncoder, error_response
from .platform import Platform
from .seed import load_seed_file
from .services import HANDLER_SETS
from .spec import Spec
from .state_check import state_problem

# Without --api-key every non-empty key works, except one containing this (any case).
OPEN_MODE_REFUSED = "invalid"

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
            # Open mode: any key, except one that says it is wrong, so clients (and
            # schemathesis' ignored_auth probe) can see a 401 without configuring keys.
            return bool(key) and OPEN_MODE_REFUSED not in key.lower()
        return any([hmac.compare_digest(key.encode(), k.encode()) for k in self.config.api_keys])


def create_app(config: MockConfig | Mapping[str, Any] | None = None) -> Flask:
    """Build a mock server app. ``config`` is a MockConfig or a mapping of its fields.

    The API itself is answered by ``dispatch.ApiDispatcher``, installed as the app's WSGI
    middleware; the Flask app serves the ``/_mock/`` control API.
    """
    cfg = MockConfig.from_mapping(config)
    spec = Spec.load(cfg.spec_path)
    platform = Platform(cfg)
    server = MockServer(cfg, spec, platform)
    server.handlers = _handlers(spec)

    app = Flask("runagents_mock")
    app.config["MAX_CONTENT_LENGTH"] = cfg.max_body_bytes
    app.extensions["runagents_mock"] = server
    _register_errors(app)
    if cfg.admin_enabled:
        register_control_api(app, server)
    app.wsgi_app = ApiDispatcher(server, app.wsgi_app)  # type: ignore[method-assign]

    if cfg.seed_file:
        load_seed_file(server, cfg.seed_file)
    return app


def _handlers(spec: Spec) -> dict[str, Any]:
    """operationId -> handler, from every service; the spec and the handlers must agree."""
    handlers: dict[str, Any] = {}
    for handler_set in HANDLER_SETS:
        handlers.update(handler_set.by_operation)
    missing = sorted(set(spec.operations) - set(handlers))
    extra = sorted(set(handlers) - set(spec.operations))
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
        log.error("internal error on %s %s: %s", request.method, request.path, type(exc).__name__,
                  exc_info=exc)
        return error_response(500, "internal error in runagents-mock")
