"""HTTP glue for /api/tools."""

from __future__ import annotations

from ..common import Handlers
from .models import simulate_probe, spec_from_flat

handlers = Handlers()


@handlers.operation("listTools")
def list_tools(platform, req):
    return 200, platform.tools.list()


@handlers.operation("createTool")
def create_tool(platform, req):
    body = req.body
    spec = body.get("spec") if "spec" in body else spec_from_flat(body)
    tool, _ = platform.tools.put(body["name"], spec, body.get("credentials"))
    return 201, tool


@handlers.operation("getTool")
def get_tool(platform, req):
    return 200, platform.tools.get(req.path["name"])


@handlers.operation("deleteTool")
def delete_tool(platform, req):
    platform.tools.delete(req.path["name"])
    return 200, {"status": "deleted"}


@handlers.operation("probeUrl")
def probe_url(platform, req):
    return 200, simulate_probe(req.body["url"])


@handlers.operation("testTool")
def test_tool(platform, req):
    return 200, platform.tools.test(req.path["name"])
