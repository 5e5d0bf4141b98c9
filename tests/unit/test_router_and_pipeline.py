"""The one router (spec/router.py) and the pipeline's per-operation stages (web/dispatch.py),
on small documents of their own."""

from __future__ import annotations

import io
import json
from typing import Any

from werkzeug.test import Client

from mockserver.basics.clock import Clock
from mockserver.basics.jsonhttp import RecordEncoder
from mockserver.spec.document import ApiRequest, Spec
from mockserver.spec.router import Router, Surface
from mockserver.spec.security import KeyRing
from mockserver.surface.faults import Faults
from mockserver.surface.journal import Journal
from mockserver.surface.rate_limit import RateLimiter
from mockserver.web.dispatch import Pipeline, build_plans

ANSWER = {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}


def _op(op_id: str, **extra: Any) -> dict[str, Any]:
    return {"operationId": op_id, "responses": ANSWER, **extra}


API = Spec(
    {
        "openapi": "3.1.0",
        "paths": {
            "/things": {"get": _op("listThings")},
            "/things/probe": {"get": _op("probe")},
            "/things/{name}": {
                "x-malformed-path-error": "path must be /things/{name}",
                "get": _op("getThing"),
                "delete": _op("deleteThing"),
            },
        },
    }
)
MOCK = Spec(
    {
        "openapi": "3.1.0",
        "security": [{"adminKey": []}],
        "components": {"securitySchemes": {"adminKey": {"type": "http", "scheme": "bearer"}}},
        "paths": {
            "/_mock/import": {
                "put": _op(
                    "importBig",
                    **{
                        "x-mock-body": "stream",
                        "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                    },
                )
            },
            "/_mock/small": {
                "put": _op("putSmall", requestBody={"content": {"application/json": {"schema": {"type": "object"}}}})
            },
            "/_tool/{agent}/{path}": {
                "x-greedy-path-parameter": "path",
                "x-malformed-path-error": "tool URLs look like /_tool/<agent>/<path>",
                "x-malformed-path-status": 404,
                "get": _op("toolCall", security=[]),
            },
        },
    }
)


def _router() -> Router:
    return Router(
        [
            Surface.from_spec("api", "api.yaml", API),
            Surface("mock", "mock.yaml", MOCK, ("",), None),
        ]
    )


def test_a_literal_path_item_wins_and_head_is_get():
    router = _router()
    assert router.route("GET", "/things/probe").operation.operation_id == "probe"
    assert router.route("HEAD", "/things/probe").operation.operation_id == "probe"
    found = router.route("GET", "/things/x")
    assert found.operation.operation_id == "getThing" and found.params == {"name": "x"}


def test_a_documented_path_with_another_method_names_its_methods():
    wrong = _router().route("POST", "/things/x")
    assert wrong.operation is None and wrong.allowed == ("DELETE", "GET")


def test_a_second_root_document_claims_its_first_segments():
    router = _router()
    assert router.route("PUT", "/_mock/small").surface.name == "mock"
    assert router.route("GET", "/_mock/nothing").surface.name == "mock"
    assert router.route("GET", "/nothing").surface.name == "api"


def test_greedy_parameters_and_malformed_paths():
    router = _router()
    assert router.route("GET", "/_tool/a/x/y").params == {"agent": "a", "path": "x/y"}
    assert router.route("GET", "/_tool/a").params == {"agent": "a", "path": ""}
    short = router.route("GET", "/_tool/")
    assert short.operation is None and short.malformed is None  # nothing under the prefix
    assert router.route("GET", "/_tool/a/").params == {"agent": "a", "path": ""}
    assert router.route("GET", "/things/a/b").malformed == (400, "path must be /things/{name}")
    assert router.route("GET", "/nothing").malformed is None


def _app(received: list[ApiRequest]) -> Client:
    def keep(req: ApiRequest, http: Any) -> tuple[int, Any]:
        received.append(req)
        return 200, {"read": len(req.stream.read()) if req.stream is not None else None}

    router = _router()
    api_handlers = {op: (lambda platform, req: (200, {})) for op in API.operations}
    plans = build_plans(
        router.surfaces,
        api_handlers,
        {"importBig": keep, "putSmall": keep},
        {"toolCall": lambda route, request, raw: (200, b"{}", "application/json")},
        frozenset(),
        {},
        max_body_bytes=10,
    )

    class Workspaces:
        def get(self, name: str) -> Any:
            return None

        def check_name(self, name: str) -> None:
            return None

    class Minted:
        def workspace_of(self, key: str) -> None:
            return None

        def is_revoked(self, key: str) -> bool:
            return False

    pipeline = Pipeline(
        router,
        plans,
        keys=KeyRing([], [], None, Minted()),
        workspaces=Workspaces(),
        rate_limiter=RateLimiter(None, Clock()),
        faults=Faults(),
        journal=Journal(10),
        encoder=RecordEncoder(),
        strict=False,
        admin_enabled=True,
        max_body_bytes=10,
    )
    return Client(pipeline)


def test_a_stream_operation_gets_its_body_unread_and_unlimited():
    received: list[ApiRequest] = []
    client = _app(received)
    big = json.dumps({"x": "y" * 100}).encode()
    answer = client.put(
        "/_mock/import", input_stream=io.BytesIO(big), content_length=len(big), content_type="application/json"
    )
    assert answer.status_code == 200 and answer.json == {"read": len(big)}
    assert received[0].body is None  # not parsed: the handler reads the stream
    small = client.put("/_mock/small", data=big, content_type="application/json")
    assert small.status_code == 413 and small.json == {"error": "request body is larger than 10 bytes"}


def test_a_stream_operation_still_refuses_a_form_type():
    client = _app([])
    answer = client.put("/_mock/import", data=b'{"a": 1}', content_type="text/plain")
    assert answer.status_code == 400 and "text/plain is not accepted" in answer.json["error"]


def test_errors_of_every_surface_are_json():
    client = _app([])
    assert client.post("/things/x", headers={"Authorization": "Bearer k"}).headers["Allow"] == "DELETE, GET"
    assert client.get("/_tool/a").status_code == 200
    malformed = client.get("/_tool//x")
    assert malformed.status_code == 404 and malformed.json == {"error": "tool URLs look like /_tool/<agent>/<path>"}


def test_an_empty_workspace_segment_is_refused_not_the_default_workspace():
    from mockserver import create_app

    app = create_app({})
    route = app.extensions["runagents_mock"].surfaces.router.route("GET", "/api/v1/workspaces//tools")
    assert route.surface.name == "v1" and route.workspace == ""
    answer = app.test_client().get("/api/v1/workspaces//tools", headers={"Authorization": "Bearer k"})
    assert answer.status_code == 400 and answer.json["error"].startswith("invalid workspace name")
