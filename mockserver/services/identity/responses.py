"""HTTP glue for /api/identity-providers."""

from __future__ import annotations

from ..common import Handlers

handlers = Handlers()


@handlers.operation("listIdentityProviders")
def list_identity_providers(platform, req):
    return 200, platform.identity.list()


@handlers.operation("createIdentityProvider")
def create_identity_provider(platform, req):
    idp, _ = platform.identity.put(req.body["name"], req.body["spec"], req.body.get("namespace"))
    return 201, idp


@handlers.operation("getIdentityProvider")
def get_identity_provider(platform, req):
    return 200, platform.identity.get(req.path["name"])


@handlers.operation("deleteIdentityProvider")
def delete_identity_provider(platform, req):
    platform.identity.delete(req.path["name"])
    return 200, {"status": "deleted"}
