"""HTTP glue for /api/v1/deploy-drafts and /api/v1/deploy/preview."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..handlers import Handlers, Reply
from .models import ABANDONED, COMPLETED
from .preview import preview

if TYPE_CHECKING:
    from ...spec.document import ApiRequest
    from ..platform import Platform

handlers = Handlers()


@handlers.operation("listDeployDrafts")
def list_drafts(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.drafts.list(req.query.get("status"))  # `mine`: one operator offline


@handlers.operation("createDeployDraft")
def create_draft(platform: Platform, req: ApiRequest) -> Reply:
    return 201, platform.drafts.create(req.body)


@handlers.operation("getDeployDraft")
def get_draft(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.drafts.get(req.path["id"])


@handlers.operation("patchDeployDraft")
def patch_draft(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.drafts.patch(req.path["id"], req.body)


@handlers.operation("deleteDeployDraft")
def delete_draft(platform: Platform, req: ApiRequest) -> Reply:
    platform.drafts.delete(req.path["id"])
    return 200, {"status": "deleted"}


@handlers.operation("completeDeployDraft")
def complete_draft(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.drafts.finish(req.path["id"], COMPLETED)


@handlers.operation("abandonDeployDraft")
def abandon_draft(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.drafts.finish(req.path["id"], ABANDONED)


@handlers.operation("previewDeploy")
def preview_deploy(platform: Platform, req: ApiRequest) -> Reply:
    return 200, preview(platform, platform.drafts.hydrate(req.body))
