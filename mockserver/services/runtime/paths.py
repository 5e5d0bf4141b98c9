"""The one path a tool call is checked on and sent with (docs/runtime.md, *The path a tool receives*).

The mock's HTTP server has already percent-decoded the request path (``%2e%2e`` is ``..`` and
``%2F`` is ``/`` by the time the mock sees it), and an HTTP client would remove dot segments
from what it sends. So the proxy normalises the decoded path once here, and policies,
capabilities and the forwarded request all use the result: a tool can never receive a path
other than the one that was checked. What cannot be normalised without guessing is refused.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from ...basics.errors import ApiError

# Kept as they are when the path is encoded for sending (quote also keeps letters, digits and
# "-._~"): RFC 3986's sub-delims and the pchar punctuation. Everything else is percent-encoded,
# so HTTP clients send the result unchanged (requests re-quotes nothing in it).
_SAFE = "/!$&'()*+,;=:@"
# Still percent-encoded after the server decoded once: a dot, slash or backslash encoded twice,
# which a tool that decodes again would read as a dot segment or a separator.
_ENCODED_SEPARATOR = re.compile(r"%(2e|2f|5c)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def tool_path(decoded: str) -> str:
    """The path to check and send for ``decoded`` (the path after the tool's name, as the
    server decoded it): dot segments removed (RFC 3986 §5.2.4), runs of slashes made one,
    percent-encoded for sending. ApiError 400 for a path that climbs above the tool's base URL,
    holds a backslash or a control character, or a dot, slash or backslash encoded twice."""
    if "\\" in decoded:
        raise ApiError(400, "tool path must not contain a backslash")
    if _CONTROL.search(decoded):
        raise ApiError(400, "tool path must not contain control characters")
    if _ENCODED_SEPARATOR.search(decoded):
        raise ApiError(
            400, "tool path must not contain a percent-encoded '.', '/' or '\\' (encoded twice, it is ambiguous)"
        )
    segments = decoded.split("/")
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if not kept:
                raise ApiError(400, "tool path must not climb above the tool's base URL ('..')")
            kept.pop()
        elif segment not in (".", ""):
            kept.append(segment)
    # A path ending in a directory ("/a/", "/a/.", "/a/b/..") keeps its trailing slash.
    trailing = len(segments) > 1 and segments[-1] in ("", ".", "..") and bool(kept)
    return quote("/" + "/".join(kept) + ("/" if trailing else ""), safe=_SAFE)
