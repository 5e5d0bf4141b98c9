"""HTTP glue for /api/model-providers."""

from __future__ import annotations

from ..common import Handlers

handlers = Handlers()


@handlers.operation("listModelProviders")
def list_model_providers(platform, req):
    return 200, platform.providers.list()


@handlers.operation("createModelProvider")
def create_model_provider(platform, req):
    provider, _ = platform.providers.put(req.body["name"], req.body["spec"])
    return 201, provider


@handlers.operation("getModelProvider")
def get_model_provider(platform, req):
    return 200, platform.providers.get(req.path["name"])


@handlers.operation("deleteModelProvider")
def delete_model_provider(platform, req):
    platform.providers.delete(req.path["name"])
    return 200, {"status": "deleted"}
