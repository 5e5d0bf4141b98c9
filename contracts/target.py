"""The server under test: a remote base URL, or a runagents-mock started in this process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests


class TargetError(RuntimeError):
    """The target cannot be tested: unreachable, or it refuses the API key."""


@dataclass
class Target:
    base_url: str
    in_process: bool
    _server: Any = None  # mockserver.testkit.live_server.LiveServer when in_process

    @classmethod
    def start(cls, base_url: str | None, api_key: str, mount: str = "") -> Target:
        """``mount``: where runagents-mock serves the API under test (``/api/v1`` for v1)."""
        if base_url:
            return cls(base_url.rstrip("/"), in_process=False)
        from mockserver.testkit.live_server import LiveServer

        # Accept only our key, like a real server would; any other key gets 401.
        server = LiveServer({"api_keys": (api_key,)}).start()
        return cls(server.url + mount, in_process=True, _server=server)

    def describe(self) -> str:
        return f"{self.base_url} (in-process runagents-mock)" if self.in_process else self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def preflight(self, session: requests.Session, path: str, headers: dict[str, str]) -> None:
        """One authenticated GET first, so an unreachable server or a refused key is one clear error.

        Without it a refused key would make every operation answer 401, which the spec documents,
        and the run would look green.
        """
        url = self.base_url + path
        try:
            response = session.get(url, headers=headers, timeout=30)
        except requests.RequestException as exc:
            raise TargetError(f"cannot reach {url}: {exc}") from None
        if response.status_code in (401, 403):
            raise TargetError(
                f"{url} refused the API key ({response.status_code} {response.text[:200]}); "
                "pass the right one with --api-key or $RUNAGENTS_API_KEY"
            )
