"""HTTP glue for /api/policies and /api/policy-bindings."""

from __future__ import annotations

from ..common import Handlers

handlers = Handlers()


@handlers.operation("createPolicy")
def create_policy(platform, req):
    return 201, platform.policies.create_policy(req.body)


@handlers.operation("listPolicies")
def list_policies(platform, req):
    return 200, platform.policies.list_policies()


@handlers.operation("getPolicy")
def get_policy(platform, req):
    return 200, platform.policies.get_policy(req.path["name"])


@handlers.operation("updatePolicy")
def update_policy(platform, req):
    return 200, platform.policies.update_policy(req.path["name"], req.body)


@handlers.operation("deletePolicy")
def delete_policy(platform, req):
    platform.policies.delete_policy(req.path["name"])
    return 200, {"status": "deleted"}


@handlers.operation("createPolicyBinding")
def create_policy_binding(platform, req):
    return 201, platform.policies.create_binding(req.body)


@handlers.operation("listPolicyBindings")
def list_policy_bindings(platform, req):
    return 200, platform.policies.list_bindings()


@handlers.operation("getPolicyBinding")
def get_policy_binding(platform, req):
    return 200, platform.policies.get_binding(req.path["name"])


@handlers.operation("deletePolicyBinding")
def delete_policy_binding(platform, req):
    platform.policies.delete_binding(req.path["name"])
    return 200, {"status": "deleted"}
