"""``runagents-mock serve``: the mock on a production HTTP server (granian, or waitress)."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path
from typing import Sequence

from .serving import run_until_stopped

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8092  # the vendor CLI's default endpoint is http://localhost:8092


def _rate(text: str) -> int:
    match = re.fullmatch(r"(\d+)(?:/min)?", text.strip())
    if not match or int(match.group(1)) < 1:
        raise argparse.ArgumentTypeError("use N/min with N >= 1, e.g. 120/min")
    return int(match.group(1))


def _workspace_key(text: str) -> tuple[str, str]:
    workspace, sep, key = text.partition("=")
    if not sep or not workspace or not key:
        raise argparse.ArgumentTypeError("expected WORKSPACE=KEY, e.g. revops=ra_ws_abc")
    return workspace, key


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="runagents-mock", description="Offline mock of the RunAgents API.")
    parser.add_argument("--version", action="version", version=f"runagents-mock {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the mock over HTTP")
    serve.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default 127.0.0.1; "
                                                             "use 0.0.0.0 explicitly to expose it)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default 8092; 0 picks a free one)")
    serve.add_argument("--api-key", action="append", default=[], metavar="KEY",
                       help="accept only this key (repeatable); default: any non-empty key")
    serve.add_argument("--workspace-key", action="append", default=[], type=_workspace_key, metavar="WS=KEY",
                       help="accept KEY only on workspace WS of /api/v1 (repeatable; WS 'default' is "
                            "/api/v1 and the February paths); e.g. --workspace-key revops=ra_ws_abc")
    serve.add_argument("--admin-key", help="key required for /_mock/ (default: the API keys, if any)")
    serve.add_argument("--no-admin", action="store_true", help="turn the /_mock/ control API off")
    serve.add_argument("--seed", type=Path, metavar="FILE", help="load a YAML/JSON fixture at start")
    serve.add_argument("--state-file", type=Path, metavar="PATH",
                       help="restore state from PATH at start and save it there (see README)")
    serve.add_argument("--rate-limit", type=_rate, metavar="N/min", help="requests per minute per API key")
    serve.add_argument("--max-body-bytes", type=int, default=5 * 1024 * 1024, help="largest request body")
    serve.add_argument("--server", choices=("granian", "waitress"), default="granian",
                       help="granian (default: a Rust HTTP layer, ~3x waitress' throughput, see "
                            "bench/README.md) or waitress (pure Python, in this process)")
    serve.add_argument("--threads", type=int, default=8,
                       help="waitress' worker threads (default 8; granian needs none: see bench/README.md)")
    from .proxy.cli import add_parser as add_proxy_parser

    add_proxy_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "proxy":
        from .proxy.cli import run as run_proxy

        return run_proxy(args)
    from waitress import create_server

    from .app import create_app
    from .errors import ApiError
    from .control import STATE_IMPORT_LIMIT
    from .persistence import StateFileError, attach_state_file, restore_state_file

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = {
        "api_keys": tuple(args.api_key), "workspace_keys": tuple(args.workspace_key), "admin_key": args.admin_key, "admin_enabled": not args.no_admin,
        "seed_file": args.seed, "state_file": args.state_file, "rate_limit_per_minute": args.rate_limit,
        "max_body_bytes": args.max_body_bytes,
    }
    try:  # build once here, so a bad seed or state file stops the start with one clear line
        app = create_app(config)
        store = restore_state_file(app) if args.state_file else None
    except StateFileError as exc:
        print(f"runagents-mock: {exc}", file=sys.stderr)
        return 2
    except ApiError as exc:  # a fixture item the API itself would refuse
        print(f"runagents-mock: cannot load {args.seed}: {exc.message}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"runagents-mock: cannot start: {exc}", file=sys.stderr)
        return 2

    if args.server == "granian":
        try:
            from . import granian_serve
            import granian  # noqa: F401
        except ImportError:
            print("runagents-mock: granian is not installed here; use --server waitress", file=sys.stderr)
            return 2
        if store:
            store.close()  # the worker opens its own connection (a connection must not cross a fork)
        return granian_serve.serve(config, args.host, args.port, app if store else None)

    try:
        # No cap of waitress' own: the app refuses API bodies over --max-body-bytes before reading
        # them, and a state import (PUT /_mock/state) may be of any size (waitress spools it to disk).
        server = create_server(app, host=args.host, port=args.port, threads=args.threads,
                               max_request_body_size=STATE_IMPORT_LIMIT, ident="runagents-mock")
    except OSError as exc:
        print(f"runagents-mock: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    saver = attach_state_file(app, store) if store else None
    announce_serving(args.host, server.effective_port)
    saved = True
    try:
        run_until_stopped(server)
    finally:
        if saver:
            saved = saver.stop()
        print("runagents-mock stopped", flush=True)
    if not saved:
        print(f"runagents-mock: state file {args.state_file}: the last changes could not be saved",
              file=sys.stderr)
        return 1
    return 0


def body_limit(max_body_bytes: int) -> int:
    """How much of a request body the server reads at most. The mock answers a JSON 413 for bodies
    over ``max_body_bytes`` up to this size; the server cuts off anything larger."""
    return max(4 * max_body_bytes, 64 * 1024 * 1024)


def announce_serving(host: str, port: int) -> None:
    """The line scripts wait for: printed once the port answers."""
    url_host = f"[{host}]" if ":" in host else host
    print(f"runagents-mock serving on http://{url_host}:{port}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
