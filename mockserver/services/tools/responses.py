"""HTTP glue for /api/tools."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..handlers import Handlers, Reply, add_collection_reads_and_delete
from .models import simulate_probe, spec_from_flat

if TYPE_CHECKING:
    from ...spec.document import ApiRequest
    from ..platform import Platform

handlers = Handlers()
add_collection_reads_and_delete(handlers, "tools", "listTools", "getTool", "deleteTool")


@handlers.operation("createTool")
def create_tool(platform: Platform, req: ApiRequest) -> Reply:
    body = req.body
    flat = "spec" not in body
    spec = spec_from_flat(body) if flat else body["spec"]
    tool, _ = platform.tools.put(
        body["name"], spec, body.get("credentials"), url_field="base_url" if flat else "spec.connection.baseUrl"
    )
    return 201, tool


@handlers.operation("probeUrl")
def probe_url(platform: Platform, req: ApiRequest) -> Reply:
    return 200, simulate_probe(req.body["url"])


@handlers.operation("testTool")
def test_tool(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.tools.test(req.path["name"])
