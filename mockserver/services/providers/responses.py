"""HTTP glue for /api/model-providers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..handlers import Handlers, Reply, add_collection_reads_and_delete

if TYPE_CHECKING:
    from ...spec.document import ApiRequest
    from ..platform import Platform

handlers = Handlers()
add_collection_reads_and_delete(handlers, "providers", "listModelProviders", "getModelProvider", "deleteModelProvider")


@handlers.operation("createModelProvider")
def create_model_provider(platform: Platform, req: ApiRequest) -> Reply:
    provider, _ = platform.providers.put(req.body["name"], req.body["spec"])
    return 201, provider
