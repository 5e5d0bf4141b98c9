"""HTTP glue for /api/builds."""

from __future__ import annotations

from ..common import Handlers

handlers = Handlers()


@handlers.operation("startBuild")
def start_build(platform, req):
    return 202, platform.builds.start(req.body["name"], req.body["files"])


@handlers.operation("getBuild")
def get_build(platform, req):
    return 200, platform.builds.get(req.path["id"])
