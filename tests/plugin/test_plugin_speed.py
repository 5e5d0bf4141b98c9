"""The fixture must stay cheap: a reset plus one request per test, one start per session.

Targets (docs/pytest-plugin.md): reset + request < 2 ms, session start < 300 ms. The bounds
asserted here are several times looser, so a loaded CI machine does not make them flaky;
the measured numbers are kept in the report's ``user_properties`` (for plugins and
``--junitxml``).
"""

from __future__ import annotations

import statistics
import time

from mockserver.pytest_plugin import ServerPool


def test_reset_plus_one_request_is_cheap(runagents_mock, request):
    samples = []
    for i in range(120):
        started = time.perf_counter()
        runagents_mock.reset()
        answer = runagents_mock.request("GET", "/api/agents")
        elapsed = time.perf_counter() - started
        assert answer.status_code == 200
        if i >= 20:  # the first ones warm the connection
            samples.append(elapsed)
    median_ms = statistics.median(samples) * 1000
    request.node.user_properties.append(("reset_plus_request_median_ms", round(median_ms, 3)))
    assert median_ms < 10, f"reset + one request took {median_ms:.2f} ms (median)"


def test_a_server_starts_quickly(request):
    pool = ServerPool(strict=True)
    started = time.perf_counter()
    # Settings no other test uses: a new app and server (the spec is parsed once per process,
    # so this is the cost of every server after a session's first).
    handle = pool.get({"journal_size": 999})
    assert handle.request("GET", "/api/agents").status_code == 200
    elapsed_ms = (time.perf_counter() - started) * 1000
    pool.stop_all()
    request.node.user_properties.append(("server_start_ms", round(elapsed_ms, 1)))
    assert elapsed_ms < 1500, f"starting a server took {elapsed_ms:.0f} ms"
