"""HTTP glue for /api/v1/catalog."""

from __future__ import annotations

from ..common import Handlers

handlers = Handlers()


@handlers.operation("listCatalog")
def list_catalog(platform, req):
    q = req.query
    return 200, platform.catalog.list(q.get("search"), q, q.get("page", 1), q.get("page_size", 24))


@handlers.operation("getCatalogManifest")
def get_catalog_manifest(platform, req):
    return 200, platform.catalog.manifest(req.path["id"], req.query.get("version"))


@handlers.operation("listCatalogVersions")
def list_catalog_versions(platform, req):
    return 200, platform.catalog.list_versions(req.path["id"])
