"""Helpers for the proxy's tests: a proxy in another process, and one in this process."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.proxy import ProxyApp, ProxyConfig
from mockserver.proxy.findings import Findings
from mockserver.proxy.recorder import SessionRecorder
from mockserver.testkit.live_server import LiveServer

REPO = Path(__file__).resolve().parents[2]


@dataclass
class ProxyProcess:
    url: str
    process: subprocess.Popen
    output: str = ""  # everything it printed, once stopped
    exit_code: int | None = None
    lines: list[str] = field(default_factory=list)

    def stop(self) -> None:
        """SIGTERM (like Ctrl-C): the proxy writes its reports and exits."""
        if self.exit_code is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            out, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
        self.output = "\n".join(self.lines) + "\n" + out + err
        self.exit_code = self.process.returncode


@contextmanager
def proxy_process(upstream: str, *extra: str) -> Iterator[ProxyProcess]:
    """``runagents-mock proxy --upstream URL --port 0 EXTRA`` in another process."""
    script = shutil.which("runagents-mock", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "mockserver.web.cli"]
    process = subprocess.Popen(
        [*command, "proxy", "--upstream", upstream, "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    proxy = None
    try:
        deadline = time.monotonic() + 30
        lines = []
        while proxy is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            match = re.search(r"serving on (http://\S+)", line)
            if match:
                proxy = ProxyProcess(match.group(1), process, lines=lines)
        if proxy is None:
            process.kill()
            raise RuntimeError(f"the proxy did not start: {''.join(lines)} {process.stderr.read()}")
        yield proxy
    finally:
        if proxy is not None:
            proxy.stop()
        elif process.poll() is None:
            process.kill()


@contextmanager
def proxy_in_process(upstream: str, **config: Any) -> Iterator[tuple[LiveServer, ProxyApp]]:
    """A ProxyApp on a loopback port in this process; its findings and recorder are inspectable."""
    lines: list[str] = []
    app = ProxyApp(
        ProxyConfig(upstream=upstream, **config), findings=Findings(f"-> {upstream}", "openapi.yaml", emit=lines.append)
    )
    app.recorder = SessionRecorder(app.surfaces)
    app.lines = lines  # type: ignore[attr-defined]
    live = LiveServer(app=app).start()  # type: ignore[arg-type]
    try:
        yield live, app
    finally:
        live.stop()
        app.close()
