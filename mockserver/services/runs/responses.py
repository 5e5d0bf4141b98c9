"""HTTP glue for /runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..handlers import Handlers, Reply

if TYPE_CHECKING:
    from ...spec.document import ApiRequest
    from ..platform import Platform

handlers = Handlers()


@handlers.operation("createRun")
def create_run(platform: Platform, req: ApiRequest) -> Reply:
    return 201, platform.runs.create(req.body)


@handlers.operation("listRuns")
def list_runs(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.runs.list(req.query.get("agent_id"), req.query.get("status"))


@handlers.operation("getRun")
def get_run(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.runs.get(req.path["id"])


@handlers.operation("updateRun")
def update_run(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.runs.transition(req.path["id"], req.body["status"])


@handlers.operation("addRunEvent")
def add_run_event(platform: Platform, req: ApiRequest) -> Reply:
    body = req.body
    event = platform.runs.add_event(
        req.path["id"],
        body["type"],
        body.get("actor"),
        body.get("payload_hash") or req.header("X-Payload-Hash"),
        body.get("data"),
    )
    return 201, event


@handlers.operation("listRunEvents")
def list_run_events(platform: Platform, req: ApiRequest) -> Reply:
    # after_seq is declared by openapi-v1.yaml only (February requests with it are refused).
    # A release lists the event types its document knows: a February client is not shown the
    # June-only ones (RUN_CREATED, ...) that /api/v1 clients log on the same run.
    shown = req.operation.item_enums.get("type") if req.operation else None
    return 200, platform.runs.list_events(req.path["id"], req.query.get("limit"), req.query.get("after_seq"), shown)


@handlers.operation("createBlockedAction")
def create_blocked_action(platform: Platform, req: ApiRequest) -> Reply:
    body = req.body
    action = platform.runs.create_action(
        req.path["id"],
        body["tool_id"],
        body.get("capability"),
        body.get("payload_hash") or req.header("X-Payload-Hash"),
    )
    return 201, action


@handlers.operation("getAction")
def get_action(platform: Platform, req: ApiRequest) -> Reply:
    platform.runs.get(req.path["id"])
    return 200, platform.runs.get_action(req.path["id"], req.path["action_id"])


@handlers.operation("approveAction")
def approve_action(platform: Platform, req: ApiRequest) -> Reply:
    payload_hash = (req.body or {}).get("payload_hash") or req.header("X-Payload-Hash")
    action = platform.runs.approve_action(
        req.path["id"], req.path["action_id"], payload_hash, req.header("X-End-User-ID")
    )
    return 200, action
