"""HTTP glue for the agent runtime's keyless calls: checkpoints and tool results.

Their writes take no key, so the run is looked up before the body is parsed (``before_body``,
called by the dispatcher): a made-up run id costs a lookup, never the parsing of a 4 MB body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..handlers import Handlers, Reply

if TYPE_CHECKING:
    from ...spec.document import ApiRequest
    from ..platform import Platform

handlers = Handlers()


def _run_exists(platform: Platform, path: Mapping[str, str]) -> None:
    """404 ``run <id> not found`` before the body is read."""
    with platform.lock:
        platform.runs.get(path["id"])


@handlers.operation("storeCheckpoint", before_body=_run_exists)
def store_checkpoint(platform: Platform, req: ApiRequest) -> Reply:
    return 201, platform.runtime.store_checkpoint(req.path["id"], req.body)


@handlers.operation("getCheckpoint")
def get_checkpoint(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.runtime.get_checkpoint(req.path["id"], req.path["action_id"])


@handlers.operation("reportToolResult", before_body=_run_exists)
def report_tool_result(platform: Platform, req: ApiRequest) -> Reply:
    return 201, platform.runtime.report_tool_result(req.path["id"], req.body)
