"""``python -m bench hardening [--server granian|waitress] [--cases ...]``: hostile clients at size.

Starts ``runagents-mock serve`` on loopback and reports, for each case, whether ordinary
requests kept being answered, how long they waited, and the server's memory. Too slow and too
large for the test suite (tests/security/test_connection_limits.py runs the same shapes small).

Cases: ``attacks`` (issue 11: silent and stalled connections, refused large bodies, a long
``max_tokens`` reply; default settings), then on a server started with ``--idle-timeout`` and
``--body-timeout`` of ``--timeout`` seconds (default 5): ``idle`` (keep-alive connections that
go quiet after one request), ``slow`` (clients trickling their headers or body a byte at a
time) and ``soak`` (mixed traffic from many clients for ``--soak-seconds``, memory before and
after), and ``import`` (issue 23 item 13: ``PUT /_mock/state`` of an export of
``--import-events`` events, ~200 MB by default, and the server's peak memory while it loads).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import requests

AUTH = {"Authorization": "Bearer bench"}


CASES = ("attacks", "idle", "slow", "soak", "import")


def _serve(server: str, *extra: str) -> tuple[subprocess.Popen[str], str]:
    # No access log: it would measure the log, and the pipe is drained but not kept.
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockserver.web.cli",
            "serve",
            "--port",
            "0",
            "--server",
            server,
            "--log-level",
            "warning",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "serving on http://" in line:
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # never let it block on output
            return proc, line.rsplit(" ", 1)[-1].strip()
    raise RuntimeError("runagents-mock did not start")


def _address(url: str) -> tuple[str, int]:
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    return host, int(port)


def _rss_mib(pid: int) -> int:
    """The server's resident memory, its granian worker included."""
    out = subprocess.run(["ps", "-eo", "pid,ppid,rss"], capture_output=True, text=True).stdout.split("\n")[1:]
    rows = [line.split() for line in out if line.strip()]
    return sum(int(rss) for p, pp, rss in rows if int(p) == pid or int(pp) == pid) // 1024


def _memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (the peak) of the server's largest process: granian's worker holds the state."""
    found: dict[str, int] = {}
    for candidate in [pid, *_children(pid)]:
        try:
            lines = Path(f"/proc/{candidate}/status").read_text().splitlines()
        except OSError:
            continue
        fields = {
            k: int(v.split()[0]) for k, _, v in (line.partition(":") for line in lines) if k in ("VmRSS", "VmHWM")
        }
        if fields.get("VmHWM", 0) > found.get("VmHWM", 0):
            found = fields
    return found


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid,ppid"], capture_output=True, text=True).stdout.split("\n")[1:]
    return [int(p) for p, pp in (line.split() for line in out if line.strip()) if int(pp) == pid]


def _import(server: str, events: int) -> str:
    """An export of ``events`` run events written to a file, then PUT /_mock/state from it (sent
    as a stream); the peak is the serving process's VmHWM over its resident size before the PUT."""
    from .scale import write_state

    proc, url = _serve(server)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "state.json"
            seeded = json.loads(requests.get(url + "/_mock/state", headers=AUTH, timeout=60).content)
            write_state(path, seeded, events)
            size = path.stat().st_size
            before = _memory_kib(proc.pid)
            started = time.monotonic()
            with open(path, "rb") as body:
                answer = requests.put(
                    url + "/_mock/state",
                    data=body,
                    headers={**AUTH, "Content-Type": "application/json", "Content-Length": str(size)},
                    timeout=1800,
                )
            took = time.monotonic() - started
            after = _memory_kib(proc.pid)
        return (
            f"{size / 2**20:.0f} MiB export of {events:,} events: {answer.status_code} in {took:.1f} s; "
            f"peak {(after['VmHWM'] - before['VmRSS']) // 1024} MiB over the {before['VmRSS'] // 1024} MiB "
            f"before, {(after['VmRSS'] - before['VmRSS']) // 1024} MiB more held after"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=60)


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
    with ExitStack() as stack:
        for index in range(count):
            sock = stack.enter_context(socket.create_connection(_address(url)))
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
    requests.post(
        url + "/api/model-providers",
        headers=AUTH,
        timeout=10,
        json={
            "name": "p",
            "spec": {
                "provider": "openai",
                "endpoint": "https://api.openai.com",
                "models": ["m"],
                "auth": {"type": "None"},
            },
        },
    )
    words = " ".join(["w"] * 16_000)
    done: list[float] = []

    def chat() -> None:
        started = time.monotonic()
        requests.post(
            url + "/v1/chat/completions",
            headers=AUTH,
            timeout=120,
            json={"model": "m", "messages": [{"role": "user", "content": words}], "max_tokens": 15_999},
        )
        done.append(time.monotonic() - started)

    thread = threading.Thread(target=chat)
    thread.start()
    probes = _probes(url, 5)
    thread.join()
    return f"16,000 words cut at 15,999 tokens in {done[0]:.2f} s; meanwhile {probes}"


