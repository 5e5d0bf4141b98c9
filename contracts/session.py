"""The one HTTP session every request of a run goes through.

Generated requests, the unauthenticated probes and cleanup all use it, so the safety rules
live here and nowhere else:

- a read-only run sends nothing but GET (and HEAD/OPTIONS);
- ``/_mock/`` (the mock's control API) is refused unless the target is the in-process mock;
- ``429 Too Many Requests`` is retried after the ``Retry-After`` the server asked for, a
  bounded number of times, so a rate-limited account slows the run down instead of failing it.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CONTROL_API_MARKER = "/_mock/"

MAX_RATE_LIMIT_RETRIES = 5
# A server may ask for minutes; we never sleep longer than this per retry.
MAX_RETRY_WAIT_SECONDS = 30.0
# Used when a 429 carries no (readable) Retry-After.
DEFAULT_RETRY_WAIT_SECONDS = 1.0


class UnsafeRequestError(RuntimeError):
    """The kit refused to send a request because it would break one of its safety rules."""


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class ContractSession(requests.Session):
    def __init__(
        self,
        *,
        read_only: bool,
        allow_control_api: bool,
        max_retries: int = MAX_RATE_LIMIT_RETRIES,
        max_wait: float = MAX_RETRY_WAIT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ):
        super().__init__()
        self.read_only = read_only
        self.allow_control_api = allow_control_api
        self.max_retries = max_retries
        self.max_wait = max_wait
        self._sleep = sleep
        # For the report: how often the server rate-limited us, and how long we waited.
        self.rate_limited = 0
        self.waited_seconds = 0.0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self._refuse_unsafe(request)
        attempt = 0
        while True:
            response = super().send(request, **kwargs)
            if response.status_code != 429 or attempt >= self.max_retries:
                return response
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if wait is None:
                wait = DEFAULT_RETRY_WAIT_SECONDS * 2**attempt
            wait = min(wait, self.max_wait)
            response.close()  # schemathesis streams responses; give the connection back
            self.rate_limited += 1
            self.waited_seconds += wait
            self._sleep(wait)
            attempt += 1

    def _refuse_unsafe(self, request: requests.PreparedRequest) -> None:
        method = (request.method or "GET").upper()
        path = urlsplit(request.url or "").path
        if not self.allow_control_api and (CONTROL_API_MARKER in path or path.endswith("/_mock")):
            raise UnsafeRequestError(
                f"refusing {method} {path}: the /_mock/ control API is only used on the in-process mock"
            )
        if self.read_only and method not in READ_METHODS:
            raise UnsafeRequestError(f"refusing {method} {path}: this is a read-only run")
