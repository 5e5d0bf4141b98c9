"""HTTP glue for /api/v1/actions/validate and /api/v1/actions/apply."""

from __future__ import annotations

from ..common import Handlers

handlers = Handlers()


@handlers.operation("validateActionPlan")
def validate_plan(platform, req):
    return 200, platform.actions.validate(req.body)


@handlers.operation("applyActionPlan")
def apply_plan(platform, req):
    return platform.actions.apply(req.body)