# --- this round's cases: idle keep-alive connections, slow clients, a soak ---------------------


def _idle(url: str, count: int, timeout: float) -> str:
    """``count`` keep-alive connections each send one request, read the answer, then go quiet.
    Probes while they idle; then how many the server closed within the idle timeout + 3 s."""
    request = f"GET /api/tools HTTP/1.1\r\nHost: 127.0.0.1\r\n{AUTH_LINE}\r\n\r\n".encode()
    with ExitStack() as stack:
        socks = []
        for _ in range(count):
            sock = stack.enter_context(socket.create_connection(_address(url)))
            sock.sendall(request)
            socks.append(sock)
        answered = sum(_read_answer(sock) for sock in socks)
        went_idle = time.monotonic()
        probes = _probes(url)
        closed = _wait_closed(socks, went_idle + timeout + 3)
        return (
            f"{answered}/{count} answered then idle; meanwhile {probes}; closed by the server "
            f"{closed}/{count} within {timeout:g} s + 3 s"
        )


def _slow(url: str, count: int, timeout: float, every: float = 0.5) -> str:
    """``count`` clients trickle a request one byte every ``every`` seconds: half their headers,
    half a 100-byte body. Probes meanwhile; then how each was ended, and when."""
    headers = f"GET /api/tools HTTP/1.1\r\nHost: 127.0.0.1\r\n{AUTH_LINE}\r\nX-Slow: {'a' * 200}\r\n\r\n".encode()
    body_head = (
        f"POST /runs HTTP/1.1\r\nHost: 127.0.0.1\r\n{AUTH_LINE}\r\nContent-Type: application/json\r\n"
        "Content-Length: 100\r\n\r\n"
    ).encode()
    with ExitStack() as stack:
        socks, pending = [], []
        for index in range(count):
            sock = stack.enter_context(socket.create_connection(_address(url)))
            if index % 2:
                sock.sendall(body_head)
                pending.append(b"{" + b" " * 99)
            else:
                pending.append(headers)
            socks.append(sock)
        started = time.monotonic()
        outcome: dict[int, tuple[str, float]] = {}
        probes: list[str] = []
        prober = threading.Thread(target=lambda: probes.append(_probes(url)))
        prober.start()
        deadline = started + timeout * 3 + 2
        while len(outcome) < count and time.monotonic() < deadline:
            for index, sock in enumerate(socks):
                if index in outcome:
                    continue
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        data = b""
                    kind = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "closed"
                    outcome[index] = (kind, time.monotonic() - started)
                elif pending[index]:
                    try:
                        sock.send(pending[index][:1])
                        pending[index] = pending[index][1:]
                    except OSError:
                        outcome[index] = ("closed", time.monotonic() - started)
            time.sleep(every)
        prober.join()
    kinds: dict[str, list[float]] = {}
    for kind, when in outcome.values():
        kinds.setdefault(kind, []).append(when)
    ended = ", ".join(
        f"{len(times)} {kind} after {min(times):.1f}-{max(times):.1f} s" for kind, times in sorted(kinds.items())
    )
    return (
        f"{count} trickling clients: {ended or 'none ended'}, {count - len(outcome)} still open; meanwhile {probes[0]}"
    )


