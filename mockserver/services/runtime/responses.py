"""HTTP glue for the agent runtime's keyless calls: checkpoints and tool results."""

from __future__ import annotations

from ..common import Handlers

handlers = Handlers()


@handlers.operation("storeCheckpoint")
def store_checkpoint(platform, req):
    return 201, platform.runtime.store_checkpoint(req.path["id"], req.body)


@handlers.operation("getCheckpoint")
def get_checkpoint(platform, req):
    return 200, platform.runtime.get_checkpoint(req.path["id"], req.path["action_id"])


@handlers.operation("reportToolResult")
def report_tool_result(platform, req):
    return 201, platform.runtime.report_tool_result(req.path["id"], req.body)
