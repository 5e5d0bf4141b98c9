"""HTTP glue for /api/v1/model-spend and /api/v1/context/export."""

from __future__ import annotations

from ..common import Handlers
from .models import context_export, model_spend

handlers = Handlers()


@handlers.operation("getModelSpend")
def get_model_spend(platform, req):
    return 200, model_spend(platform)


@handlers.operation("exportContext")
def export_context(platform, req):
    return 200, context_export(platform)
