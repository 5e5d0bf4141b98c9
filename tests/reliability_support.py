"""Helpers shared by tests/reliability and tests/security.

Everything here talks to a real served mock over loopback only (127.0.0.1), and every wait is
bounded: each helper takes or applies a deadline so a hung server fails a test instead of
hanging the suite.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from mockserver.testkit.live_server import LiveServer

API_KEY = "reliability-key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
HTTP_TIMEOUT = 10  # seconds; no single request in these tests should come near it
LOOPBACK = "127.0.0.1"


# --- talking to a served mock ---------------------------------------------------------


class Client:
    """A requests session bound to one base URL, with auth and a timeout on every call."""

    def __init__(
        self, base_url: str, headers: Mapping[str, str] | None = AUTH, admin_headers: Mapping[str, str] | None = None
    ):
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers.update(dict(headers or {}))
        # The control API may take another key (--admin-key); default: the same headers.
        self.admin_headers = dict(admin_headers) if admin_headers is not None else dict(headers or {})

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        return self.session.request(method, self.base_url + path, **kwargs)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, json_body: Any = None, **kw: Any) -> requests.Response:
        return self.request("POST", path, json=json_body, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)

    def ok(self, method: str, path: str, json_body: Any = None, expect: int | Sequence[int] = (200, 201, 202)) -> Any:
        """A call that must succeed; returns the JSON body."""
        response = self.request(method, path, json=json_body)
        wanted = (expect,) if isinstance(expect, int) else tuple(expect)
        assert response.status_code in wanted, f"{method} {path} -> {response.status_code} {response.text[:300]}"
        return response.json()

    # The control API, with the admin headers.
    def control(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = {**self.admin_headers, **kw.pop("headers", {})}
        if "Authorization" not in headers:
            headers["Authorization"] = None  # drop the session's API key rather than send it
        return self.request(method, path, headers=headers, **kw)

    def state_bytes(self) -> bytes:
        response = self.control("GET", "/_mock/state")
        assert response.status_code == 200, response.text[:300]
        return response.content

    def state(self) -> dict[str, Any]:
        return json.loads(self.state_bytes())

    def journal(self) -> list[dict[str, Any]]:
        response = self.control("GET", "/_mock/journal")
        assert response.status_code == 200, response.text[:300]
        return response.json()

    def reset(self) -> None:
        assert self.control("POST", "/_mock/reset").status_code == 200

    def advance(self, seconds: float) -> None:
        assert self.control("POST", "/_mock/clock/advance", json={"seconds": seconds}).status_code == 200

    def is_healthy(self) -> bool:
        """The server still answers an ordinary request, quickly."""
        try:
            return self.get("/api/tools", timeout=3).status_code == 200
        except requests.RequestException:
            return False


@contextmanager
def live_mock(config: Mapping[str, Any] | None = None, threads: int = 8) -> Iterator[LiveServer]:
    """An in-process mock on a free loopback port (waitress, like `runagents-mock serve`)."""
    live = LiveServer(config, host=LOOPBACK, threads=threads).start()
    try:
        yield live
    finally:
        live.stop()


def freeze_clock(live: LiveServer) -> None:
    """Stop the mock's clock (``/_mock/clock/advance`` still moves it).

    Builds, provider readiness and expiries are worked out lazily from the clock when read,
    so with real time a read that fails can still store a status that time changed. Freezing
    the clock leaves requests as the only thing that can change state.
    """
    clock = live.mock.platform.clock
    frozen = clock.now()
    clock.now = lambda: frozen + clock.offset  # type: ignore[method-assign]


# --- `runagents-mock serve` in a subprocess -------------------------------------------


class ServedMock:
    """``runagents-mock serve`` in a subprocess, with stdout and stderr captured in full.

    The mock prints ``runagents-mock serving on http://HOST:PORT`` once it listens;
    ``--port 0`` lets it pick a free port, read back from that line.
    """

    START_TIMEOUT = 15.0

    def __init__(self, *args: str | os.PathLike[str], env: Mapping[str, str] | None = None):
        self.args = [str(a) for a in args]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mockserver.web.cli", "serve", "--port", "0", *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            env={**os.environ, **(env or {})},
        )
        self._out: list[str] = []
        self._err: list[str] = []
        self._serving = threading.Event()
        self._readers = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self._out), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self._err), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self.url = ""

    def _pump(self, stream, sink: list[str]) -> None:
        for line in stream:
            sink.append(line)
            if "serving on http://" in line:
                self.url = line.rsplit(" ", 1)[-1].strip()
                self._serving.set()

    @property
    def server(self) -> str:
        """The HTTP server it runs on: granian unless ``--server waitress`` was given."""
        return "waitress" if "waitress" in self.args else "granian"

    def wait_serving(self) -> ServedMock:
        deadline = time.monotonic() + self.START_TIMEOUT
        while not self._serving.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"runagents-mock did not start (exit {self.proc.returncode}):\n{self.output}")
        return self

    def client(
        self, headers: Mapping[str, str] | None = AUTH, admin_headers: Mapping[str, str] | None = None
    ) -> Client:
        return Client(self.url, headers, admin_headers)

    @property
    def stdout(self) -> str:
        return "".join(self._out)

    @property
    def stderr(self) -> str:
        return "".join(self._err)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def wait_exit(self, timeout: float = 10.0) -> int:
        """The exit code; kills the server and fails when it is still running after ``timeout``."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"runagents-mock still running after {timeout}s:\n{self.output}") from None
        for reader in self._readers:
            reader.join(timeout=5)
        return code

    def refuses_to_start(self, timeout: float = 10.0) -> int:
        """For a start that must fail: the exit code. Fails (and stops the server) as soon as it
        serves instead, or when it neither serves nor exits within ``timeout``."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if self._serving.is_set() or time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"runagents-mock started instead of refusing:\n{self.output}")
            time.sleep(0.02)
        return self.wait_exit(timeout)

    def terminate(self, timeout: float = 10.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.wait_exit(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=5)

    def __enter__(self) -> ServedMock:
        return self.wait_serving()

    def __exit__(self, *exc: Any) -> None:
        self.kill()


# --- raw HTTP (for what requests refuses to send) -------------------------------------


def host_port(base_url: str) -> tuple[str, int]:
    host, port = base_url.split("://", 1)[1].rsplit(":", 1)
    return host, int(port)


def raw_request(base_url: str, data: bytes, timeout: float = 5.0) -> bytes:
    """Send bytes as they are and read until the server closes (or ``timeout`` passes)."""
    with socket.create_connection(host_port(base_url), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def parse_raw_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names; repeats joined) and body of one raw response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return status, headers, body


def http_request_bytes(
    method: str,
    path: str,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    extra_header_lines: Sequence[bytes] = (),
) -> bytes:
    """One HTTP/1.1 request, closing the connection after it."""
    lines = [f"{method} {path} HTTP/1.1".encode("latin-1"), b"Host: 127.0.0.1", b"Connection: close"]
    for name, value in {**AUTH, **(headers or {})}.items():
        lines.append(f"{name}: {value}".encode("latin-1"))
    lines.extend(extra_header_lines)
    if body:
        lines.append(f"Content-Length: {len(body)}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


# --- running things at the same time --------------------------------------------------


def run_together(tasks: Sequence[Callable[[], Any]], timeout: float = 30.0) -> list[Any]:
    """Run every task on its own thread, released at once by a barrier, and return results
    in task order. An exception in a task is re-raised here; a task still running after
    ``timeout`` fails the test."""
    barrier = threading.Barrier(len(tasks))

    def start(task: Callable[[], Any]) -> Any:
        barrier.wait(timeout)
        return task()

    pool = ThreadPoolExecutor(max_workers=len(tasks))
    try:
        futures = [pool.submit(start, task) for task in tasks]
        deadline = time.monotonic() + timeout
        return [f.result(timeout=max(0.1, deadline - time.monotonic())) for f in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # never hang here on a stuck task


def json_error(response: requests.Response) -> str:
    """The ``error`` string of a JSON error answer (fails when the answer is not one)."""
    assert response.headers.get("Content-Type", "").split(";")[0] == "application/json", (
        f"{response.status_code} answered with {response.headers.get('Content-Type')!r}: {response.text[:200]}"
    )
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str), body
    return body["error"]


def write_state_file(path: Path, state: Any) -> None:
    path.write_text(state if isinstance(state, str) else json.dumps(state), encoding="utf-8")


# --- fixtures (imported by the reliability and security conftests) -------------------------


@pytest.fixture(scope="module", params=["served", "in-process"])
def live(request):
    """Each test runs against both ways users run the mock: ``runagents-mock serve`` (granian,
    in its own process) and the in-process waitress server of the pytest plugin. One server
    per module: starting one per test would cost more than the tests."""
    if request.param == "served":
        with ServedMock() as served:
            yield served
    else:
        with live_mock(threads=8) as server:
            yield server


def fresh_client(server) -> Client:
    """A client of ``server`` with the mock emptied first."""
    c = Client(server.url)
    c.reset()
    return c


@pytest.fixture
def client(live) -> Client:
    return fresh_client(live)
