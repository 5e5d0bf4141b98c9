"""Auth, in one place: what each operation's document asks for (``securitySchemes`` and
``security``), where a request's key is read from, and which keys open what.

Read by every front door: the API dispatcher and the control API (``web/``), the recording
proxy's request check (``proxy/validation.py``), the pytest plugin's headers and the contract
kit (``contracts/api.py``). Nothing here knows about HTTP frameworks: headers come as a mapping
(a WSGI environ or werkzeug ``Headers``), and the mock's accepted keys as a ``KeyRing``.

Who may open the control API (``/_mock/``, its document's ``adminKey`` scheme):

- with ``--admin-key``: that key only;
- else with ``--api-key``: those keys (the owner's unbound keys, which already reach every
  workspace of the API);
- a workspace key (``--workspace-key`` or minted, ``ra_ws_...``) never opens the server-wide
  calls nor key management; it opens the calls under ``/_mock/workspaces/<its workspace>/``
  that act on its own workspace's state (state, seed, reset, journal, clock, replies), and
  only when no admin key is set;
- with no key configured at all: open (local convenience, guarded by the Origin/Host checks).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

WORKSPACE_KEY_PREFIX = "ra_ws_"  # workspace API keys; on /api/v1 they go in X-RunAgents-API-Key
# Without any configured key every non-empty key works, except one containing this (any case),
# so clients (and schemathesis' ignored_auth probe) can see a 401 without configuring keys.
OPEN_MODE_REFUSED = "invalid"
ADMIN_REFUSED = "missing or invalid admin key"
# Control operations a workspace key may call on its own workspace (key management is not one).
_WORKSPACE_CONTROL_SCOPE = frozenset(
    {
        "resetWorkspace",
        "exportWorkspaceState",
        "loadWorkspaceState",
        "seedWorkspace",
        "readWorkspaceJournal",
        "clearWorkspaceJournal",
        "readWorkspaceClock",
        "advanceWorkspaceClock",
        "setWorkspaceReplies",
    }
)


def bearer_key(authorization: str) -> str:
    """The key from an ``Authorization: Bearer <key>`` header's value, or "" when there is none."""
    scheme, _, key = authorization.partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


class HeaderLookup(Protocol):
    """A request's headers as read here and by handlers: a lookup by name. werkzeug's
    ``Headers`` (case-insensitive, and no ``Mapping``) and a plain dict both are one."""

    def get(self, key: str, /) -> str | None: ...


# --- what a document asks for ------------------------------------------------------------------


