"""``runagents-mock proxy``: the subcommand's flags, and a session from start to report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .config import DEFAULT_PORT, MockRoute


def _upstream(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError("use a full URL such as https://api.runagents.io")
    return text.rstrip("/")


def _mock_route(text: str) -> MockRoute:
    try:
        return MockRoute.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError("must be greater than 0")
        return value

    return parse


def add_parser(sub: Any) -> None:
    """Register ``proxy`` on the ``runagents-mock`` command's subparsers."""
    proxy = sub.add_parser(
        "proxy",
        help="a validating, recording proxy in front of a RunAgents server",
        description="Forward every request to --upstream unchanged and check each exchange "
        "against the spec. Exit code 1 when any response broke the spec, a call "
        "was undocumented (see --allow-undocumented) or nothing was checked.",
    )
    proxy.add_argument("--upstream", type=_upstream, required=True, metavar="URL", help="the server to proxy")
    proxy.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    proxy.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)"
    )
    proxy.add_argument(
        "--api-key", metavar="KEY", help="sent as Authorization: Bearer KEY on requests that carry no Authorization"
    )
    proxy.add_argument(
        "--spec",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help="an OpenAPI document to check against: it replaces the packaged one mounted at the "
        "same servers paths (openapi.yaml at /, openapi-v1.yaml under /api/v1), or is added "
        "(repeatable)",
    )
    proxy.add_argument(
        "--allow-undocumented",
        action="store_true",
        help="do not fail the session for calls the documents do not describe",
    )
    proxy.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also accept this Host name (beyond IP addresses and localhost; repeatable)",
    )
    proxy.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="let pages of this origin use the proxy, e.g. http://localhost:3000 (repeatable)",
    )
    proxy.add_argument(
        "--report",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="also write the report here at exit: .xml JUnit, .json JSON, else text (repeatable)",
    )
    proxy.add_argument(
        "--record",
        type=Path,
        metavar="FILE",
        help="write the state the traffic revealed as a seed fixture (YAML; JSON for .json)",
    )
    proxy.add_argument("--har", type=Path, metavar="FILE", help="write every exchange as HAR 1.2 (redacted)")
    proxy.add_argument(
        "--fallback",
        choices=("mock",),
        help="answer from a built-in mock when the upstream fails or answers 404/501 for a documented operation",
    )
    proxy.add_argument(
        "--mock",
        type=_mock_route,
        action="append",
        default=[],
        metavar="'METHOD PATH-GLOB'",
        help="always answer these from the built-in mock, e.g. 'POST /api/tools*' (repeatable)",
    )
    proxy.add_argument(
        "--timeout",
        type=_positive(float),
        default=30.0,
        metavar="SECONDS",
        help="to connect to the upstream, and between bytes of its answer (default 30)",
    )
    proxy.add_argument(
        "--max-body-bytes",
        type=_positive(int),
        default=5 * 1024 * 1024,
        metavar="N",
        help="largest body kept for validation, the record and the HAR (default 5 MiB); "
        "larger ones are passed on but not checked",
    )
    proxy.add_argument("--insecure", action="store_true", help="do not verify the upstream's TLS certificate")
    proxy.add_argument("--ca-bundle", metavar="FILE", help="verify the upstream's TLS certificate with these CAs")
    proxy.add_argument("--threads", type=_positive(int), default=16, help="worker threads (default 16)")
    proxy.add_argument("-q", "--quiet", action="store_true", help="no line per problem as it happens")


def run(args: argparse.Namespace) -> int:
    from waitress.server import create_server

    from ..basics.origin import OriginPolicy
    from ..web.serving import run_until_stopped
    from .app import ProxyApp
    from .config import ProxyConfig
    from .har import HarWriter
    from .recorder import SessionRecorder

    config = ProxyConfig(
        upstream=args.upstream,
        api_key=args.api_key,
        spec_paths=tuple(args.spec),
        allow_undocumented=args.allow_undocumented,
        timeout=args.timeout,
        allowed_hosts=frozenset(h.lower() for h in args.allow_host),
        allowed_origins=frozenset(args.allow_origin),
        fallback=args.fallback,
        mock_routes=tuple(args.mock),
        keep_body_bytes=args.max_body_bytes,
        insecure=args.insecure,
        ca_bundle=args.ca_bundle,
    )
    emit = (lambda line: None) if args.quiet else (lambda line: print(line, flush=True))
    try:
        app = ProxyApp(config, pool_size=args.threads)
        har = HarWriter(args.har, app.upstream.display) if args.har else None
    except (OSError, ValueError, RuntimeError) as exc:  # a bad spec or file, a mock the spec does not fit
        print(f"runagents-mock proxy: cannot start: {exc}", file=sys.stderr)
        return 2
    try:
        server = create_server(app, host=args.host, port=args.port, threads=args.threads, ident="runagents-mock-proxy")
    except OSError as exc:
        print(f"runagents-mock proxy: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    url_host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{url_host}:{server.effective_port}"
    app.findings.describe_target, app.findings.emit = f"{url} -> {app.upstream.display}", emit
    app.origin_policy = OriginPolicy(
        port=int(server.effective_port), allowed_hosts=config.allowed_hosts, allowed_origins=config.allowed_origins
    )
    app.recorder = SessionRecorder(app.surfaces) if args.record else None
    app.har = har
    mode = (" (fallback: the built-in mock)" if args.fallback else "") + (
        f" ({len(args.mock)} route(s) to the built-in mock)" if args.mock else ""
    )
    print(f"runagents-mock proxy serving on {url} -> {app.upstream.display}{mode}", flush=True)
    try:
        run_until_stopped(server)  # Ctrl-C or SIGTERM ends the session
    finally:
        app.close()
    return finish(app, args)


def finish(app: Any, args: argparse.Namespace) -> int:
    """Write the HAR, the record and the reports; the exit code says whether responses conformed."""
    from ..spec.conformance_report import write_report

    if app.har is not None:
        app.har.close()
        print(f"HAR written to {args.har}")
    if app.recorder is not None:
        app.recorder.write(args.record)
        print(f"recorded fixture written to {args.record} (load it with: runagents-mock serve --seed {args.record})")
    text = app.findings.text()
    for path in args.report:
        kind = write_report(path, text, app.findings.data(), app.findings.junit_suites())
        print(f"{kind} report written to {path}")
    print(text, flush=True)
    return 0 if app.findings.passed else 1
