"""The ceiling: a bare Flask app answering each workload with the mock's JSON from a constant.

The same server stack as ``runagents-mock serve``, but no auth, validation, state, journal or
serialisation: what a Flask app on that server does at best. (The mock's API no longer goes
through Flask per request, see mockserver/web/dispatch.py, so the mock can beat it.)

- ``--server granian`` (the default, like ``serve``): the app through ``RSGIBridge`` on
  granian's RSGI interface, started by the same ``mockserver.web.granian_serve.run`` as the mock;
- ``--server waitress``: the same ``create_server`` call as ``serve --server waitress``, with
  ``--threads N`` threads.

Run: ``python -m bench.ceiling_app --port N [--server granian|waitress] [--threads 8]``.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask, Response

from mockserver.web.serving import run_until_stopped

from .payloads import sample_replies

SERVERS = ("granian", "waitress")
MAX_BODY_BYTES = 5 * 1024 * 1024  # `runagents-mock serve`'s default --max-body-bytes


def create_ceiling_app() -> Flask:
    replies = sample_replies()  # computed once at start; requests only copy bytes out
    app = Flask("bench_ceiling")

    def constant(name: str) -> Callable[..., Response]:
        status, body = replies[name]

        def view(**_: str) -> Response:
            return Response(body, status=status, mimetype="application/json")

        view.__name__ = name
        return view

    app.add_url_rule("/api/agents", view_func=constant("list_agents"), methods=["GET"])
    app.add_url_rule("/runs/<run_id>", view_func=constant("get_run"), methods=["GET"])
    app.add_url_rule("/runs/<run_id>/events", view_func=constant("add_event"), methods=["POST"])
    app.add_url_rule("/v1/chat/completions", view_func=constant("chat"), methods=["POST"])
    return app


def granian_app() -> Any:
    """Granian's factory (``bench.ceiling_app:granian_app``), called in its worker process: the
    ceiling through the same bridge, with the same set-up, as ``mockserver.web.granian_serve:worker_app``."""
    from mockserver.web.granian_serve import worker_settings
    from mockserver.web.rsgi_bridge import RSGIBridge

    worker_settings()  # also prints the URL line once the port answers
    app = create_ceiling_app()
    gc.freeze()  # as the mock's worker does, so the collector costs both alike
    return RSGIBridge(app, body_limit=MAX_BODY_BYTES)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ceiling_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--server", choices=SERVERS, default="granian", help="granian (default, as `runagents-mock serve`) or waitress"
    )
    parser.add_argument("--threads", type=int, default=8, help="waitress threads (default 8; not used by granian)")
    args = parser.parse_args(argv)

    if args.server == "granian":
        from mockserver.web.granian_serve import run

        # The mock's own launcher: one granian worker, RSGI interface; only the app differs.
        return run("bench.ceiling_app:granian_app", args.host, args.port, {})

    from waitress import create_server

    # Same create_server call as mockserver/web/cli.py so only the app differs.
    server = create_server(
        create_ceiling_app(), host=args.host, port=args.port, threads=args.threads, ident="bench-ceiling"
    )

    run_until_stopped(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
