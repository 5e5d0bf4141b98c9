"""Forwarding a request to the upstream server and streaming its answer back."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from .config import ProxyConfig

CHUNK = 64 * 1024
# Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection and are never forwarded.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
    }
)


class UpstreamError(Exception):
    """The upstream could not be asked or did not answer; ``kind`` says how."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind  # unreachable, tls, timeout, broken
        self.message = message


def describe_error(exc: BaseException, upstream: str, timeout: float) -> UpstreamError:
    """One line for an urllib3 failure, naming the upstream and never a credential."""
    reason = getattr(exc, "reason", None) or exc
    if isinstance(reason, SSLError) or isinstance(exc, SSLError):
        return UpstreamError("tls", f"TLS error talking to {upstream}: {_short(reason)}")
    # NewConnectionError subclasses ConnectTimeoutError (urllib3 2): it goes first
    if isinstance(reason, NewConnectionError) or isinstance(exc, NewConnectionError):
        return UpstreamError("unreachable", f"upstream {upstream} is unreachable: {_short(reason)}")
    if isinstance(reason, (ConnectTimeoutError, ReadTimeoutError)) or isinstance(
        exc, (ConnectTimeoutError, ReadTimeoutError)
    ):
        return UpstreamError("timeout", f"upstream {upstream} did not answer within {timeout:g} s")
    if isinstance(exc, ProtocolError):
        return UpstreamError("broken", f"upstream {upstream} broke the connection: {_short(exc)}")
    return UpstreamError("unreachable", f"upstream {upstream} failed: {_short(reason)}")


def _short(exc: Any) -> str:
    text = " ".join(str(exc).split())
    # urllib3 prefixes the connection object's repr: keep the explanation after it
    text = text.split(">: ", 1)[-1]
    return text[:200]


class Upstream:
    """The server behind the proxy: one connection pool, shared by every worker thread."""

    def __init__(self, config: ProxyConfig, pool_size: int = 16):
        self.base = config.upstream.rstrip("/")
        self.timeout = config.timeout
        parts = urlsplit(self.base)
        self.display = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"  # no userinfo
        kwargs: dict[str, Any] = {
            "maxsize": pool_size,
            "block": False,
            "retries": False,
            "timeout": urllib3.Timeout(connect=config.timeout, read=config.timeout),
        }
        if config.insecure:
            kwargs["cert_reqs"] = "CERT_NONE"
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        elif config.ca_bundle:
            kwargs["ca_certs"] = config.ca_bundle
        self.pool = urllib3.PoolManager(**kwargs)

    def send(self, method: str, path_and_query: str, headers: Mapping[str, str], body: Any) -> urllib3.BaseHTTPResponse:
        """The upstream's answer, its body not read yet; UpstreamError when there is none."""
        try:
            return self.pool.urlopen(
                method,
                self.base + path_and_query,
                body=body,
                headers=dict(headers),
                redirect=False,
                preload_content=False,
                decode_content=False,
                assert_same_host=False,
            )
        except HTTPError as exc:
            raise describe_error(exc, self.display, self.timeout) from None
        except OSError as exc:
            raise UpstreamError("unreachable", f"upstream {self.display} failed: {_short(exc)}") from None

    def stream(self, response: urllib3.BaseHTTPResponse) -> Iterator[bytes]:
        """The body as it arrives (an SSE event as soon as it is sent); UpstreamError when the
        upstream stops sending midway."""
        complete = False
        try:
            while True:
                chunk = response.read1(CHUNK)
                if not chunk:
                    complete = True
                    return
                yield chunk
        except (HTTPError, OSError) as exc:
            raise describe_error(exc, self.display, self.timeout) from None
        finally:
            if not complete:  # the client left or the upstream broke: this connection is done
                response.close()
            response.release_conn()

    def close(self) -> None:
        self.pool.clear()


def forwarded_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """The client's headers as the upstream gets them: unchanged but for hop-by-hop ones."""
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").title()
            if name.lower() not in HOP_BY_HOP:
                headers[name] = value
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["Content-Length"] = environ["CONTENT_LENGTH"]
    return headers


def answer_headers(headers: Any) -> list[tuple[str, str]]:
    """The upstream's answer headers as the client gets them: unchanged but for hop-by-hop ones."""
    return [(name, value) for name, value in headers.items() if name.lower() not in HOP_BY_HOP]
