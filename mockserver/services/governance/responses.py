"""HTTP glue for /governance/requests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..handlers import Handlers, Reply

if TYPE_CHECKING:
    from ...spec.document import ApiRequest
    from ..platform import Platform

handlers = Handlers()


@handlers.operation("createAccessRequest")
def create_access_request(platform: Platform, req: ApiRequest) -> Reply:
    body = dict(req.body)
    if not body.get("payload_hash") and req.header("X-Payload-Hash"):
        body["payload_hash"] = req.header("X-Payload-Hash")
    request, created = platform.governance.create(body)
    return (201 if created else 200), request


@handlers.operation("listAccessRequests")
def list_access_requests(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.governance.list(req.query.get("status"))


@handlers.operation("listApprovalRequests")
def list_approval_requests(platform: Platform, req: ApiRequest) -> Reply:
    """/api/v1: ``status`` only filters; a bare list is every request (spec-src/api-v1.yaml)."""
    return 200, platform.governance.list(req.query.get("status"), default=None)


@handlers.operation("getAccessRequest")
def get_access_request(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.governance.get(req.path["id"])


@handlers.operation("approveAccessRequest")
def approve_access_request(platform: Platform, req: ApiRequest) -> Reply:
    body = req.body or {}
    approver = body.get("approver_id") or req.header("X-End-User-ID")
    return 200, platform.governance.approve(
        req.path["id"], approver, body.get("duration") or None, body.get("scope") or None
    )


@handlers.operation("rejectAccessRequest")
def reject_access_request(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.governance.reject(req.path["id"], (req.body or {}).get("reason"), req.header("X-End-User-ID"))
