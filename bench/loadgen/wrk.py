"""wrk as the load generator: one wrk thread, a Lua script that reports JSON when done."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from .base import LoadResult, LoadSpec

_MARK = "BENCH_RESULT "

# summary.errors.status counts answers outside 2xx/3xx; latency values are microseconds.
_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    "BENCH_RESULT ", summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def _lua_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def build_script(spec: LoadSpec) -> str:
    headers = "{" + ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in spec.headers.items()) + "}"
    body = _lua_string(spec.body.decode()) if spec.body is not None else "nil"
    lines = [f"wrk.method = {_lua_string(spec.method)}", f"wrk.body = {body}"]
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in spec.headers.items()]
    if len(spec.paths) == 1:
        # Static request: wrk builds it once, the cheapest way to drive the server.
        lines.append(f"wrk.path = {_lua_string(spec.paths[0])}")
    else:
        paths = "{" + ", ".join(_lua_string(p) for p in spec.paths) + "}"
        lines += [
            f"local paths = {paths}",
            f"local headers = {headers}",
            "local i = 0",
            "request = function()",
            "  i = i + 1",
            "  return wrk.format(wrk.method, paths[(i % #paths) + 1], headers, wrk.body)",
            "end",
        ]
    return "\n".join(lines) + "\n" + _DONE


def whole_seconds(duration: float) -> int:
    """wrk takes whole seconds only; round, but never below one."""
    return max(1, round(duration))


class WrkLoad:
    name = "wrk"

    def __init__(self, executable: str):
        self.executable = executable

    @classmethod
    def find(cls) -> WrkLoad | None:
        path = shutil.which("wrk")
        return cls(path) if path else None

    def run(self, spec: LoadSpec) -> LoadResult:
        with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
            script = Path(tmp) / "load.lua"
            script.write_text(build_script(spec))
            # One wrk thread: on a 2-core box the other core belongs to the server under test.
            argv = [
                self.executable,
                "-t1",
                f"-c{spec.concurrency}",
                f"-d{whole_seconds(spec.duration)}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                spec.base_url,
            ]
            done = subprocess.run(argv, capture_output=True, text=True, timeout=spec.duration + 60)
        line = next((ln for ln in done.stdout.splitlines() if ln.startswith(_MARK)), None)
        if done.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
        raw = json.loads(line[len(_MARK) :])
        seconds = raw["duration_us"] / 1e6
        socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
        ok = raw["requests"] > 0
        return LoadResult(
            requests=raw["requests"],
            seconds=seconds,
            rps=raw["requests"] / seconds if seconds else 0.0,
            p50_ms=raw["p50_us"] / 1000 if ok else None,
            p99_ms=raw["p99_us"] / 1000 if ok else None,
            errors=raw["status"] + socket_errors,
            detail={
                "p90_ms": raw["p90_us"] / 1000,
                "max_ms": raw["max_us"] / 1000,
                "mean_ms": raw["mean_us"] / 1000,
                "bad_status": raw["status"],
                "socket_errors": socket_errors,
                "bytes": raw["bytes"],
            },
        )
