"""The handler registry each ``responses.py`` fills: operationId -> a thin handler.

A handler gets the whole ``Platform`` of the request's workspace (it sits above the Platform:
nothing the Platform builds imports this module) and the validated request."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeAlias

from .common import NamedCollection

if TYPE_CHECKING:
    from flask import Response

    from ..spec.document import ApiRequest
    from .platform import Platform

# (status, payload) or (status, payload, headers): the payload is encoded as JSON by the
# dispatcher; a Response (a stream) is sent as it is.
Reply: TypeAlias = "tuple[int, object] | tuple[int, object, Mapping[str, str]] | Response"
Handler: TypeAlias = "Callable[[Platform, ApiRequest], Reply]"
# A lookup of what the path names (its parameters), raising ApiError (a 404) when it is missing.
PathCheck: TypeAlias = "Callable[[Platform, Mapping[str, str]], None]"


class CheckedFirst:
    """A handler whose ``before_body`` the dispatchers call before the body is parsed: a
    made-up id costs a lookup, never the parsing of a large body."""

    def __init__(self, handle: Handler, before_body: PathCheck) -> None:
        self.handle = handle
        self.before_body = before_body

    def __call__(self, platform: Platform, req: ApiRequest) -> Reply:
        return self.handle(platform, req)


class Handlers:
    """operationId -> handler, filled by ``@handlers.operation("id")`` in each responses.py."""

    def __init__(self) -> None:
        self.by_operation: dict[str, Handler] = {}

    def operation(self, *operation_ids: str, before_body: PathCheck | None = None) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            for operation_id in operation_ids:
                if operation_id in self.by_operation:
                    raise ValueError(f"two handlers for {operation_id}")
                self.by_operation[operation_id] = fn if before_body is None else CheckedFirst(fn, before_body)
            return fn

        return register


def add_collection_reads_and_delete(
    handlers: Handlers, backend: str, list_op: str, get_op: str, delete_op: str
) -> None:
    """The list/get/delete handlers every name-keyed collection shares (``platform.<backend>``)."""

    def collection(platform: Platform) -> NamedCollection:
        named: NamedCollection = getattr(platform, backend)
        return named

    @handlers.operation(list_op)
    def list_all(platform: Platform, req: ApiRequest) -> Reply:
        return 200, collection(platform).list()

    @handlers.operation(get_op)
    def get_one(platform: Platform, req: ApiRequest) -> Reply:
        return 200, collection(platform).get(req.path["name"])

    @handlers.operation(delete_op)
    def delete_one(platform: Platform, req: ApiRequest) -> Reply:
        collection(platform).delete(req.path["name"])
        return 200, {"status": "deleted"}
