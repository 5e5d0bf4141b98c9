"""HTTP glue for /api/v1/policies."""

from __future__ import annotations

from ..common import Handlers
from .models import translate

handlers = Handlers()


@handlers.operation("listPoliciesV1")
def list_policies(platform, req):
    return 200, platform.policies.list()


@handlers.operation("createPolicyV1")
def create_policy(platform, req):
    return 201, platform.policies.create(req.body)


@handlers.operation("getPolicyV1")
def get_policy(platform, req):
    return 200, platform.policies.get(req.path["name"])


@handlers.operation("replacePolicyV1")
def replace_policy(platform, req):
    return 200, platform.policies.replace(req.path["name"], req.body)


@handlers.operation("deletePolicyV1")
def delete_policy(platform, req):
    platform.policies.delete(req.path["name"])
    return 200, {"status": "deleted"}


@handlers.operation("translatePolicyV1")
def translate_policy(platform, req):
    return 200, translate(req.body["text"])
