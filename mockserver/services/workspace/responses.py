"""HTTP glue for /api/v1/model-spend and /api/v1/context/export."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..handlers import Handlers, Reply
from .models import context_export, model_spend

if TYPE_CHECKING:
    from ...spec.document import ApiRequest
    from ..platform import Platform

handlers = Handlers()


@handlers.operation("getModelSpend")
def get_model_spend(platform: Platform, req: ApiRequest) -> Reply:
    return 200, model_spend(platform)


@handlers.operation("exportContext")
def export_context(platform: Platform, req: ApiRequest) -> Reply:
    return 200, context_export(platform)
