"""What the mock adds around the API: the request journal, fault rules and the rate limiter
(``dispatch.py`` applies them to each request), and the ``/_mock/`` control API that tests use
to reset, seed, inspect and move time."""

from __future__ import annotations

import collections
import fnmatch
import itertools
import math
import threading
from urllib.parse import parse_qsl
from typing import TYPE_CHECKING, Any, Mapping

from flask import Flask, Response, request
from werkzeug.datastructures import EnvironHeaders, MultiDict
from werkzeug.wrappers import Request

from .errors import ApiError
from .jsonhttp import bearer_key, error_response, json_response
from .redact import redact_body, redact_headers, redact_query
from .seed import parse_seed_text, seed
from .spec import decode_json
from .surfaces import DEFAULT_WORKSPACE

if TYPE_CHECKING:
    from .app import MockServer
    from .clock import Clock
    from .platform import Platform

MOCK_PREFIX = "/_mock/"
STATE_PATH = "/_mock/state"
# A state import (PUT /_mock/state) is not held to max_body_bytes: an export of any size the
# mock can hold loads back.
STATE_IMPORT_LIMIT = 1 << 40
_HEADER_PREFIXES = ("HTTP_", "CONTENT_")
FAULT_HEADER = "X-Mock-Fault"


class Journal:
    """The last ``size`` requests, oldest first.

    Entries are stored raw and redacted when read, so recording costs the hot path almost
    nothing; what leaves the mock (``list()``) never carries a secret.
    """

    def __init__(self, size: int):
        self.entries: collections.deque[tuple] = collections.deque(maxlen=max(size, 0))
        self._seq = itertools.count(1)

    def record(self, req: Request, body: Any, status: int, workspace: str = "default") -> None:
        """Keep the query string and the header entries of the environ as they are: they are
        only parsed if the journal is read."""
        headers = {k: v for k, v in req.environ.items() if k.startswith(_HEADER_PREFIXES)}
        self.entries.append((next(self._seq), req.method, req.path, req.environ.get("QUERY_STRING", ""),
                             headers, body, status, workspace))

    def list(self, workspace: str | None = None) -> list[dict[str, Any]]:
        """Every entry, or only those of one workspace (the February surface is "default")."""
        return [{"seq": seq, "method": method, "path": path,
                 "query": redact_query(MultiDict(parse_qsl(query, keep_blank_values=True)).to_dict(flat=True)),
                 "headers": redact_headers(dict(EnvironHeaders(headers).items())), "body": redact_body(body),
                 "status": status, "workspace": ws}
                for seq, method, path, query, headers, body, status, ws in list(self.entries)
                if workspace is None or ws == workspace]

    def clear(self, workspace: str | None = None) -> None:
        """Forget every entry, or only one workspace's."""
        if workspace is None:
            self.entries.clear()
            return
        kept = [entry for entry in list(self.entries) if entry[-1] != workspace]
        self.entries.clear()
        self.entries.extend(kept)


class Faults:
    """Rules that delay requests, or answer them with an error, matched by method and path glob."""

    def __init__(self) -> None:
        self.rules: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        rule = _validated_fault(spec)
        with self._lock:
            rule["id"] = next(self._ids)
            self.rules.append(rule)
        return dict(rule)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def match(self, method: str, path: str) -> dict[str, Any] | None:
        """The first live rule for this request, counted as used."""
        if not self.rules:
            return None
        with self._lock:
            for rule in self.rules:
                if rule["method"] not in ("*", method) or not fnmatch.fnmatchcase(path, rule["path"]):
                    continue
                if rule["times"] is not None:
                    if rule["times"] <= 0:
                        continue
                    rule["times"] -= 1
                rule["hits"] += 1
                return dict(rule)
        return None


