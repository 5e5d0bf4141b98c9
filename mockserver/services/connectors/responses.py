"""HTTP glue for /api/v1/approval-connectors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..handlers import Handlers, Reply

if TYPE_CHECKING:
    from ...spec.document import ApiRequest
    from ..platform import Platform

handlers = Handlers()


@handlers.operation("listApprovalConnectors")
def list_connectors(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.connectors.list()


@handlers.operation("createApprovalConnector")
def create_connector(platform: Platform, req: ApiRequest) -> Reply:
    return 201, platform.connectors.create(req.body)


@handlers.operation("getApprovalConnector")
def get_connector(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.connectors.get(req.path["id"])


@handlers.operation("updateApprovalConnector")
def update_connector(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.connectors.update(req.path["id"], req.body)


@handlers.operation("deleteApprovalConnector")
def delete_connector(platform: Platform, req: ApiRequest) -> Reply:
    platform.connectors.delete(req.path["id"])
    return 200, {"status": "deleted"}


@handlers.operation("testApprovalConnector")
def test_connector(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.connectors.test(req.body)


@handlers.operation("getApprovalConnectorDefaults")
def get_defaults(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.connectors.get_defaults()


@handlers.operation("updateApprovalConnectorDefaults")
def update_defaults(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.connectors.set_defaults(req.body)


@handlers.operation("listApprovalConnectorActivity")
def list_activity(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.connectors.recent(req.query.get("limit"))
