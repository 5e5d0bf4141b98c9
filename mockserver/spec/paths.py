"""Where the runtime surface lives (no imports: the dispatcher and the RSGI bridge read it)."""

from __future__ import annotations

EGRESS_PREFIX = "/_egress/"  # /_egress/<namespace>/<agent>/<tool>/<path on the tool>
LLM_PREFIX = "/_llm/"  # /_llm/<namespace>/<agent>/[v1/]chat/completions
OAUTH_CALLBACK = "/_oauth/callback"
INGRESS_PREFIX = "/_ingress/"  # /_ingress/<namespace>/<agent>/invoke with a JWT; /_ingress/jwks.json
JWKS_PATH = "/_ingress/jwks.json"
RUNTIME_PREFIXES = (EGRESS_PREFIX, LLM_PREFIX, OAUTH_CALLBACK, INGRESS_PREFIX)


def is_runtime_path(path: str) -> bool:
    return path.startswith(RUNTIME_PREFIXES)


def may_block(method: str, path: str) -> bool:
    """Requests whose answer may wait on another HTTP server (a forwarded tool call, an agent
    behind invoke): a server with one event loop runs them on a thread."""
    return path.startswith((EGRESS_PREFIX, INGRESS_PREFIX)) or (
        method == "POST" and path.startswith("/api/agents/") and path.endswith("/invoke"))
