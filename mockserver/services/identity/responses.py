"""HTTP glue for /api/identity-providers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..handlers import Handlers, Reply, add_collection_reads_and_delete

if TYPE_CHECKING:
    from ...spec.document import ApiRequest
    from ..platform import Platform

handlers = Handlers()
add_collection_reads_and_delete(
    handlers, "identity", "listIdentityProviders", "getIdentityProvider", "deleteIdentityProvider"
)


@handlers.operation("createIdentityProvider")
def create_identity_provider(platform: Platform, req: ApiRequest) -> Reply:
    idp, _ = platform.identity.put(req.body["name"], req.body["spec"], req.body.get("namespace"))
    return 201, idp
