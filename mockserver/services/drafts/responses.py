"""HTTP glue for /api/v1/deploy-drafts and /api/v1/deploy/preview."""

from __future__ import annotations

from ..common import Handlers
from .models import ABANDONED, COMPLETED
from .preview import preview

handlers = Handlers()


@handlers.operation("listDeployDrafts")
def list_drafts(platform, req):
    return 200, platform.drafts.list(req.query.get("status"))  # `mine`: one operator offline


@handlers.operation("createDeployDraft")
def create_draft(platform, req):
    return 201, platform.drafts.create(req.body)


@handlers.operation("getDeployDraft")
def get_draft(platform, req):
    return 200, platform.drafts.get(req.path["id"])


@handlers.operation("patchDeployDraft")
def patch_draft(platform, req):
    return 200, platform.drafts.patch(req.path["id"], req.body)


@handlers.operation("deleteDeployDraft")
def delete_draft(platform, req):
    platform.drafts.delete(req.path["id"])
    return 200, {"status": "deleted"}


@handlers.operation("completeDeployDraft")
def complete_draft(platform, req):
    return 200, platform.drafts.finish(req.path["id"], COMPLETED)


@handlers.operation("abandonDeployDraft")
def abandon_draft(platform, req):
    return 200, platform.drafts.finish(req.path["id"], ABANDONED)


@handlers.operation("previewDeploy")
def preview_deploy(platform, req):
    return 200, preview(platform, platform.drafts.hydrate(req.body))
