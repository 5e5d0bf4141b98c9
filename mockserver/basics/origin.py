"""Whether a request may come from a web page: the Origin and Host rules of the mock and the proxy.

A local server that acts on what it receives (the mock's state, the proxy's lent API key) must
not be drivable by whatever page the developer has open in a browser:

- **Host** must name the served address (DNS rebinding points a page's own name at 127.0.0.1,
  and the browser then sends that name): an IP literal (a page reached by IP is its own origin,
  not a rebound name), ``localhost``, or a name allowed explicitly; and the served port.
- **Origin**, when a browser sends one, must be the server's own (``http://`` + the Host the
  request came to) or one allowed explicitly. ``null`` (sandboxed frames, ``file://``) is
  foreign. ``Sec-Fetch-Site: cross-site``/``same-site`` without an Origin (a GET a page makes
  with ``<img>``/``fetch(no-cors)``) is foreign too.

Clients that are not browsers (SDKs, CLIs, curl) send neither Origin nor Sec-Fetch-Site, so
they are unaffected. The rules are plain functions over a WSGI environ, so the mock's request
pipeline and the proxy apply the same ones.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LOCAL_NAMES = frozenset({"localhost"})
_FOREIGN_FETCH_SITES = frozenset({"cross-site", "same-site"})


def _split_host(host: str) -> tuple[str, int | None] | None:
    """``name:port`` / ``[v6]:port`` / ``name`` -> (lower-case name, port or None); None if malformed."""
    host = host.strip().lower()
    if not host:
        return None
    if host.startswith("["):
        name, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port_text = rest[1:] if rest else ""
        name = f"[{name}]"
    else:
        name, _, port_text = host.partition(":")
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            return None
        return name, int(port_text)
    return name, None


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name[1:-1] if name.startswith("[") else name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class OriginPolicy:
    """The rules for one served address. ``port`` None: any port (an address not known yet)."""

    port: int | None = None
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)  # extra names (--allow-host)
    allowed_origins: frozenset[str] = field(default_factory=frozenset)  # extra origins (--allow-origin)

    def host_problem(self, host: str | None) -> str | None:
        """Why this Host header is not the served address; None when it is."""
        if not host:
            return None  # HTTP/1.0 without Host: no browser sends that
        parsed = _split_host(host)
        if parsed is None:
            return f"Host {host!r} is not a host name"
        name, port = parsed
        if not (_is_ip_literal(name) or name in LOCAL_NAMES or name in self.allowed_hosts):
            return (
                f"Host {host!r} is not this server's address (a name the browser was pointed at); "
                "allow it with --allow-host NAME"
            )
        if self.port is not None and (port or 80) != self.port:
            return f"Host {host!r} names another port than this server's {self.port}"
        return None

    def origin_problem(self, origin: str | None, host: str | None, fetch_site: str | None) -> str | None:
        """Why a browser page on another origin sent this; None for the server's own pages
        and for clients that are not browsers."""
        if origin is not None:
            origin = origin.strip().rstrip("/").lower()
            own = {f"http://{host.strip().lower()}", f"https://{host.strip().lower()}"} if host else set()
            if origin in own or origin in {o.rstrip("/").lower() for o in self.allowed_origins}:
                return None
            return f"a page on another origin ({origin}) may not use this server; allow it with --allow-origin ORIGIN"
        if (fetch_site or "").strip().lower() in _FOREIGN_FETCH_SITES:
            return "a page on another site may not use this server (Sec-Fetch-Site: cross-site)"
        return None

    def refusal(self, environ: Mapping[str, Any]) -> str | None:
        """The first rule a WSGI request breaks, as a message for a 403; None when it may pass."""
        host = environ.get("HTTP_HOST")
        return self.host_problem(host) or self.origin_problem(
            environ.get("HTTP_ORIGIN"), host, environ.get("HTTP_SEC_FETCH_SITE")
        )
