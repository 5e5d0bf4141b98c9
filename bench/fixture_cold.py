"""One session start-up of the ``runagents_mock`` fixture in a fresh interpreter, timed in
parts: import the mock, build the app and start its LiveServer, get the first answer; then a
second server in the same process (what ``runagents_mock_factory`` pays). Prints JSON.

The plugin imports the server side (``mockserver.web``, Flask) lazily when its pool starts the
first server, so a session pays that import on first use: it is in ``start_ms``; ``import_ms``
is the plugin's own import, which every pytest run with the package installed pays. Run by
bench.fixture_timing as ``python -m bench.fixture_cold``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

try:  # already loaded in a pytest session, so not part of the start-up
    import pytest  # noqa: F401
except ImportError:  # no pytest: the plugin cannot load either, LiveServer is timed instead
    pass

started = time.perf_counter()
started_cpu = time.process_time()  # every thread of this process: steadier than wall time on a shared machine

try:  # the plugin's own server pool when present, so the numbers are what tests get
    from mockserver.testkit.plugin import ServerPool

    VIA = "mockserver.testkit.plugin.ServerPool"
except ImportError:  # an older tree: LiveServer alone
    ServerPool = None  # type: ignore[assignment,misc]
    VIA = "mockserver.testkit.live_server.LiveServer"
if ServerPool is None:
    from mockserver.testkit.live_server import LiveServer
# As in a session, the plugin's pool imports the server side (Flask, the mock) when it starts
# the first server: that import is part of start_ms, not of import_ms.

from .http_client import KeepAliveClient  # noqa: E402
from .workloads import AUTH_HEADERS  # noqa: E402

imported = time.perf_counter()


def _starter() -> tuple[Callable[[dict[str, Any]], str], Callable[[], None]]:
    """start(config) -> url, and stop_all()."""
    if ServerPool is not None:
        pool = ServerPool(strict=True)
        return (lambda config: pool.get(config).url), pool.stop_all
    servers: list[LiveServer] = []

    def start(config: dict[str, Any]) -> str:
        servers.append(LiveServer(config).start())
        return servers[-1].url

    def stop_all() -> None:
        for server in servers:
            server.stop()

    return start, stop_all


start, stop_all = _starter()
url = start({})
ready = time.perf_counter()
status, _ = KeepAliveClient(url).request("GET", "/api/agents", AUTH_HEADERS)
answered = time.perf_counter()
answered_cpu = time.process_time()
# A second configuration in the same session: modules imported, spec already parsed.
second_url = start({"api_keys": ["bench-key"]})
second_status, _ = KeepAliveClient(second_url).request("GET", "/api/agents", AUTH_HEADERS)
second_done = time.perf_counter()
stop_all()
print(
    json.dumps(
        {
            "via": VIA,
            "status": status if status != 200 else second_status,
            "import_ms": (imported - started) * 1000,
            "start_ms": (ready - imported) * 1000,
            "first_answer_ms": (answered - ready) * 1000,
            "total_ms": (answered - started) * 1000,
            "total_cpu_ms": (answered_cpu - started_cpu) * 1000,
            "second_server_ms": (second_done - answered) * 1000,
        }
    )
)
