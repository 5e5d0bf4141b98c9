"""The one exception type that becomes an HTTP error answer."""

from __future__ import annotations


class ApiError(Exception):
    """An error answered as ``{"error": message}`` with ``status``.

    Domain code raises it with the exact strings the vendor documents, so the HTTP layer
    never has to translate messages.
    """

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def conflict(message: str) -> ApiError:
    return ApiError(409, message)


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)
