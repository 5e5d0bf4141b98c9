"""HTTP glue for /api/identity-providers."""

from __future__ import annotations

from ..common import Handlers, add_collection_reads_and_delete

handlers = Handlers()
add_collection_reads_and_delete(
    handlers, "identity", "listIdentityProviders", "getIdentityProvider", "deleteIdentityProvider"
)


@handlers.operation("createIdentityProvider")
def create_identity_provider(platform, req):
    idp, _ = platform.identity.put(req.body["name"], req.body["spec"], req.body.get("namespace"))
    return 201, idp
