"""HTTP glue for the policies of both releases: /api/policies and /api/policy-bindings
(February shapes) and /api/v1/policies (June shapes), over the same records."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..handlers import Handlers, Reply
from .models import february_view, translate

if TYPE_CHECKING:
    from ...spec.document import ApiRequest
    from ..platform import Platform

handlers = Handlers()


# --- February: /api/policies, /api/policy-bindings ------------------------------------------


@handlers.operation("createPolicy")
def create_policy(platform: Platform, req: ApiRequest) -> Reply:
    return 201, february_view(platform.policies.create_policy(req.body))


@handlers.operation("listPolicies")
def list_policies(platform: Platform, req: ApiRequest) -> Reply:
    return 200, [february_view(p) for p in platform.policies.list_policies()]


@handlers.operation("getPolicy")
def get_policy(platform: Platform, req: ApiRequest) -> Reply:
    return 200, february_view(platform.policies.get_policy(req.path["name"]))


@handlers.operation("updatePolicy")
def update_policy(platform: Platform, req: ApiRequest) -> Reply:
    return 200, february_view(platform.policies.update_policy(req.path["name"], req.body))


@handlers.operation("deletePolicy")
def delete_policy(platform: Platform, req: ApiRequest) -> Reply:
    platform.policies.delete_policy(req.path["name"])
    return 200, {"status": "deleted"}


@handlers.operation("createPolicyBinding")
def create_policy_binding(platform: Platform, req: ApiRequest) -> Reply:
    return 201, platform.policies.create_binding(req.body)


@handlers.operation("listPolicyBindings")
def list_policy_bindings(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.policies.list_bindings()


@handlers.operation("getPolicyBinding")
def get_policy_binding(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.policies.get_binding(req.path["name"])


@handlers.operation("deletePolicyBinding")
def delete_policy_binding(platform: Platform, req: ApiRequest) -> Reply:
    platform.policies.delete_binding(req.path["name"])
    return 200, {"status": "deleted"}


# --- June: /api/v1/policies ---------------------------------------------------------------


@handlers.operation("createPolicyV1")
def create_policy_v1(platform: Platform, req: ApiRequest) -> Reply:
    policies = platform.policies
    return 201, policies.june_view(policies.create_policy(req.body, june=True))


@handlers.operation("listPoliciesV1")
def list_policies_v1(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.policies.june_views(platform.policies.list_user_policies())


@handlers.operation("getPolicyV1")
def get_policy_v1(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.policies.june_view(platform.policies.get_user_policy(req.path["name"]))


@handlers.operation("replacePolicyV1")
def replace_policy_v1(platform: Platform, req: ApiRequest) -> Reply:
    # The June page: PUT's body is POST's; the path names the policy, so the body's (required)
    # name is not used and never renames.
    policies = platform.policies
    return 200, policies.june_view(policies.update_policy(req.path["name"], req.body, june=True))


@handlers.operation("deletePolicyV1")
def delete_policy_v1(platform: Platform, req: ApiRequest) -> Reply:
    platform.policies.delete_policy(req.path["name"], june=True)
    return 200, {"status": "deleted"}


@handlers.operation("translatePolicyV1")
def translate_policy(platform: Platform, req: ApiRequest) -> Reply:
    return 200, translate(req.body["text"])
