"""``python -m bench.hardening [--server granian|waitress]``: issue 11's reproductions, at size.

Starts ``runagents-mock serve`` on loopback and reports, for each attack, whether ordinary
requests kept being answered, how long they waited, and the server's memory. Too slow and too
large for the test suite (tests/security/test_connection_limits.py runs the same shapes small).
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from typing import Callable

import requests

AUTH = {"Authorization": "Bearer bench"}


def _serve(server: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "mockserver.web.cli", "serve", "--port", "0", "--server", server],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:  # type: ignore[union-attr]
        if "serving on http://" in line:
            return proc, line.rsplit(" ", 1)[-1].strip()
    raise RuntimeError("runagents-mock did not start")


def _rss_mib(pid: int) -> int:
    """The server's resident memory, its granian worker included."""
    out = subprocess.run(["ps", "-eo", "pid,ppid,rss"], capture_output=True, text=True).stdout.split("\n")[1:]
    rows = [line.split() for line in out if line.strip()]
    return sum(int(rss) for p, pp, rss in rows if int(p) == pid or int(pp) == pid) // 1024


def _probes(url: str, count: int = 20, timeout: float = 3.0) -> str:
    answered, worst = 0, 0.0
    for _ in range(count):
        started = time.monotonic()
        try:
            answered += requests.get(url + "/api/tools", headers=AUTH, timeout=timeout).status_code == 200
        except requests.RequestException:
            pass
        worst = max(worst, time.monotonic() - started)
    return f"{answered}/{count} probes answered, slowest {worst:.2f} s"


def _with_sockets(url: str, count: int, first_bytes: Callable[[int], bytes]) -> str:
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    with ExitStack() as stack:
        for index in range(count):
            sock = stack.enter_context(socket.create_connection((host, int(port))))
            if first_bytes(index):
                sock.sendall(first_bytes(index))
        time.sleep(0.5)
        return _probes(url)


def _large_bodies(url: str) -> str:
    body = b"[" + b"{}," * 1_600_000 + b"{}]"  # 4.9 MiB, a 400
    for _ in range(40):
        requests.post(url + "/runs", data=body, headers={**AUTH, "Content-Type": "application/json"}, timeout=60)
    started = time.monotonic()
    requests.get(url + "/_mock/journal", headers=AUTH, timeout=60)
    return f"journal read in {time.monotonic() - started:.2f} s"


def _chat(url: str) -> str:
    requests.post(url + "/api/model-providers", headers=AUTH, timeout=10, json={"name": "p", "spec": {
        "provider": "openai", "endpoint": "https://api.openai.com", "models": ["m"], "auth": {"type": "None"}}})
    words = " ".join(["w"] * 16_000)
    done: list[float] = []

    def chat() -> None:
        started = time.monotonic()
        requests.post(url + "/v1/chat/completions", headers=AUTH, timeout=120, json={
            "model": "m", "messages": [{"role": "user", "content": words}], "max_tokens": 15_999})
        done.append(time.monotonic() - started)

    thread = threading.Thread(target=chat)
    thread.start()
    probes = _probes(url, 5)
    thread.join()
    return f"16,000 words cut at 15,999 tokens in {done[0]:.2f} s; meanwhile {probes}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", choices=("granian", "waitress"), default="granian")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 20_000), hard))
    proc, url = _serve(args.server)
    try:
        steps = [
            ("1,100 silent connections", lambda: _with_sockets(url, 1100, lambda i: b"")),
            ("1,100 stalled in headers or bodies", lambda: _with_sockets(url, 1100, lambda i: (
                b"GET /api/tools HTTP/1.1\r\n" if i % 2 else
                b"POST /runs HTTP/1.1\r\nAuthorization: Bearer bench\r\nContent-Length: 50\r\n\r\n{"))),
            ("40 refused 4.9 MiB bodies", lambda: _large_bodies(url)),
            ("quadratic max_tokens", lambda: _chat(url)),
        ]
        print(f"server: {args.server}, RSS {_rss_mib(proc.pid)} MiB at start")
        for name, step in steps:
            print(f"{name}: {step()} (RSS {_rss_mib(proc.pid)} MiB)", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
