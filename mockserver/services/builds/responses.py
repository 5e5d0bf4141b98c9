"""HTTP glue for /api/builds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..handlers import Handlers, Reply

if TYPE_CHECKING:
    from ...spec.document import ApiRequest
    from ..platform import Platform

handlers = Handlers()


@handlers.operation("startBuild")
def start_build(platform: Platform, req: ApiRequest) -> Reply:
    return 202, platform.builds.start(req.body["name"], req.body["files"])


@handlers.operation("getBuild")
def get_build(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.builds.get(req.path["id"])
