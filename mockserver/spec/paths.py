"""The paths outside the API documents' routes: the runtime surface and the web pages (no imports:
the dispatcher, the RSGI bridge and the conformance check read them)."""

from __future__ import annotations

EGRESS_PREFIX = "/_egress/"  # /_egress/<namespace>/<agent>/<tool>/<path on the tool>
LLM_PREFIX = "/_llm/"  # /_llm/<namespace>/<agent>/[v1/]chat/completions
OAUTH_CALLBACK = "/_oauth/callback"
INGRESS_PREFIX = "/_ingress/"  # /_ingress/<namespace>/<agent>/invoke with a JWT; /_ingress/jwks.json
JWKS_PATH = "/_ingress/jwks.json"
# A named workspace's runtime path: /_workspaces/<ws> + one of the paths above, or + the agent
# runtime's keyless /runs/... calls (its GOVERNANCE_URL). Unprefixed, they are the default's.
WORKSPACE_RUNTIME_PREFIX = "/_workspaces/"
RUNTIME_PREFIXES = (EGRESS_PREFIX, LLM_PREFIX, OAUTH_CALLBACK, INGRESS_PREFIX, WORKSPACE_RUNTIME_PREFIX)


def runtime_prefix(workspace: str | None) -> str:
    """What a workspace's runtime URLs start with (after the host): nothing for the default."""
    return "" if workspace in (None, "default") else WORKSPACE_RUNTIME_PREFIX + workspace


def is_runtime_path(path: str) -> bool:
    return path.startswith(RUNTIME_PREFIXES)


def may_block(method: str, path: str) -> bool:
    """Requests whose answer may wait on another HTTP server (a forwarded tool call, an agent
    behind invoke): a server with one event loop runs them on a thread."""
    if path.startswith(WORKSPACE_RUNTIME_PREFIX):
        path = "/" + path[len(WORKSPACE_RUNTIME_PREFIX) :].partition("/")[2]
    return path.startswith((EGRESS_PREFIX, INGRESS_PREFIX)) or (
        method == "POST" and path.startswith(_INVOKE_PREFIXES) and path.endswith("/invoke")
    )


# Where both releases' invoke paths start (February's, June's, June's of a named workspace).
_INVOKE_PREFIXES = ("/api/agents/", "/api/v1/agents/", "/api/v1/workspaces/")


# The web pages (mockserver/surface/console/): answered before the API, no key needed.
DOCS_PATH = "/docs"
CONSOLE_PATH = "/_mock/ui"


# Each served document (``ServedDocument.name``) also at /<file>.yaml and /<file>.json, the
# conventional places code generators and tools look; public like /docs.
DOCUMENT_FILES = {"runagents": "openapi", "runagents-v1": "openapi-v1", "runagents-mock": "mock-openapi"}
DOCUMENT_PATHS = frozenset(f"/{stem}.{ext}" for stem in DOCUMENT_FILES.values() for ext in ("yaml", "json"))


def is_page(path: str, console_on: bool = True) -> bool:
    """Is this request path one of the pages (not the API, not the control API)?"""
    return (
        _under(path, DOCS_PATH)
        or path in DOCUMENT_PATHS
        or (console_on and (path == "/" or _under(path, CONSOLE_PATH)))
    )


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")