def _validated_fault(spec: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(spec, Mapping):
        raise ApiError(400, "a fault must be a JSON object")
    method = str(spec.get("method", "*")).upper()
    path = spec.get("path", "*")
    status, latency, times = spec.get("status"), spec.get("latency_ms", 0), spec.get("times")
    if not isinstance(path, str) or not path:
        raise ApiError(400, "path must be a non-empty glob such as /api/tools*")
    if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
        raise ApiError(400, "status must be an integer from 400 to 599")
    if not isinstance(latency, (int, float)) or not 0 <= latency <= 60_000:
        raise ApiError(400, "latency_ms must be a number from 0 to 60000")
    if times is not None and (not isinstance(times, int) or times < 1):
        raise ApiError(400, "times must be a positive integer (omit it for every call)")
    if status is None and not latency:
        raise ApiError(400, "a fault needs a status, a latency_ms, or both")
    error = spec.get("error", "injected fault")
    return {"method": method, "path": path, "status": status, "latency_ms": latency,
            "error": str(error), "times": times, "hits": 0}


class RateLimiter:
    """At most ``per_minute`` requests per API key in any 60 s of the mock's clock."""

    def __init__(self, per_minute: int | None, clock: "Clock"):
        self.per_minute = per_minute
        self.clock = clock
        self._hits: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> int | None:
        """None when allowed; otherwise the seconds to wait."""
        if not self.per_minute:
            return None
        now = self.clock.now()
        with self._lock:
            hits = self._hits.setdefault(key, collections.deque())
            while hits and hits[0] <= now - 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(1, math.ceil(hits[0] + 60 - now))
            hits.append(now)
            return None

    def set_limit(self, per_minute: int | None) -> None:
        with self._lock:
            self.per_minute = per_minute
            self._hits.clear()


def register_control_api(app: Flask, server: "MockServer") -> None:
    """``/_mock/...`` acts on the whole mock; the state-holding calls (reset, state, seed,
    journal, clock, replies) also exist as ``/_mock/workspaces/<ws>/...`` for one workspace."""

    @app.before_request
    def admin_only() -> Response | None:
        # With API keys or an admin key configured, /_mock/ needs the admin key (or an API key
        # when no admin key is set); without any, it is open (local convenience).
        if server.config.admin_key or server.config.api_keys or server.config.workspace_keys:
            key = bearer_key(request.environ.get("HTTP_AUTHORIZATION", ""))
            if not server.key_is_valid(key, admin=True):
                return error_response(401, "missing or invalid admin key")
        return None

    def body() -> Any:
        raw = request.get_data()
        if not raw.strip():
            return {}
        return decode_json(raw)

    def route(rule: str, methods: list[str], per_workspace: bool = False):
        def wrap(fn):
            app.add_url_rule(rule, endpoint="mock:" + fn.__name__, view_func=fn, methods=methods)
            if per_workspace:
                app.add_url_rule(rule.replace(MOCK_PREFIX, MOCK_PREFIX + "workspaces/<workspace>/"),
                                 endpoint="mock:ws-" + fn.__name__, view_func=fn, methods=methods)
            return fn
        return wrap

    def platform_of(workspace: str) -> "Platform":
        return server.workspaces.get(workspace)

    @route("/_mock/reset", ["POST"], per_workspace=True)
    def reset(workspace: str | None = None) -> Response:
        if workspace is None:
            server.reset()
        else:
            server.workspaces.reset(workspace)
            server.journal.clear(workspace)
        return json_response(200, {"status": "reset"})

    @route("/_mock/workspaces", ["GET"])
    def list_workspaces() -> Response:
        return json_response(200, {"workspaces": server.workspaces.names()})

    @route(STATE_PATH, ["GET"], per_workspace=True)
    def get_state(workspace: str = DEFAULT_WORKSPACE) -> Response:
        # Streamed: encoded chunk by chunk from a snapshot, whatever the size of the state.
        return Response(platform_of(workspace).export_chunks(), status=200, mimetype="application/json")

    @route(STATE_PATH, ["PUT"], per_workspace=True)
    def put_state(workspace: str = DEFAULT_WORKSPACE) -> Response:
        request.max_content_length = STATE_IMPORT_LIMIT
        try:
            server.load_state(body(), workspace)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        return json_response(200, {"status": "loaded"})

    @route("/_mock/health", ["GET"])
    def get_health() -> Response:
        saver = server.state_saver
        if saver is None:
            return json_response(200, {"status": "ok", "state_file": None})
        status = saver.status()
        return json_response(200, {"status": "degraded" if status["error"] else "ok", "state_file": status})

    @route("/_mock/seed", ["POST"], per_workspace=True)
    def post_seed(workspace: str = DEFAULT_WORKSPACE) -> Response:
        raw = request.get_data(as_text=True)
        try:
            data = parse_seed_text(raw)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        return json_response(200, seed(server, data, platform_of(workspace)))

    @route("/_mock/journal", ["GET"], per_workspace=True)
    def get_journal(workspace: str | None = None) -> Response:
        return json_response(200, server.journal.list(workspace))

    @route("/_mock/journal", ["DELETE"], per_workspace=True)
    def clear_journal(workspace: str | None = None) -> Response:
        server.journal.clear(workspace)
        return json_response(200, {"status": "cleared"})

    @route("/_mock/clock", ["GET"], per_workspace=True)
    def get_clock(workspace: str = DEFAULT_WORKSPACE) -> Response:
        from .clock import iso
        clock = platform_of(workspace).clock
        return json_response(200, {"now": iso(clock.now()), "offset_seconds": clock.offset})

    @route("/_mock/clock/advance", ["POST"], per_workspace=True)
    def advance_clock(workspace: str = DEFAULT_WORKSPACE) -> Response:
        seconds = body().get("seconds") if isinstance(body(), dict) else None
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds <= 10 * 365 * 86400:
            raise ApiError(400, "seconds must be a number from 0 to 315360000")
        platform_of(workspace).clock.advance(seconds)
        return get_clock(workspace)

    @route("/_mock/faults", ["GET"])
    def list_faults() -> Response:
        return json_response(200, [dict(r) for r in server.faults.rules])

    @route("/_mock/faults", ["POST"])
    def add_fault() -> Response:
        return json_response(201, server.faults.add(body()))

    @route("/_mock/faults", ["DELETE"])
    def clear_faults() -> Response:
        server.faults.clear()
        return json_response(200, {"status": "cleared"})

    @route("/_mock/rate-limit", ["PUT"])
    def set_rate_limit() -> Response:
        per_minute = body().get("per_minute") if isinstance(body(), dict) else None
        if per_minute is not None and (not isinstance(per_minute, int) or isinstance(per_minute, bool)
                                       or per_minute < 1):
            raise ApiError(400, "per_minute must be a positive integer, or null for no limit")
        server.rate_limiter.set_limit(per_minute)
        return json_response(200, {"per_minute": per_minute})

    @route("/_mock/replies", ["PUT"], per_workspace=True)
    def set_replies(workspace: str = DEFAULT_WORKSPACE) -> Response:
        platform = platform_of(workspace)
        data = body()
        llm, agents = (data.get("llm", {}), data.get("agents", {})) if isinstance(data, dict) else (None, None)
        if not isinstance(llm, dict) or not all(isinstance(v, str) for v in llm.values()):
            raise ApiError(400, 'llm must map a model name (or "*") to a reply text')
        if not isinstance(agents, dict) or not all("/" in k for k in agents):
            raise ApiError(400, 'agents must map "namespace/name" to the JSON reply')
        with platform.lock:
            platform.gateway.replies.update(llm)
            platform.agents.replies.update(agents)
        return json_response(200, {"llm": dict(platform.gateway.replies), "agents": dict(platform.agents.replies)})
