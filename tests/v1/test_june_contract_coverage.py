"""Every operation of the vendor's June contract (api/contracts/openapi.yaml in the public
repository runagents-io/runagents) is served. The list is written here as data, by method and
path (path parameters as `{}`), not read from the vendor's file: a new operation there is added
here by hand, and this test fails until the mock serves it."""

from __future__ import annotations

import re

import pytest

CONTRACT_OPERATIONS = """
GET /approvals/requests
POST /approvals/requests
GET /approvals/requests/{}
POST /approvals/requests/{}/approve
POST /approvals/requests/{}/reject
GET /runs
POST /runs
GET /runs/{}
PATCH /runs/{}
GET /runs/{}/events
POST /runs/{}/events
POST /runs/{}/actions
GET /runs/{}/actions/{}
POST /runs/{}/actions/{}/approve
GET /catalog
GET /catalog/{}
GET /catalog/{}/versions
POST /deploy
POST /deploy/preview
GET /deploy-drafts
POST /deploy-drafts
GET /deploy-drafts/{}
PATCH /deploy-drafts/{}
DELETE /deploy-drafts/{}
POST /deploy-drafts/{}/complete
POST /deploy-drafts/{}/abandon
POST /starter-kit
GET /policies
POST /policies
GET /policies/{}
PUT /policies/{}
DELETE /policies/{}
POST /policies/translate
GET /approval-connectors
POST /approval-connectors
GET /approval-connectors/{}
PATCH /approval-connectors/{}
DELETE /approval-connectors/{}
POST /approval-connectors/test
GET /approval-connectors/defaults
PUT /approval-connectors/defaults
GET /approval-connectors/activity
GET /identity-providers
POST /identity-providers
GET /identity-providers/{}
DELETE /identity-providers/{}
GET /agents
GET /agents/{}
DELETE /agents/{}
GET /agents/{}/config
PUT /agents/{}/config
POST /agents/{}/invoke
GET /tools
POST /tools
GET /tools/{}
DELETE /tools/{}
POST /tools/probe
POST /tools/{}/test
GET /model-providers
POST /model-providers
GET /model-providers/{}
DELETE /model-providers/{}
GET /model-spend
POST /chat/completions
POST /builds
GET /builds/{}
GET /billing
GET /billing/usage/daily
POST /billing/setup-intent
POST /billing/payment-method
POST /billing/subscribe
POST /billing/portal
GET /billing/publishable-key
POST /analyze
GET /analysis/{}
POST /requirements
GET /context/export
POST /actions/validate
POST /actions/apply
GET /settings/auth
PUT /settings/auth
GET /auth/api-keys
POST /auth/api-keys
DELETE /auth/api-keys/{}
POST /auth/api-keys/{}/rotate
"""
OPERATIONS = [tuple(line.split(" ", 1)) for line in CONTRACT_OPERATIONS.strip().splitlines()]


def test_the_list_is_the_contracts_85_operations():
    assert len(OPERATIONS) == len(set(OPERATIONS)) == 85


def test_the_june_document_has_every_contract_operation(api):
    served = {(op.method, re.sub(r"{\w+}", "{}", op.path)) for op in api.mock.v1_spec.operations.values()}
    missing = [f"{method} {path}" for method, path in OPERATIONS if (method, path) not in served]
    assert missing == []


@pytest.mark.parametrize("workspace", ["", "/workspaces/revops"])
def test_the_mock_routes_every_contract_operation(api, workspace):
    """Each is answered by its handler: never the router's 404 or 405 (a made-up id's 404 is the handler's)."""
    unrouted = []
    for method, path in OPERATIONS:
        concrete = "/api/v1" + workspace + path.replace("{}", "x-1")
        response = api.request(
            method,
            concrete,
            headers={"X-RunAgents-API-Key": "ra_ws_test"},
            auth=False,
            data="{}" if method in ("POST", "PUT", "PATCH") else None,
            content_type="application/json",
        )
        body = response.get_json(silent=True)
        if response.status_code == 405 or body == {"error": "no such endpoint"}:
            unrouted.append(f"{method} {path}: {response.status_code} {body}")
    assert unrouted == []
