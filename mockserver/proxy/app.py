"""The proxy as a WSGI app: each request goes to the upstream (or the built-in mock), its
answer streams back unchanged, and once the last byte has passed the exchange is checked,
reported, recorded and written to the HAR.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import quote

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.test import run_wsgi_app

from ..basics.jsonhttp import error_body
from ..basics.origin import OriginPolicy
from ..spec.security import WORKSPACE_KEY_PREFIX  # June workspace keys go in the surface's key header
from .config import ANSWERED_BY_HEADER, ProxyConfig
from .exchange import Exchange, KeptBody, decoded
from .findings import Findings
from .har import HarWriter
from .recorder import SessionRecorder
from .routing import Located, build_surfaces, locate
from .upstream import Upstream, UpstreamError, answer_headers, forwarded_headers
from .validation import exchange_problems

log = logging.getLogger("runagents_mock.proxy")

FALLBACK_STATUSES = (404, 501)  # an upstream that lacks a documented operation answers these


class ProxyApp:
    def __init__(
        self,
        config: ProxyConfig,
        findings: Findings | None = None,
        recorder: SessionRecorder | None = None,
        har: HarWriter | None = None,
        mock_app: Any = None,
        pool_size: int = 16,
        origin_policy: OriginPolicy | None = None,
    ):
        self.config = config
        self.surfaces = build_surfaces(config.spec_paths)
        self.spec = self.surfaces.root.spec  # the February document (or the --spec replacing it)
        self.upstream = Upstream(config, pool_size)
        spec_names = " and ".join(
            f"{s.document} ({'/' if not s.mounts[-1] else ', '.join(s.mounts)})" for s in self.surfaces
        )
        self.findings = findings or Findings(f"-> {self.upstream.display}", spec_names)
        self.findings.allow_undocumented = config.allow_undocumented
        # Who may use the proxy (and so its --api-key): no page on another origin, no rebound name.
        self.origin_policy = origin_policy or OriginPolicy(
            allowed_hosts=config.allowed_hosts, allowed_origins=config.allowed_origins
        )
        self.recorder = recorder
        self.har = har
        self.mock_app = mock_app
        if self.mock_app is None and (config.fallback == "mock" or config.mock_routes):
            from ..web.app import create_app  # the built-in mock: only built when asked for

            self.mock_app = create_app({"spec_path": self._replaced("2026-02"), "v1_spec_path": self._replaced("v1")})

    # --- WSGI ---------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started, clock = time.time(), time.perf_counter()
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO") or "/"
        query = environ.get("QUERY_STRING", "")
        refused = self.origin_policy.refusal(environ)
        if refused:  # not forwarded, not an exchange of the server's: one line, and a 403
            self.findings.refuse(f"{method} {path}", refused)
            data = error_body(refused)
            start_response(
                "403 Forbidden",
                [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(data))),
                    (ANSWERED_BY_HEADER, "proxy"),
                ],
            )
            return [data]
        located = locate(self.surfaces, method, path)
        headers = forwarded_headers(environ)
        if self.config.api_key:
            self._lend_key(headers, located, self.config.api_key)
        body = self._request_body(environ)
        kept = body if isinstance(body, bytes) else None
        exchange = Exchange(method, path, query, headers, kept, started)
        exchange.located = located

        if self.mock_app is not None and self.config.routed_to_mock(method, path):
            return self._from_mock(exchange, environ, body, start_response, clock)
        target = environ.get("REQUEST_URI") or quote(path.encode("latin-1"), safe="/%:@!$&'()*+,;=~") + (
            f"?{query}" if query else ""
        )
        try:
            response = self.upstream.send(method, target, headers, body)
        except UpstreamError as exc:
            exchange.upstream_error = exc.message
            if self.config.fallback == "mock" and self.mock_app is not None:
                return self._from_mock(exchange, environ, body, start_response, clock)
            return self._own_error(exchange, 504 if exc.kind == "timeout" else 502, exc.message, start_response, clock)
        if (
            response.status in FALLBACK_STATUSES
            and self.config.fallback == "mock"
            and self.mock_app is not None
            and located.found is not None
        ):
            response.drain_conn()
            response.release_conn()
            exchange.upstream_error = (
                f"upstream {self.upstream.display} answered {response.status} for a documented operation"
            )
            return self._from_mock(exchange, environ, body, start_response, clock)
        return self._answer(
            exchange,
            response.status,
            answer_headers(response.headers),
            self.upstream.stream(response),
            response.headers.get("Content-Encoding", ""),
            start_response,
            clock,
        )

    def _replaced(self, name: str) -> str | None:
        """The --spec file serving surface ``name`` (None: the packaged one), for the built-in mock."""
        surface = next((s for s in self.surfaces if s.name == name), None)
        return next((str(p) for p in self.config.spec_paths if surface and p.name == surface.document), None)

    def _lend_key(self, headers: dict[str, str], located: Located, api_key: str) -> None:
        """--api-key on a request that carries no key of its own: a workspace key (ra_ws_) in the
        surface's key header when it has one, any other as Authorization: Bearer."""
        key_header = located.surface.key_header
        present = {name.lower() for name in headers}
        if "authorization" in present or (key_header and key_header.lower() in present):
            return
        if key_header and api_key.startswith(WORKSPACE_KEY_PREFIX):
            headers[key_header] = api_key
        else:
            headers["Authorization"] = f"Bearer {api_key}"

    def _request_body(self, environ: dict[str, Any]) -> Any:
        """The body as bytes when it fits what is kept; else the stream, passed on unread."""
        length = environ.get("CONTENT_LENGTH") or ""
        stream = environ["wsgi.input"]
        if length.isdigit() and int(length) > self.config.keep_body_bytes:
            return stream
        return stream.read(int(length)) if length.isdigit() else b""

    # --- the answer ---------------------------------------------------------------------

    def _answer(
        self,
        exchange: Exchange,
        status: int,
        headers: list[tuple[str, str]],
        chunks: Iterator[bytes],
        encoding: str,
        start_response: Callable[..., Any],
        clock: float,
    ) -> Iterable[bytes]:
        exchange.status, exchange.response_headers = status, headers
        start_response(
            f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN')}",
            [*headers, (ANSWERED_BY_HEADER, exchange.answered_by)],
        )
        return self._passed_on(exchange, chunks, encoding, clock)

    def _passed_on(self, exchange: Exchange, chunks: Iterator[bytes], encoding: str, clock: float) -> Iterator[bytes]:
        """Each chunk as it arrives; the exchange is checked once the last one has gone."""
        kept = KeptBody(self.config.keep_body_bytes)
        try:
            for chunk in chunks:
                kept.add(chunk)
                yield chunk
        except UpstreamError as exc:  # the upstream stopped midway: the client gets what came
            exchange.upstream_error = f"{exc.message} (after {kept.size} bytes of the answer)"
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
            exchange.response_size = kept.size
            exchange.response_body = decoded(kept.value, encoding, self.config.keep_body_bytes)
            exchange.duration = time.perf_counter() - clock
            self.observe(exchange)

    def _from_mock(
        self, exchange: Exchange, environ: dict[str, Any], body: Any, start_response: Callable[..., Any], clock: float
    ) -> Iterable[bytes]:
        exchange.answered_by = "mock"
        env = dict(environ)
        if isinstance(body, bytes):
            env["wsgi.input"], env["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        for name, value in exchange.request_headers.items():  # the lent key too
            env["HTTP_" + name.upper().replace("-", "_")] = value
        app_iter, status, headers = run_wsgi_app(self.mock_app, env, buffered=False)
        return self._answer(
            exchange,
            int(status.split(" ", 1)[0]),
            list(headers.items()),
            iter(_closing(app_iter)),
            "",
            start_response,
            clock,
        )

    def _own_error(
        self, exchange: Exchange, status: int, message: str, start_response: Callable[..., Any], clock: float
    ) -> Iterable[bytes]:
        exchange.answered_by = "proxy"
        data = error_body(message)
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        return self._answer(exchange, status, headers, iter([data]), "", start_response, clock)

    # --- after the answer ---------------------------------------------------------------

    def observe(self, exchange: Exchange) -> None:
        """Check, report, record: never lets a problem of its own reach the client."""
        try:
            located = exchange.located or locate(self.surfaces, exchange.method, exchange.path)
            problems = exchange_problems(located, exchange, self.upstream.display)
            operation, named = located.operation, located.label()
            label = None
            if operation and named:
                method, _, path = named.partition(" ")
                label = (operation.operation_id, method, path)
            self.findings.add(exchange, problems, label)
            if self.recorder is not None:
                self.recorder.observe(located, exchange)
            if self.har is not None:
                self.har.add(exchange)
        except Exception as exc:  # a bug here must not break the traffic: report it, go on
            log.error(
                "runagents-mock proxy could not check %s %s: %s",
                exchange.method,
                exchange.path,
                type(exc).__name__,
                exc_info=exc,
            )

    def close(self) -> None:
        self.upstream.close()


def _closing(app_iter: Iterable[bytes]) -> Iterator[bytes]:
    try:
        yield from app_iter
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
