"""What one release makes of the other's input and output: another release's request fields are
refused (spec/releases.py), and a February reader is not shown June-only event types."""

from __future__ import annotations

import pytest
from api_support import error_of
from test_v1_http import v1

from mockserver.spec.document import Spec
from mockserver.spec.releases import foreign_inputs

IMAGE_DEPLOY = {"agent_name": "billing-agent", "image": "img:1"}


@pytest.mark.parametrize(
    "field, value, june_status",
    [
        ("artifact_id", "art-1", 201),
        ("draft_id", "d-1", 404),
        ("tool_url_mappings", {"t": "https://x"}, 201),
    ],
)
def test_february_deploy_refuses_june_only_fields_and_changes_nothing(api, field, value, june_status):
    response = api.post("/api/deploy", {**IMAGE_DEPLOY, field: value})
    assert response.status_code == 400
    assert error_of(response) == f'field "{field}" belongs to the /api/v1 API, not this one'
    assert api.get("/api/agents").get_json() == []
    # The same body is June's: taken there (no draft "d-1" exists, hence its 404).
    assert v1(api, "POST", "/deploy", {**IMAGE_DEPLOY, field: value}).status_code == june_status


def test_february_event_listing_refuses_after_seq(api):
    run = api.post("/runs", {"agent_id": "a", "user_id": "u"}).get_json()
    response = api.get(f"/runs/{run['id']}/events?after_seq=0")
    assert response.status_code == 400
    assert error_of(response) == 'query parameter "after_seq" belongs to the /api/v1 API, not this one'
    assert api.get(f"/runs/{run['id']}/events?limit=5").status_code == 200


def test_client_spellings_are_not_another_releases_fields(api):
    # The vendor CLI's `name`/`files` (x-alias-of) on February, and the vendor SDK 1.3.1's
    # `agent` run filter, stay accepted though /api/v1 lacks some of them.
    assert api.post("/api/deploy", {"name": "a", "files": {"a.py": ""}}).status_code == 201
    assert api.get("/runs?agent=a").status_code == 200
    # SDK 1.3.1 sends `policies` to the February deploy: February lists it, so it is no June field.
    assert api.post("/api/deploy", {**IMAGE_DEPLOY, "policies": ["p1"]}).status_code == 201


def _doc(release: str, properties: dict, operation_id: str = "createThing", extra: dict | None = None) -> Spec:
    op = {
        "operationId": operation_id,
        **(extra or {}),
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": properties}}}},
        "responses": {"200": {"description": "ok"}},
    }
    return Spec(
        {
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1", "x-release-name": release},
            "x-error-messages": Spec.load().document["x-error-messages"],
            "paths": {"/things": {"post": op}},
        }
    )


def test_the_rule_runs_both_ways_and_follows_x_replaces_operation():
    february = _doc("February 2026", {"a": {}, "namespace": {}, "old": {"x-alias-of": "a"}})
    june = _doc("/api/v1", {"a": {}, "policies": {}}, "createThingV1", {"x-replaces-operation": "createThing"})
    assert foreign_inputs(february, june) == {
        "createThing": {("body", "policies"): 'field "policies" belongs to the /api/v1 API, not this one'}
    }
    assert foreign_inputs(june, february) == {
        "createThingV1": {("body", "namespace"): 'field "namespace" belongs to the February 2026 API, not this one'}
    }


# --- June-only event types seen from February ---------------------------------------------


def test_february_listing_leaves_out_june_only_event_types(api):
    """Strict mode checks each listing against its own document: February's shows only
    February's event types, /api/v1 shows them all, and `limit` counts what is shown."""
    run = api.post("/runs", {"agent_id": "a", "user_id": "u"}).get_json()
    for kind in ("RUN_CREATED", "USER_MESSAGE", "TOOL_CALLED", "TOOL_REQUEST", "INVOKE_COMPLETED"):
        assert v1(api, "POST", f"/runs/{run['id']}/events", {"type": kind}).status_code == 201
    february = api.get(f"/runs/{run['id']}/events")
    assert february.status_code == 200
    assert [(e["seq"], e["type"]) for e in february.get_json()] == [(2, "USER_MESSAGE"), (4, "TOOL_REQUEST")]
    assert [e["seq"] for e in api.get(f"/runs/{run['id']}/events?limit=1").get_json()] == [4]
    assert [e["type"] for e in v1(api, "GET", f"/runs/{run['id']}/events").get_json()] == [
        "RUN_CREATED",
        "USER_MESSAGE",
        "TOOL_CALLED",
        "TOOL_REQUEST",
        "INVOKE_COMPLETED",
    ]
    # The state round-trips with them (export, then load it back).
    state = api.get("/_mock/state").get_json()
    assert api.put("/_mock/state", state).status_code == 200
    assert [e["seq"] for e in api.get(f"/runs/{run['id']}/events").get_json()] == [2, 4]
