"""``runagents-mock serve``: the mock on a production HTTP server (granian, or waitress)."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path
from typing import Any, Sequence

from .serving import announce_serving, run_until_stopped

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
    from .. import __version__

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
    serve.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                       help="also answer requests whose Host header is NAME (repeatable; IP addresses, "
                            "localhost and the --host name always are: docs/reliability.md)")
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
    serve.add_argument("--idle-timeout", type=_seconds, default=30.0, metavar="SECONDS",
                       help="close a connection idle between requests or stalled in its headers "
                            "(default 30; docs/reliability.md)")
    serve.add_argument("--body-timeout", type=_seconds, default=30.0, metavar="SECONDS",
                       help="answer 408 and close when a request body takes longer (default 30)")
    serve.add_argument("--max-connections", type=_positive, default=10_000, metavar="N",
                       help="connections served at once; more wait in the listen queue (default 10000)")

    serve.add_argument("--agent-endpoint", action="append", default=[], type=_agent_endpoint,
                       metavar="NAMESPACE/NAME=URL",
                       help="a real agent process for this agent (repeatable): invoke is proxied to it "
                            "and approvals resume it (see docs/runtime.md)")
    env = sub.add_parser("env", help="print the environment the platform would inject into a deployed agent")
    env.add_argument("agent", metavar="NAMESPACE/NAME")
    env.add_argument("--url", default=f"http://localhost:{DEFAULT_PORT}", help="the mock's URL")
    env.add_argument("--admin-key", help="key for /_mock/ when the mock requires one")
    env.add_argument("--format", choices=("json", "dotenv", "shell"), default="dotenv")
    env.add_argument("--workspace", help="the agent's workspace of /api/v1 (default: the default workspace)")
    from ..proxy.cli import add_parser as add_proxy_parser

    add_proxy_parser(sub)
    return parser


def _agent_endpoint(text: str) -> tuple[str, str]:
    agent, _, url = text.partition("=")
    if agent.count("/") != 1 or not all(agent.split("/")) or not url.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError("use NAMESPACE/NAME=http://host:port")
    return agent, url


def print_env(args: argparse.Namespace) -> int:
    """``runagents-mock env``: GET /_mock[/workspaces/<ws>]/agents/<ns>/<name>/env, printed as asked."""
    import json
    import shlex

    import requests

    if args.agent.count("/") != 1:
        print("runagents-mock: name the agent as NAMESPACE/NAME", file=sys.stderr)
        return 2
    headers = {"Authorization": f"Bearer {args.admin_key}"} if args.admin_key else {}
    control = f"/_mock/workspaces/{args.workspace}" if args.workspace else "/_mock"
    try:
        response = requests.get(f"{args.url.rstrip('/')}{control}/agents/{args.agent}/env", headers=headers, timeout=30)
    except requests.RequestException as exc:
        print(f"runagents-mock: cannot reach {args.url}: {type(exc).__name__}", file=sys.stderr)
        return 2
    if response.status_code != 200:
        print(f"runagents-mock: {response.status_code}: {response.text.strip()}", file=sys.stderr)
        return 1
    env = response.json()
    if args.format == "json":
        print(json.dumps(env, indent=2))
    else:
        prefix = "export " if args.format == "shell" else ""
        for name, value in env.items():
            print(f"{prefix}{name}={shlex.quote(value)}")
    return 0
def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.1 <= value <= 3600:
        raise argparse.ArgumentTypeError("use seconds from 0.1 to 3600")
    return value


def _positive(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 100_000:
        raise argparse.ArgumentTypeError("use an integer from 1 to 100000")
    return int(text)


def connection_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The connection limits both servers apply (docs/reliability.md, *Connection limits*)."""
    _allow_open_files(args.max_connections + 64)
    return {"idle_timeout": args.idle_timeout, "body_timeout": args.body_timeout,
            "max_connections": args.max_connections}


def _allow_open_files(count: int) -> None:
    """Raise the soft open-file limit (often 1024) towards ``count``: every connection is a file."""
    try:
        import resource
    except ImportError:  # Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count if hard == resource.RLIM_INFINITY else min(count, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "proxy":
        from ..proxy.cli import run as run_proxy

        return run_proxy(args)
    if args.command == "env":
        return print_env(args)
    from waitress import create_server

    from .app import create_app
    from .connection_gate import ConnectionGate
    from ..basics.errors import ApiError
    from ..surface.control import STATE_IMPORT_LIMIT
    from ..surface.persistence import StateFileError, attach_state_file, restore_state_file

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = {
        "api_keys": tuple(args.api_key), "workspace_keys": tuple(args.workspace_key), "admin_key": args.admin_key, "admin_enabled": not args.no_admin,
        "seed_file": args.seed, "state_file": args.state_file, "rate_limit_per_minute": args.rate_limit,
        "max_body_bytes": args.max_body_bytes, "agent_endpoints": dict(args.agent_endpoint),
        "allowed_hosts": (*args.allow_host, args.host),
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
        limits = connection_settings(args)
        if store:
            store.close()  # the worker opens its own connection (a connection must not cross a fork)
        return granian_serve.serve(config, args.host, args.port, limits, app if store else None)

    limits = connection_settings(args)
    try:
        # No body cap of waitress' own: the app refuses API bodies over --max-body-bytes before
        # reading them, and a state import (PUT /_mock/state) may be of any size (waitress spools
        # it to disk). channel_timeout closes a connection with no traffic for that long: idle
        # between requests, stalled in its headers or in its body (waitress reads bodies first).
        server = create_server(app, host=args.host, port=args.port, threads=args.threads,
                               max_request_body_size=STATE_IMPORT_LIMIT, ident="runagents-mock",
                               channel_timeout=min(limits["idle_timeout"], limits["body_timeout"]),
                               cleanup_interval=max(0.5, min(limits["idle_timeout"], limits["body_timeout"]) / 2),
                               asyncore_use_poll=True)  # select() cannot watch fds past 1024
    except OSError as exc:
        print(f"runagents-mock: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    # waitress counts its own listening socket and wake-up pipe in connection_limit.
    server.adj.connection_limit = limits["max_connections"] + len(server._map)
    gate = ConnectionGate(server.socket, limits["max_connections"]) if ConnectionGate.supported() else None
    if gate:
        gate.start()
    saver = attach_state_file(app, store) if store else None
    announce_serving(args.host, server.effective_port)
    saved = True
    try:
        run_until_stopped(server)
    finally:
        if gate:
            gate.stop()
        if saver:
            saved = saver.stop()
        print("runagents-mock stopped", flush=True)
    if not saved:
        print(f"runagents-mock: state file {args.state_file}: the last changes could not be saved",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