def schemes(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = document.get("components", {}).get("securitySchemes", {})
    return found


def key_header(document: Mapping[str, Any]) -> tuple[str, str] | None:
    """(scheme name, header name) of the document's API-key header scheme, if it has one."""
    for name, scheme in schemes(document).items():
        if scheme.get("type") == "apiKey" and scheme.get("in") == "header":
            return name, scheme["name"]
    return None


def bearer_schemes(document: Mapping[str, Any]) -> list[str]:
    return [
        name
        for name, scheme in schemes(document).items()
        if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer"
    ]


def requirements(document: Mapping[str, Any], path: str, method: str) -> list[dict[str, Any]]:
    """An operation's security requirements: its own, else the document's (``[]``: none)."""
    raw = document.get("paths", {}).get(path, {}).get(method.lower(), {})
    return list(raw.get("security", document.get("security")) or [])


def missing_credentials(
    document: Mapping[str, Any], path: str, method: str, headers: HeaderLookup, args: Mapping[str, str]
) -> str | None:
    """What the operation's requirements ask for and the request lacks; None when one of the
    alternatives is met or the operation needs none (presence only: values are not checked)."""
    known = schemes(document)
    wanted = []
    for requirement in requirements(document, path, method):
        unmet = [name for name in requirement if not _presents(known.get(name, {}), headers, args)]
        if not unmet:
            return None
        wanted.append(" and ".join(_describe(known.get(name, {}), name) for name in unmet))
    return f"no credentials: the spec asks for {' or '.join(wanted)}" if wanted else None


def _presents(scheme: Mapping[str, Any], headers: HeaderLookup, args: Mapping[str, str]) -> bool:
    if scheme.get("type") == "http":
        value = headers.get("Authorization") or ""
        return value.lower().startswith(f"{scheme.get('scheme', 'bearer').lower()} ") and bool(
            value.split(" ", 1)[1].strip()
        )
    if scheme.get("type") == "apiKey":
        source = headers if scheme.get("in") == "header" else args if scheme.get("in") == "query" else None
        return bool(source.get(scheme.get("name", ""))) if source is not None else True
    return True  # oauth2, openIdConnect, mutualTLS...: not checked here


def _describe(scheme: Mapping[str, Any], name: str) -> str:
    if scheme.get("type") == "http":
        return f"Authorization: {scheme.get('scheme', 'bearer').title()} <key>"
    if scheme.get("type") == "apiKey":
        return f"the {scheme.get('in')} {scheme.get('name')}"
    return name


def auth_headers(document: Mapping[str, Any], api_key: str) -> dict[str, str]:
    """Where a client puts ``api_key``: a workspace key in the document's API-key header
    (X-RunAgents-API-Key on /api/v1); any other key as `Authorization: Bearer`."""
    header = key_header(document)
    if header and api_key.startswith(WORKSPACE_KEY_PREFIX):
        return {header[1]: api_key}
    return {"Authorization": f"Bearer {api_key}"}


# --- reading the key a request presents ------------------------------------------------------


def presented_key(environ: Mapping[str, Any], header: str | None) -> tuple[str, str | None]:
    """The request's API key, or the reason there is none to use.

    Without an API-key header scheme (the February surface) `Authorization: Bearer` only. A
    surface with one (/api/v1) takes workspace keys (``ra_ws_...``) there, and other tokens
    (OIDC/JWT, the mock's ``--api-key`` keys) as `Authorization: Bearer`; each kind in the
    other's header is refused, as the June overview asks."""
    bearer = bearer_key(environ.get("HTTP_AUTHORIZATION", ""))
    if header is None:
        if bearer:
            return bearer, None
        if environ.get("HTTP_X_RUNAGENTS_API_KEY"):
            return "", (
                "X-RunAgents-API-Key is not accepted on this API: send Authorization: Bearer "
                "<api-key> (workspace keys in X-RunAgents-API-Key work under /api/v1)"
            )
        return "", "missing API key: send Authorization: Bearer <api-key>"
    sent = environ.get("HTTP_" + header.upper().replace("-", "_"))
    workspace_key = (sent or "").strip()
    if sent is not None and not workspace_key:  # an empty key is a wrong key, not no key
        return "", f"{header} is empty: send a workspace API key ({WORKSPACE_KEY_PREFIX}...) or leave the header out"
    if workspace_key:
        if not workspace_key.startswith(WORKSPACE_KEY_PREFIX):
            return "", (
                f"{header} carries workspace API keys ({WORKSPACE_KEY_PREFIX}...); send other "
                "tokens as Authorization: Bearer <token>"
            )
        return workspace_key, None
    if bearer:
        if bearer.startswith(WORKSPACE_KEY_PREFIX):
            return "", (
                f"workspace API keys ({WORKSPACE_KEY_PREFIX}...) go in the {header} header, not Authorization: Bearer"
            )
        return bearer, None
    return "", f"missing API key: send {header}: <{WORKSPACE_KEY_PREFIX}...> (or Authorization: Bearer <token>)"


# --- which keys the mock accepts ----------------------------------------------------------------


class MintedKeys(Protocol):
    """Keys minted on the control API (``services.workspace_keys.WorkspaceKeys``)."""

    def workspace_of(self, key: str) -> str | None: ...

    def is_revoked(self, key: str) -> bool: ...


def _matches(key: str, accepted: Iterable[str]) -> bool:
    # Constant time per candidate, and every candidate compared (no early exit).
    return any([hmac.compare_digest(key.encode(), k.encode()) for k in accepted])


class KeyRing:
    """The keys a mock accepts: ``--api-key`` (unbound), ``--workspace-key`` and minted keys
    (bound to one workspace), the ``--admin-key``; open mode when none of the first two is set."""

    def __init__(
        self,
        api_keys: Iterable[str],
        workspace_keys: Iterable[tuple[str, str]],
        admin_key: str | None,
        minted: MintedKeys,
    ):
        self.api_keys = tuple(api_keys)
        self.workspace_keys = tuple(workspace_keys)
        self.admin_key = admin_key or None
        self.minted = minted
        self._bound = dict((key, ws) for ws, key in self.workspace_keys)
        self._accepted = (*self.api_keys, *self._bound)

    @property
    def open_mode(self) -> bool:
        return not self._accepted

    def workspace_of(self, key: str) -> str | None:
        """The workspace an API key is bound to (``--workspace-key``, or minted), or None."""
        return self._bound.get(key) or self.minted.workspace_of(key)

    def is_revoked(self, key: str) -> bool:
        return self.minted.is_revoked(key)

    def is_valid(self, key: str) -> bool:
        """Whether the API takes ``key``. A revoked minted key is refused even in open mode."""
        if self.minted.workspace_of(key) is not None:
            return True
        if self.minted.is_revoked(key):
            return False
        if self.open_mode:
            return bool(key) and OPEN_MODE_REFUSED not in key.lower()
        return _matches(key, self._accepted)

    def refused_key_message(self, key: str) -> str:
        return "API key is revoked" if self.is_revoked(key) else "invalid API key"

    def control_refusal(self, environ: Mapping[str, Any], operation_id: str, workspace: str | None) -> str | None:
        """Why the control API refuses this request (None: it may pass). See the module's doc."""
        if not (self.admin_key or self._accepted):
            return None
        key = bearer_key(environ.get("HTTP_AUTHORIZATION", ""))
        if self.admin_key:
            return None if key and _matches(key, [self.admin_key]) else ADMIN_REFUSED
        if key and _matches(key, self.api_keys):
            return None
        bound = self.workspace_of(key) if key else None
        if bound is not None and bound == workspace and operation_id in _WORKSPACE_CONTROL_SCOPE:
            return None
        return ADMIN_REFUSED


# --- bodies a web page can send --------------------------------------------------------------

# What a page can send cross-origin without a CORS preflight (the Fetch standard's list).
FORM_TYPES = frozenset({"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"})


def body_type_refusal(
    content_type: str | None, body: bytes, document: Mapping[str, Any], path: str, method: str
) -> str | None:
    """Why a body is refused (a 400: every operation with a body documents one): a non-empty
    body of a form type that the operation documents no body type for. A JSON body sent as a
    form is what a cross-site page can post without a preflight; clients send
    ``application/json`` (or no type at all). An operation without a documented body (the tool
    proxy passes bodies on as they are) takes any."""
    if not body or not content_type:
        return None
    essence = content_type.split(";", 1)[0].strip().lower()
    if essence not in FORM_TYPES:
        return None
    raw = document.get("paths", {}).get(path, {}).get(method.lower(), {})
    media = set((raw.get("requestBody") or {}).get("content", {}))
    if not media or essence in media or "*/*" in media or f"{essence.split('/')[0]}/*" in media:
        return None
    wanted = "application/json" if "application/json" in media else sorted(media)[0]
    return f"Content-Type {essence} is not accepted here: send {wanted}"
