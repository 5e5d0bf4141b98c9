"""HTTP glue for /api/v1/catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..handlers import Handlers, Reply

if TYPE_CHECKING:
    from ...spec.document import ApiRequest
    from ..platform import Platform

handlers = Handlers()


@handlers.operation("listCatalog")
def list_catalog(platform: Platform, req: ApiRequest) -> Reply:
    q = req.query
    return 200, platform.catalog.list(q.get("search"), q, q.get("page", 1), q.get("page_size", 24))


@handlers.operation("getCatalogManifest")
def get_catalog_manifest(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.catalog.manifest(req.path["id"], req.query.get("version"))


@handlers.operation("listCatalogVersions")
def list_catalog_versions(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.catalog.list_versions(req.path["id"])
