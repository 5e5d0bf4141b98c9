"""``runagents-mock serve``: the mock on a production HTTP server (granian, or waitress)."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .serving import announce_serving, run_until_stopped

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8092  # the vendor CLI's default endpoint is http://localhost:8092
# Defaults for --log-level/--log-format (our test suite sets the level to warning for the
# servers it starts, which it reads only up to their URL line).
LOG_LEVEL_ENV = "RUNAGENTS_MOCK_LOG_LEVEL"
LOG_FORMAT_ENV = "RUNAGENTS_MOCK_LOG_FORMAT"


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
    serve.add_argument(
        "--host", default=DEFAULT_HOST, help="address to bind (default 127.0.0.1; use 0.0.0.0 explicitly to expose it)"
    )
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default 8092; 0 picks a free one)")
    serve.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        help="accept only this key (repeatable); default: any non-empty key",
    )
    serve.add_argument(
        "--workspace-key",
        action="append",
        default=[],
        type=_workspace_key,
        metavar="WS=KEY",
        help="accept KEY only on workspace WS of /api/v1 (repeatable; WS 'default' is "
        "/api/v1 and the February paths); e.g. --workspace-key revops=ra_ws_abc",
    )
    serve.add_argument("--admin-key", help="key required for /_mock/ (default: the API keys, if any)")
    serve.add_argument("--no-admin", action="store_true", help="turn the /_mock/ control API off")
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests whose Host header is NAME (repeatable; IP addresses, "
        "localhost and the --host name always are: docs/reliability.md)",
    )
    serve.add_argument("--seed", type=Path, metavar="FILE", help="load a YAML/JSON fixture at start")
    serve.add_argument(
        "--state-file",
        type=Path,
        metavar="PATH",
        help="restore state from PATH at start and save it there (see README)",
    )
    serve.add_argument("--rate-limit", type=_rate, metavar="N/min", help="requests per minute per API key")
    serve.add_argument("--max-body-bytes", type=int, default=5 * 1024 * 1024, help="largest request body")
    serve.add_argument(
        "--server",
        choices=("granian", "waitress"),
        default="granian",
        help="granian (default: a Rust HTTP layer, ~3x waitress' throughput, see "
        "bench/README.md) or waitress (pure Python, in this process)",
    )
    serve.add_argument(
        "--threads",
        type=int,
        default=8,
        help="waitress' worker threads (default 8; granian needs none: see bench/README.md)",
    )
    serve.add_argument(
        "--idle-timeout",
        type=_seconds,
        default=30.0,
        metavar="SECONDS",
        help="close a connection idle between requests or stalled in its headers (default 30; docs/reliability.md)",
    )
    serve.add_argument(
        "--body-timeout",
        type=_seconds,
        default=30.0,
        metavar="SECONDS",
        help="answer 408 and close when a request body takes longer (default 30)",
    )
    serve.add_argument(
        "--forward-timeout",
        type=_seconds,
        default=60.0,
        metavar="SECONDS",
        help="how long the tool proxy waits for a loopback tool (default 60; 504 after)",
    )
    serve.add_argument(
        "--agent-timeout",
        type=_seconds,
        default=120.0,
        metavar="SECONDS",
        help="how long an invoke (or a resume) waits for an agent's endpoint (default 120; 502 after)",
    )
    serve.add_argument(
        "--max-connections",
        type=_positive,
        default=10_000,
        metavar="N",
        help="connections served at once; one beyond gets 503 and is closed "
        "(Linux; elsewhere it waits in the listen queue) (default 10000)",
    )
    _add_log_flags(serve)

    serve.add_argument(
        "--agent-endpoint",
        action="append",
        default=[],
        type=_agent_endpoint,
        metavar="NAMESPACE/NAME=URL",
        help="a real agent process for this agent (repeatable): invoke is proxied to it "
        "and approvals resume it (see docs/runtime.md)",
    )
    serve.add_argument(
        "--run-agents",
        action="store_true",
        help="run deployed source agents as local processes with the vendor runtime "
        "(see docs/runtime.md, 'Running agents')",
    )
    serve.add_argument(
        "--agent-sdk",
        metavar="DIR",
        help="with --run-agents: a directory holding the runagents package the agents run on "
        "(default: the one this Python imports)",
    )
    serve.add_argument(
        "--max-agents",
        type=_positive,
        default=8,
        metavar="N",
        help="with --run-agents: agent processes running at once (default 8)",
    )
    env = sub.add_parser(
        "env",
        help="print the environment the platform would inject into a deployed agent",
        description="Print the environment the platform injects into a deployed agent (tool URLs "
        "through the mock's tool proxy, the LLM gateway, the agent's own env entries), "
        "read from a running mock. Shell output is safe to eval: values are quoted, and "
        "a name that is not a shell variable name stops the command with nothing printed.",
    )
    env.add_argument("agent", metavar="NAMESPACE/NAME", help="the deployed agent, e.g. agent-system/my-agent")
    env.add_argument(
        "--url",
        default=f"http://localhost:{DEFAULT_PORT}",
        help=f"the running mock's URL (default http://localhost:{DEFAULT_PORT})",
    )
    env.add_argument(
        "--admin-key", help="key for /_mock/ when the mock requires one (--admin-key or --api-key of serve)"
    )
    env.add_argument(
        "--format",
        choices=("json", "dotenv", "shell"),
        default="dotenv",
        help="dotenv (default): NAME=value a line, values shell-quoted; shell: the same with "
        "'export ' for eval \"$(...)\"; json: one object",
    )
    env.add_argument("--workspace", help="the agent's workspace of /api/v1 (default: the default workspace)")
    from ..proxy.cli import add_parser as add_proxy_parser

    add_proxy_parser(sub)
    return parser


def _add_log_flags(serve: argparse.ArgumentParser) -> None:
    from .access_log import LOG_FORMATS, LOG_LEVELS

    level = os.environ.get(LOG_LEVEL_ENV, "info").lower()
    fmt = os.environ.get(LOG_FORMAT_ENV, "text").lower()
    serve.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default=level if level in LOG_LEVELS else "info",
        help=f"info (default) logs every request on stderr; warning shows only problems "
        f"(default from ${LOG_LEVEL_ENV})",
    )
    serve.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default=fmt if fmt in LOG_FORMATS else "text",
        help=f"text (default): METHOD PATH STATUS DURATION ws=WORKSPACE key=KEY-ID a line; "
        f"json: one object a line (default from ${LOG_FORMAT_ENV})",
    )


def _agent_endpoint(text: str) -> tuple[str, str]:
    agent, _, url = text.partition("=")
    if agent.count("/") != 1 or not all(agent.split("/")) or not url.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError("use NAMESPACE/NAME=http://host:port")
    return agent, url


def print_env(args: argparse.Namespace) -> int:
    """``runagents-mock env``: GET /_mock[/workspaces/<ws>]/agents/<ns>/<name>/env, printed as asked."""
    import json

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
        return 0
    try:
        print(env_lines(env, export=args.format == "shell"), end="")
    except ValueError as exc:
        print(f"runagents-mock: {exc}", file=sys.stderr)
        return 1
    return 0


ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def env_lines(env: dict[str, Any], export: bool = False) -> str:
    """``NAME='value'`` lines (``export`` first for the shell): values quoted by ``shlex.quote``,
    so ``eval`` or ``source`` gives them back verbatim and runs nothing. ValueError, and no line at
    all, when a name is not a shell variable name (the API refuses those; a state import may not)."""
    import shlex

    bad = [name for name in env if not isinstance(name, str) or not ENV_NAME.fullmatch(name)]
    if bad:
        raise ValueError(
            f"refusing to print env names that are not shell variable names: {', '.join(repr(name) for name in bad)}"
        )
    prefix = "export " if export else ""
    return "".join(f"{prefix}{name}={shlex.quote(str(value))}\n" for name, value in env.items())


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
    return {
        "idle_timeout": args.idle_timeout,
        "body_timeout": args.body_timeout,
        "max_connections": args.max_connections,
    }


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

    from ..basics.errors import ApiError
    from ..config import MockConfig
    from ..services.agent_processes.runner import refuse_exposed_agents
    from ..surface.control import STATE_IMPORT_LIMIT
    from ..surface.persistence import StateFileError, attach_state_file, restore_state_file
    from .access_log import configure as configure_logging
    from .app import create_app
    from .connection_gate import ConnectionGate

    refusal = refuse_exposed_agents(args.run_agents, args.host, bool(args.api_key or args.workspace_key))
    if refusal:
        print(f"runagents-mock: {refusal}", file=sys.stderr)
        return 2
    configure_logging(args.log_level, args.log_format)
    config = {
        "api_keys": tuple(args.api_key),
        "workspace_keys": tuple(args.workspace_key),
        "admin_key": args.admin_key,
        "admin_enabled": not args.no_admin,
        "seed_file": args.seed,
        "state_file": args.state_file,
        "rate_limit_per_minute": args.rate_limit,
        "max_body_bytes": args.max_body_bytes,
        "agent_endpoints": dict(args.agent_endpoint),
        "allowed_hosts": (*args.allow_host, args.host),
        "forward_timeout_seconds": args.forward_timeout,
        "agent_timeout_seconds": args.agent_timeout,
        "run_agents": args.run_agents,
        "agent_sdk": args.agent_sdk,
        "max_running_agents": args.max_agents,
    }
    if args.server == "waitress":  # forwarded tool calls and agent calls leave a quarter of waitress' threads free
        config["forward_slots"] = max(1, min(MockConfig.forward_slots, args.threads // 2))
        config["agent_slots"] = max(1, min(MockConfig.agent_slots, args.threads // 4))
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
            import granian  # noqa: F401

            from . import granian_serve
        except ImportError:
            print("runagents-mock: granian is not installed here; use --server waitress", file=sys.stderr)
            return 2
        limits = connection_settings(args)
        if store:
            store.close(keep_lock=True)  # the worker opens its own connection (not across a fork)
        return granian_serve.serve(
            config,
            args.host,
            args.port,
            limits,
            app if store else None,
            log={"level": args.log_level, "fmt": args.log_format},
        )

    limits = connection_settings(args)
    try:
        # No body cap of waitress' own: the app refuses API bodies over --max-body-bytes before
        # reading them, and a state import (PUT /_mock/state) may be of any size (waitress spools
        # it to disk). channel_timeout closes a connection with no traffic for that long: idle
        # between requests, stalled in its headers or in its body (waitress reads bodies first).
        server = create_server(
            app,
            host=args.host,
            port=args.port,
            threads=args.threads,
            max_request_body_size=STATE_IMPORT_LIMIT,
            ident="runagents-mock",
            channel_timeout=min(limits["idle_timeout"], limits["body_timeout"]),
            cleanup_interval=max(0.5, min(limits["idle_timeout"], limits["body_timeout"]) / 2),
            asyncore_use_poll=True,
        )  # select() cannot watch fds past 1024
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
        print(f"runagents-mock: state file {args.state_file}: the last changes could not be saved", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
