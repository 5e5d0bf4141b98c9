"""HTTP glue for /api/v1/policies."""

from __future__ import annotations

from ..common import Handlers, add_collection_reads_and_delete
from .models import translate

handlers = Handlers()
add_collection_reads_and_delete(handlers, "policies", "listPoliciesV1", "getPolicyV1", "deletePolicyV1")


@handlers.operation("createPolicyV1")
def create_policy(platform, req):
    return 201, platform.policies.create(req.body)


@handlers.operation("replacePolicyV1")
def replace_policy(platform, req):
    return 200, platform.policies.replace(req.path["name"], req.body)


@handlers.operation("translatePolicyV1")
def translate_policy(platform, req):
    return 200, translate(req.body["text"])