def _soak(url: str, pid: int, seconds: float, clients: int) -> str:
    """``clients`` threads of mixed traffic (list, create + delete a tool, read a run, a chat
    reply) for ``seconds``; the state stays the same size, so memory growth would be a leak."""
    requests.post(url + "/api/starter-kit", headers=AUTH, timeout=10)
    run_id = requests.post(url + "/runs", headers=AUTH, timeout=10, json={"agent_id": "soak", "user_id": "u"}).json()[
        "id"
    ]
    before = _rss_mib(pid)
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        session = requests.Session()
        session.headers.update(AUTH)
        mine, failed, tool = [], 0, f"soak-{number}"
        calls: list[tuple[str, str, dict[str, Any] | None]] = [
            ("GET", "/api/tools", None),
            ("POST", "/api/tools", {"name": tool, "base_url": "https://example.com"}),
            ("GET", f"/runs/{run_id}", None),
            ("DELETE", f"/api/tools/{tool}", None),
            ("POST", "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}),
        ]
        index = 0
        while time.monotonic() < deadline:
            method, path, body = calls[index % len(calls)]
            index += 1
            started = time.perf_counter()
            try:
                status = session.request(method, url + path, json=body, timeout=30).status_code
                failed += status >= 500
            except requests.RequestException:
                failed += 1
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            errors.append(failed)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99)] * 1000 if latencies else 0.0
    return (
        f"{len(latencies):,} requests in {seconds:g} s from {clients} clients ({len(latencies) / seconds:.0f}/s), "
        f"{sum(errors)} errors or 5xx, p99 {p99:.1f} ms; RSS {before} -> {_rss_mib(pid)} MiB"
    )


AUTH_LINE = "Authorization: Bearer bench"


def _read_answer(sock: socket.socket) -> bool:
    sock.settimeout(10)
    try:
        return sock.recv(65536).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def _wait_closed(socks: list[socket.socket], deadline: float) -> int:
    open_socks = list(socks)
    closed = 0
    while open_socks and time.monotonic() < deadline:
        readable, _, _ = select.select(open_socks, [], [], 0.25)
        for sock in readable:
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                closed += 1
                open_socks.remove(sock)
    return closed


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench hardening", description=(__doc__ or "").split("\n")[0])
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", choices=("granian", "waitress"), default="granian")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated subset of {','.join(CASES)}")
    parser.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        help="--idle-timeout and --body-timeout of the server for idle/slow/soak (default 5)",
    )
    parser.add_argument("--idle-connections", type=int, default=1000, help="idle case: connections (default 1000)")
    parser.add_argument("--slow-clients", type=int, default=200, help="slow case: clients (default 200)")
    parser.add_argument("--soak-seconds", type=float, default=60.0, help="soak case: seconds (default 60)")
    parser.add_argument("--soak-clients", type=int, default=16, help="soak case: client threads (default 16)")
    parser.add_argument(
        "--import-events", type=int, default=750_000, help="import case: events in the export (default 750000, ~200 MB)"
    )


def run_hardening(args: argparse.Namespace) -> int:
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        print(f"unknown cases: {', '.join(unknown)}; choose from {', '.join(CASES)}", file=sys.stderr)
        return 2
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 20_000), hard))
    if "attacks" in cases:
        proc, url = _serve(args.server)
        try:
            steps: list[tuple[str, Callable[[], str]]] = [
                ("1,100 silent connections", lambda: _with_sockets(url, 1100, lambda i: b"")),
                (
                    "1,100 stalled in headers or bodies",
                    lambda: _with_sockets(
                        url,
                        1100,
                        lambda i: (
                            b"GET /api/tools HTTP/1.1\r\n"
                            if i % 2
                            else b"POST /runs HTTP/1.1\r\nAuthorization: Bearer bench\r\nContent-Length: 50\r\n\r\n{"
                        ),
                    ),
                ),
                ("40 refused 4.9 MiB bodies", lambda: _large_bodies(url)),
                ("quadratic max_tokens", lambda: _chat(url)),
            ]
            print(f"server: {args.server}, RSS {_rss_mib(proc.pid)} MiB at start")
            for name, step in steps:
                print(f"{name}: {step()} (RSS {_rss_mib(proc.pid)} MiB)", flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    if "import" in cases:
        print(f"import ({args.server}): {_import(args.server, args.import_events)}", flush=True)
    later = [c for c in cases if c not in ("attacks", "import")]
    if later:
        timeout = f"{args.timeout:g}"
        proc, url = _serve(args.server, "--idle-timeout", timeout, "--body-timeout", timeout)
        try:
            print(
                f"server: {args.server} --idle-timeout {timeout} --body-timeout {timeout}, "
                f"RSS {_rss_mib(proc.pid)} MiB at start"
            )
            for case in later:
                if case == "idle":
                    result = _idle(url, args.idle_connections, args.timeout)
                elif case == "slow":
                    result = _slow(url, args.slow_clients, args.timeout)
                else:
                    result = _soak(url, proc.pid, args.soak_seconds, args.soak_clients)
                print(f"{case}: {result} (RSS {_rss_mib(proc.pid)} MiB)", flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_hardening(build_parser().parse_args(argv))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
