"""HTTP glue for /api/model-providers."""

from __future__ import annotations

from ..common import Handlers, add_collection_reads_and_delete

handlers = Handlers()
add_collection_reads_and_delete(handlers, "providers", "listModelProviders", "getModelProvider", "deleteModelProvider")


@handlers.operation("createModelProvider")
def create_model_provider(platform, req):
    provider, _ = platform.providers.put(req.body["name"], req.body["spec"])
    return 201, provider
