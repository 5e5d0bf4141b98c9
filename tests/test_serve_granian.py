"""`runagents-mock serve` on granian, its default server: readiness, shutdown, ports."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

pytest.importorskip("granian")

from mockserver.testkit.state_file import read_store


def serve(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver.web.cli", "serve", "--server", "granian", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    match = re.search(r"http://[\d.]+:\d+", line)
    assert match, line + proc.stderr.read()
    url = match.group(0)
    # The URL line promises the port answers: the very first request must get through.
    assert call("GET", url + "/api/tools", "k")[0] == 200
    return proc, url


def call(method: str, url: str, key: str | None = None, body: dict | None = None) -> tuple[int, object]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method), timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_granian_serves_the_same_api_and_saves_state_on_sigterm(tmp_path):
    state = tmp_path / "state.json"
    proc, url = serve("--state-file", str(state))
    try:
        assert call("GET", url + "/api/tools")[0] == 401
        status, _ = call("POST", url + "/api/tools", "k", {"name": "t1", "base_url": "https://x.example"})
        assert status == 201
    finally:
        proc.send_signal(signal.SIGTERM)  # right away: the last save must come from the shutdown
        out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0 and "stopped" in out
    assert [t["name"] for t in read_store(state)["tools"]["items"]] == ["t1"]


def test_granian_refuses_a_bad_state_file(tmp_path):
    state = tmp_path / "state.json"
    state.write_text("{not json")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mockserver.web.cli",
            "serve",
            "--server",
            "granian",
            "--port",
            "0",
            "--state-file",
            str(state),
        ],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert proc.returncode == 2 and f"state file {state} is corrupt" in proc.stderr


def test_granian_worker_ends_with_its_main_process():
    proc, url = serve()
    proc.kill()
    proc.wait(timeout=5)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            call("GET", url + "/api/tools", "k")
        except OSError:
            return
        time.sleep(0.1)
    raise AssertionError("the worker kept serving after its main process was killed")


def test_a_port_in_use_is_refused_not_shared():
    # granian binds with SO_REUSEPORT; a second mock must not quietly share the first one's port.
    first, url = serve()
    try:
        port = url.rsplit(":", 1)[1]
        second = subprocess.run(
            [sys.executable, "-m", "mockserver.web.cli", "serve", "--port", port],
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert second.returncode == 2
        assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=15)


def test_readiness_holds_on_every_start():
    # A start whose first request hangs (a worker forked while a thread held a lock) must not
    # come back: several starts in a row, each answered at once.
    for _ in range(3):
        proc, url = serve()
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)
        assert proc.returncode == 0
