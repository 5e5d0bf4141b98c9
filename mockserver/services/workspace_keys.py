"""Workspace API keys minted through the control API (``/_mock/workspaces/{ws}/keys``).

The June pages leave key management to the console and to auth endpoints they do not
document, so the mock offers it on its own surface instead. A minted key (``ra_ws_...``) is
bound to its workspace like a ``--workspace-key``; it is shown once, when minted or rotated.
Only its SHA-256 digest is kept, so no export, journal, log or listing can hold it: a listing
shows the key's id and a masked prefix. A revoked key (or one replaced by a rotation) is
remembered as revoked, so it gets a 401 even in open mode, where any other key is accepted.

A minted key carries a tag (an HMAC of its random part under a secret of this server), so the
mock recognises its own keys without remembering them: a key with a valid tag that is not live
was revoked (or rotated out), however many revocations came after it, and memory holds only
the live keys.

Keys live in the server's memory, not in a state export or ``--state-file``: ``POST
/_mock/reset`` forgets every key and revocation (a fresh server: a new secret), resetting one
workspace revokes that workspace's keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import secrets
import threading
from typing import Any, Callable

from ..basics.errors import ApiError
from ..spec.security import WORKSPACE_KEY_PREFIX as KEY_PREFIX
SHOWN_CHARS = 4  # of the random part, in a listing's masked prefix
_BODY_BYTES = 24  # random bytes of a key: 32 characters
_TAG_BYTES = 12  # of the HMAC: 16 characters
_TAG_CHARS = 16
_KEY_LENGTH = len(KEY_PREFIX) + 32 + _TAG_CHARS


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class WorkspaceKeys:
    def __init__(self, now_iso: Callable[[], str], max_keys: int):
        self._now_iso = now_iso
        self._max_keys = max_keys
        self._live: dict[bytes, dict[str, Any]] = {}  # digest -> {id, workspace, prefix, created_at}
        self._secret = secrets.token_bytes(32)  # tags this server's keys (see the module's doc)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def _tag(self, body: str) -> str:
        mac = hmac.new(self._secret, body.encode(), hashlib.sha256).digest()[:_TAG_BYTES]
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def mint(self, workspace: str) -> dict[str, Any]:
        """A new key bound to ``workspace``: its record with the key itself (shown this once)."""
        body = secrets.token_urlsafe(_BODY_BYTES)
        key = KEY_PREFIX + body + self._tag(body)
        record = {"id": f"key-{next(self._ids)}", "workspace": workspace,
                  "prefix": key[:len(KEY_PREFIX) + SHOWN_CHARS] + "...", "created_at": self._now_iso()}
        with self._lock:
            if len(self._live) >= self._max_keys:
                raise ApiError(409, f"limit of {self._max_keys} workspace keys reached")
            self._live[_digest(key)] = record
        return {**record, "key": key}

    def list(self, workspace: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._live.values() if r["workspace"] == workspace]

    def revoke(self, workspace: str, key_id: str) -> dict[str, Any]:
        with self._lock:
            digest = next((d for d, r in self._live.items() if r["workspace"] == workspace and r["id"] == key_id), None)
            if digest is None:
                raise ApiError(404, f"key {key_id} not found in workspace {workspace}")
            return self._live.pop(digest)

    def rotate(self, workspace: str, key_id: str) -> dict[str, Any]:
        """Revoke a key and mint its replacement (a new id and key) in one step."""
        self.revoke(workspace, key_id)
        return self.mint(workspace)

    def workspace_of(self, key: str) -> str | None:
        """The workspace a live minted key is bound to; None for any other key."""
        if not self._live or not key.startswith(KEY_PREFIX):
            return None  # the hot path when no key was minted
        record = self._live.get(_digest(key))
        return record["workspace"] if record else None

    def is_revoked(self, key: str) -> bool:
        """A key this server minted (its tag is valid) that is no longer live."""
        if len(key) != _KEY_LENGTH or not key.startswith(KEY_PREFIX):
            return False
        body, tag = key[len(KEY_PREFIX):-_TAG_CHARS], key[-_TAG_CHARS:]
        return hmac.compare_digest(tag, self._tag(body)) and _digest(key) not in self._live

    def forget(self) -> None:
        """Drop every key and revocation: a new secret, so no earlier key is recognised."""
        with self._lock:
            self._live.clear()
            self._secret = secrets.token_bytes(32)

    def revoke_all(self, workspace: str) -> None:
        with self._lock:
            for digest in [d for d, r in self._live.items() if r["workspace"] == workspace]:
                del self._live[digest]
