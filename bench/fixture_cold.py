"""One cold fixture start-up in a fresh interpreter, as a pytest session pays it:
import the mock, build the app, start LiveServer, get the first answer. Prints JSON.

Run by bench.fixture_timing as ``python -m bench.fixture_cold``.
"""

from __future__ import annotations

import json
import time

started = time.perf_counter()

from mockserver.testing import LiveServer  # noqa: E402  (timed on purpose)

from .http_client import KeepAliveClient  # noqa: E402
from .workloads import AUTH_HEADERS  # noqa: E402

imported = time.perf_counter()
live = LiveServer()
created = time.perf_counter()
live.start()
status, _ = KeepAliveClient(live.url).request("GET", "/api/agents", AUTH_HEADERS)
answered = time.perf_counter()
live.stop()
print(json.dumps({
    "status": status,
    "import_ms": (imported - started) * 1000,
    "create_ms": (created - imported) * 1000,
    "first_answer_ms": (answered - created) * 1000,
    "total_ms": (answered - started) * 1000,
}))
