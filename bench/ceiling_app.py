"""The ceiling: a bare Flask app answering each workload with the mock's JSON from a constant.

Same framework, same WSGI server and thread count as ``runagents-mock serve``, but no auth,
validation, state, journal or serialisation, so the gap to it is what the mock's own work costs.
Run: ``python -m bench.ceiling_app --port N --threads 8``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from flask import Flask, Response

from mockserver.cli import run_until_stopped

from .payloads import sample_replies


def create_ceiling_app() -> Flask:
    replies = sample_replies()  # computed once at start; requests only copy bytes out
    app = Flask("bench_ceiling")

    def constant(name: str):
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ceiling_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args(argv)
    from waitress import create_server

    # Same create_server call as mockserver/cli.py so only the app differs.
    server = create_server(create_ceiling_app(), host=args.host, port=args.port,
                           threads=args.threads, ident="bench-ceiling")

    run_until_stopped(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
