"""Workspace API keys minted through the control API (``/_mock/workspaces/{ws}/keys``).

The June pages leave key management to the console and to auth endpoints they do not
document, so the mock offers it on its own surface instead. A minted key (``ra_ws_...``) is
bound to its workspace like a ``--workspace-key``; it is shown once, when minted or rotated.
Only its SHA-256 digest is kept, so no export, journal, log or listing can hold it: a listing
shows the key's id and a masked prefix. A revoked key (or one replaced by a rotation) is
remembered as revoked, so it gets a 401 even in open mode, where any other key is accepted.

A minted key carries a tag (an HMAC of its random part under a secret of this server), so the
mock recognises its own keys without remembering them: a key with a valid tag that is not live
was revoked, rotated out or expired, however many revocations came after it, and memory holds
only the live keys.

The same keys have a public face, ``/api/v1/auth/api-keys`` (``public_*`` below): one set of
keys, two doors. There a key also has a name, its last four characters and an optional expiry
(days on the server's clock, the default workspace's); an expired key is refused like a
revoked one.

Keys live in the server's memory, not in a state export or ``--state-file``: ``POST
/_mock/reset`` forgets every key and revocation (a fresh server: a new secret), resetting one
workspace revokes that workspace's keys.
"""

from __future__ import annotations

import base64
import builtins
import hashlib
import hmac
import itertools
import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ..basics.errors import ApiError
from ..spec.security import WORKSPACE_KEY_PREFIX as KEY_PREFIX

SHOWN_CHARS = 4  # of the random part, in a listing's masked prefix
_BODY_BYTES = 24  # random bytes of a key: 32 characters
_TAG_BYTES = 12  # of the HMAC: 16 characters
_TAG_CHARS = 16
_KEY_LENGTH = len(KEY_PREFIX) + 32 + _TAG_CHARS
_CONTROL_FIELDS = ("id", "workspace", "prefix", "created_at")  # what the control API answers
_KEEP = object()  # rotate: the replaced key's expiry stays


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
        record, key = self._mint(workspace, None, None)
        return {**_control(record), "key": key}

    def _mint(self, workspace: str, name: str | None, expires_at: str | None) -> tuple[dict[str, Any], str]:
        body = secrets.token_urlsafe(_BODY_BYTES)
        key = KEY_PREFIX + body + self._tag(body)
        key_id = f"key-{next(self._ids)}"
        record = {
            "id": key_id,
            "workspace": workspace,
            "prefix": key[: len(KEY_PREFIX) + SHOWN_CHARS] + "...",
            "created_at": self._now_iso(),
            "name": name or key_id,
            "last4": key[-4:],
            "expires_at": expires_at,
        }
        with self._lock:
            if len(self._live) >= self._max_keys:
                raise ApiError(409, f"limit of {self._max_keys} workspace keys reached")
            self._live[_digest(key)] = record
        return record, key

    def list(self, workspace: str) -> list[dict[str, Any]]:
        self._expire()
        with self._lock:
            return [_control(r) for r in self._live.values() if r["workspace"] == workspace]

    def revoke(self, workspace: str, key_id: str) -> dict[str, Any]:
        with self._lock:
            digest = next((d for d, r in self._live.items() if r["workspace"] == workspace and r["id"] == key_id), None)
            if digest is None:
                raise ApiError(404, f"key {key_id} not found in workspace {workspace}")
            return _control(self._live.pop(digest))

    def rotate(self, workspace: str, key_id: str) -> dict[str, Any]:
        """Revoke a key and mint its replacement (a new id and key) in one step."""
        self.revoke(workspace, key_id)
        return self.mint(workspace)

    # --- the public face: /api/v1/auth/api-keys ------------------------------------------------

    def public_mint(self, workspace: str, name: str, expires_in_days: int | None) -> dict[str, Any]:
        record, key = self._mint(workspace, name, self._expiry(expires_in_days))
        return {"key": _public(record), "token": key, "header": "X-RunAgents-API-Key"}

    def public_list(self, workspace: str) -> builtins.list[dict[str, Any]]:
        self._expire()
        with self._lock:
            return [_public(r) for r in self._live.values() if r["workspace"] == workspace]

    def public_rotate(self, workspace: str, key_id: str, expires_in_days: Any = _KEEP) -> dict[str, Any]:
        """The replacement keeps the old key's name and expiry unless ``expires_in_days`` is given."""
        with self._lock:
            old = next((r for r in self._live.values() if r["workspace"] == workspace and r["id"] == key_id), None)
        if old is None:
            raise ApiError(404, f"key {key_id} not found in workspace {workspace}")
        expires = old["expires_at"] if expires_in_days is _KEEP else self._expiry(expires_in_days)
        self.revoke(workspace, key_id)
        record, key = self._mint(workspace, old["name"], expires)
        return {"key": _public(record), "token": key, "header": "X-RunAgents-API-Key"}

    def count(self, workspace: str) -> int:
        return len(self.public_list(workspace))

    def _expiry(self, days: int | None) -> str | None:
        if days is None:
            return None
        now = datetime.fromisoformat(self._now_iso().replace("Z", "+00:00"))
        return (now + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _expire(self) -> None:
        """Revoke the keys whose expiry has passed (ISO texts of one form compare as times)."""
        if not any(r["expires_at"] for r in list(self._live.values())):
            return
        now = self._now_iso()
        with self._lock:
            for digest in [d for d, r in self._live.items() if r["expires_at"] and r["expires_at"] <= now]:
                del self._live[digest]

    def workspace_of(self, key: str) -> str | None:
        """The workspace a live minted key is bound to; None for any other key."""
        if not self._live or not key.startswith(KEY_PREFIX):
            return None  # the hot path when no key was minted
        record = self._live.get(_digest(key))
        if record is not None and record["expires_at"]:
            self._expire()
            record = self._live.get(_digest(key))
        return record["workspace"] if record else None

    def id_of(self, key: str) -> str | None:
        """A live minted key's id (what the access log shows instead of the key); None otherwise."""
        if not self._live or not key.startswith(KEY_PREFIX):
            return None
        record = self._live.get(_digest(key))
        return record["id"] if record else None

    def is_revoked(self, key: str) -> bool:
        """A key this server minted (its tag is valid) that is no longer live."""
        if len(key) != _KEY_LENGTH or not key.startswith(KEY_PREFIX):
            return False
        body, tag = key[len(KEY_PREFIX) : -_TAG_CHARS], key[-_TAG_CHARS:]
        if not hmac.compare_digest(tag, self._tag(body)):
            return False
        self._expire()
        return _digest(key) not in self._live

    def forget(self) -> None:
        """Drop every key and revocation: a new secret, so no earlier key is recognised."""
        with self._lock:
            self._live.clear()
            self._secret = secrets.token_bytes(32)

    def revoke_all(self, workspace: str) -> None:
        with self._lock:
            for digest in [d for d, r in self._live.items() if r["workspace"] == workspace]:
                del self._live[digest]


def _control(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in _CONTROL_FIELDS}


def _public(record: dict[str, Any]) -> dict[str, Any]:
    out = {
        "id": record["id"],
        "name": record["name"],
        "prefix": record["prefix"].removesuffix("..."),
        "last4": record["last4"],
        "createdAt": record["created_at"],
    }
    return {**out, "expiresAt": record["expires_at"]} if record["expires_at"] else out
