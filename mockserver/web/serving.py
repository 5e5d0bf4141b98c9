"""Running a waitress server in the foreground until Ctrl-C or SIGTERM (``serve``, ``proxy``)."""

from __future__ import annotations

import signal
from typing import Any


def run_until_stopped(server: Any) -> None:
    """Run a waitress server until Ctrl-C or SIGTERM, then close it."""

    def stop(signum: int, frame: object) -> None:  # SIGTERM behaves like Ctrl-C: leave the loop, then clean up
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def announce_serving(host: str, port: int) -> None:
    """The line scripts wait for: printed once the port answers."""
    url_host = f"[{host}]" if ":" in host else host
    print(f"runagents-mock serving on http://{url_host}:{port}", flush=True)
