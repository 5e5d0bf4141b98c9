"""The tool proxy's answer to an allowed call: a configured reply, the loopback tool itself, or
an echo (docs/runtime.md, *The tool proxy*).

Forwarding is the one runtime step that waits on another server, so it runs on a small pool of
its own (``basics.pool.BoundedPool``): a bounded number of calls at once, at most half of them for any one
agent, each given up after ``forward_timeout_seconds``. A call that finds no free slot is
answered 503 at once instead of taking one of the threads the rest of the mock is served on.

The address is decided once: the tool's base URL is parsed into validated pieces
(``parse_base_url``), the loopback check reads the host from them, and the forwarded URL is
built from the same pieces; the path is the one the egress checks ran on (``paths.tool_path``).
"""

from __future__ import annotations

import ipaddress
import json
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from werkzeug.wrappers import Request

from ..basics.jsonhttp import error_body, json_or_none
from ..basics.pool import BoundedPool, PoolBusy
from ..basics.redact import redact_headers
from ..services.policies.models import tool_url
from ..services.runtime.models import Allowed
from ..services.tools.models import BaseUrl, parse_base_url

if TYPE_CHECKING:
    from ..config import MockConfig
    from ..services.platform import Platform

Answer = tuple[int, bytes, str]  # status, body, content type
# Hop-by-hop and identity headers the proxy never passes on to a tool.
_DROPPED_HEADERS = frozenset(
    {"host", "authorization", "content-length", "connection", "transfer-encoding", "x-end-user-id", "accept-encoding"}
)
_CHUNK_BYTES = 64 * 1024


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback IP address, as ``BaseUrl.host`` holds it."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_target(allowed: Allowed) -> BaseUrl | None:
    """The tool's validated base URL when it is a loopback tool the proxy forwards to."""
    try:
        base = parse_base_url(tool_url(allowed.tool))
    except ValueError:  # stored before the rule existed: never connected to, only echoed
        return None
    return base if is_loopback_host(base.host) else None


class ToolProxy:
    """Answers allowed egress calls for one mock server."""

    def __init__(self, config: MockConfig):
        self.config = config
        self.timeout = config.forward_timeout_seconds
        self.pool = BoundedPool(config.forward_slots, max(1, config.forward_slots // 2))

    def answer(self, platform: Platform, allowed: Allowed, request: Request, body: bytes, caller: str) -> Answer:
        """A configured reply (of the call's workspace, ``platform``), else the tool itself when
        it is on loopback, else an echo. ``caller`` (the agent) is whose share of the
        forwarding pool the call uses."""
        reply = platform.runtime.tool_replies.get(allowed.tool["name"])
        if reply is not None:
            return int(reply.get("status", 200)), json.dumps(reply.get("body")).encode(), "application/json"
        target = loopback_target(allowed)
        if target is None:
            return 200, json.dumps(self._echo(allowed, request, body)).encode(), "application/json"
        name = allowed.tool["name"]
        headers = {**_outgoing_headers(allowed, request), **allowed.headers}
        url = self._url(target, allowed)
        try:
            future = self.pool.submit(caller, lambda: self._send(name, request.method, url, body, headers))
        except PoolBusy:
            return (
                503,
                error_body(
                    f"tool proxy busy: {self.pool.per_caller} calls of agent {caller} (or "
                    f"{self.pool.slots} in all) are already waiting on tools; retry later"
                ),
                "application/json",
            )
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            return self._late(name)

    @staticmethod
    def _url(target: BaseUrl, allowed: Allowed) -> str:
        """Built from the validated pieces: origin, base path, and the checked path and query
        (what ``check_tool_call`` appended to the base URL, already normalised and encoded)."""
        suffix = allowed.url[len(tool_url(allowed.tool)) :]
        url = target.origin + target.path + suffix
        if allowed.query:
            url += ("&" if "?" in suffix else "?") + urlencode(allowed.query)
        return url

    def _send(self, name: str, method: str, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        """The forwarded call; its answer is read up to --max-body-bytes (502 beyond)."""
        import requests  # on first use: a session start-up need not load it

        limit = self.config.max_body_bytes
        try:
            with requests.request(
                method,
                url,
                data=body or None,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
            ) as response:
                chunks, size = [], 0
                for chunk in response.iter_content(_CHUNK_BYTES):
                    size += len(chunk)
                    if size > limit:
                        return 502, error_body(f"tool {name} answered more than {limit} bytes"), "application/json"
                    chunks.append(chunk)
                return response.status_code, b"".join(chunks), response.headers.get("Content-Type", "application/json")
        except requests.Timeout:
            return self._late(name)
        except requests.RequestException as exc:
            return 502, error_body(f"tool {name} did not answer: {type(exc).__name__}"), "application/json"

    def _late(self, name: str) -> Answer:
        return 504, error_body(f"tool {name} did not answer within {self.timeout:g} seconds"), "application/json"

    def _echo(self, allowed: Allowed, request: Request, body: bytes) -> dict[str, Any]:
        """What the tool would have received, credentials redacted."""
        split = urlsplit(allowed.url)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        query.update({name: "***" for name in allowed.query})
        headers = redact_headers({**_outgoing_headers(allowed, request), **allowed.headers})
        parsed = json_or_none(body)
        return {
            "tool": allowed.tool["name"],
            "method": request.method,
            "url": f"{split.scheme}://{split.netloc}{split.path}",
            "path": split.path,
            "query": query,
            "headers": headers,
            "body": parsed if parsed is not None else body.decode("utf-8", "replace"),
        }


def _outgoing_headers(allowed: Allowed, request: Request) -> dict[str, str]:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROPPED_HEADERS}
    if allowed.end_user:
        headers["X-End-User-ID"] = allowed.end_user
    return headers
