"""A workspace's auth settings (``/api/v1/settings/auth``) and the public face of its API keys
(``/api/v1/auth/api-keys``).

The keys themselves are the server's (``services/workspace_keys.py``, also minted on the control
API): the platform reaches them through ``platform.keys``. The settings hold one value, the
console's session idle timeout, which the mock keeps and answers back (it has no console
sessions); the bounds are the mock's choice (docs/june-api.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...spec.security import WORKSPACE_KEY_PREFIX
from ..state import Persistent, scalar

if TYPE_CHECKING:
    from ..ports import PlatformPort

DEFAULT_IDLE_MINUTES = 60
MIN_IDLE_MINUTES, MAX_IDLE_MINUTES = 5, 1440  # also the `const`s of AuthSettings in openapi-v1.yaml


class AuthSettingsBackend(Persistent):
    STATE = (scalar("idle_minutes", int, export_as="session_idle_timeout_minutes"),)

    def __init__(self, platform: PlatformPort) -> None:
        self.platform = platform
        self.idle_minutes = DEFAULT_IDLE_MINUTES

    def view(self) -> dict[str, Any]:
        return {
            "sessionIdleTimeoutMinutes": self.idle_minutes,
            "minSessionIdleTimeoutMinutes": MIN_IDLE_MINUTES,
            "maxSessionIdleTimeoutMinutes": MAX_IDLE_MINUTES,
            "programmaticHeader": "X-RunAgents-API-Key",
            "apiKeyPrefix": WORKSPACE_KEY_PREFIX,
            "apiKeyCount": self.platform.keys.count(self.platform.workspace) if self.platform.keys else 0,
        }

    def update(self, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.platform.lock:
            self.idle_minutes = int(body["sessionIdleTimeoutMinutes"])
        return self.view()
