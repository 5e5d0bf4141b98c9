"""HTTP glue for /api/v1/settings/auth and /api/v1/auth/api-keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..handlers import Handlers, Reply

if TYPE_CHECKING:
    from ...spec.document import ApiRequest
    from ..platform import Platform
    from ..workspace_keys import WorkspaceKeys

handlers = Handlers()


def _keys(platform: Platform) -> WorkspaceKeys:
    """The server's workspace keys (the server sets them on every workspace it serves)."""
    if platform.keys is None:
        raise RuntimeError("this Platform has no workspace keys (the server sets Platform.keys)")
    return platform.keys


@handlers.operation("getAuthSettings")
def get_auth_settings(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.auth.view()


@handlers.operation("updateAuthSettings")
def update_auth_settings(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.auth.update(req.body)


@handlers.operation("listWorkspaceApiKeys")
def list_keys(platform: Platform, req: ApiRequest) -> Reply:
    return 200, _keys(platform).public_list(platform.workspace)


@handlers.operation("createWorkspaceApiKey")
def create_key(platform: Platform, req: ApiRequest) -> Reply:
    return 201, _keys(platform).public_mint(platform.workspace, req.body["name"], req.body.get("expiresInDays"))


@handlers.operation("revokeWorkspaceApiKey")
def revoke_key(platform: Platform, req: ApiRequest) -> Reply:
    _keys(platform).revoke(platform.workspace, req.path["id"])
    return 200, {"status": "deleted"}


@handlers.operation("rotateWorkspaceApiKey")
def rotate_key(platform: Platform, req: ApiRequest) -> Reply:
    days = req.body.get("expiresInDays")
    if days is None:
        return 200, _keys(platform).public_rotate(platform.workspace, req.path["id"])
    return 200, _keys(platform).public_rotate(platform.workspace, req.path["id"], days)
