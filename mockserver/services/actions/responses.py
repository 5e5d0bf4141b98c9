"""HTTP glue for /api/v1/actions/validate and /api/v1/actions/apply."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..handlers import Handlers, Reply

if TYPE_CHECKING:
    from ...spec.document import ApiRequest
    from ..platform import Platform

handlers = Handlers()


@handlers.operation("validateActionPlan")
def validate_plan(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.actions.validate(req.body)


@handlers.operation("applyActionPlan")
def apply_plan(platform: Platform, req: ApiRequest) -> Reply:
    return platform.actions.apply(req.body)
