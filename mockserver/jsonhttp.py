"""JSON answers and the bearer key: the small HTTP vocabulary every part of the server shares."""

from __future__ import annotations

import json
from typing import Any, Mapping

from flask import Response


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status=status,
                    mimetype="application/json", headers=dict(headers or {}))


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """Every error the server sends has this one shape: ``{"error": "..."}``."""
    return json_response(status, {"error": message}, headers)


def bearer_key(headers: Mapping[str, str]) -> str:
    """The key from ``Authorization: Bearer <key>``, or "" when there is none."""
    scheme, _, key = headers.get("Authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""
