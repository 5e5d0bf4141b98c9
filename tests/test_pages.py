"""The web pages without a browser: what is served where, access rules, headers, the document
registry; and the export (which the console shows) being the state as of the mock's clock.
The pages in a browser: tests/browser/."""

from __future__ import annotations

import re

import pytest
import yaml

from mockserver import create_app
from mockserver.spec.document import ServedDocument, default_spec_path

SEED = "access_requests: [{subject: payment-agent-sa, tool_id: stripe-api}]"


@pytest.fixture
def pages():
    return create_app({}).test_client()


def test_docs_serve_each_document_pointed_at_this_mock(pages):
    html = pages.get("/docs").get_data(as_text=True)
    assert "/docs/openapi/runagents.json" in html
    served = pages.get("/docs/openapi/runagents.json").get_json()
    original = yaml.safe_load(default_spec_path().read_text())
    assert served["paths"] == original["paths"]
    assert served["servers"] == [{"url": "/", "description": "this mock"}]
    assert pages.get("/docs/openapi/nothing.json").status_code == 404


def test_a_document_added_to_the_registry_is_listed_and_served(tmp_path):
    app = create_app({})
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        "openapi: 3.1.0\ninfo: {title: Extra API, version: 2026-06-01}\n"
        "servers: [{url: 'https://api.example.com/api/v1'}]\npaths: {}\n"
    )
    app.extensions["runagents_mock"].documents.append(ServedDocument("extra", extra))
    client = app.test_client()
    assert "Extra API 2026-06-01" in client.get("/docs").get_data(as_text=True)
    served = client.get("/docs/openapi/extra.json").get_json()
    assert served["servers"] == [{"url": "/api/v1", "description": "this mock"}]
    assert served["info"]["version"] == "2026-06-01"  # a YAML date, served as text


def test_pages_load_nothing_from_elsewhere_and_run_no_inline_script(pages):
    for path in ("/docs", "/_mock/ui"):
        response = pages.get(path)
        assert response.status_code == 200
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        html = response.get_data(as_text=True)
        assert re.findall(r"<script>", html) == []
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert url.startswith("/"), url
            assert pages.get(url).status_code == 200, url


def test_only_swagger_uis_own_files_are_served(pages):
    assert pages.get("/docs/ui/swagger-ui-bundle.js").status_code == 200
    for path in (
        "/docs/ui/core.py",
        "/docs/ui/../utils.py",
        "/docs/ui/swagger-editor-bundle.js",
        "/_mock/ui/static/../pages.py",
        "/docs/nothing",
    ):
        response = pages.get(path)
        assert response.status_code == 404, path
        assert response.get_json() == {"error": "no such page"}
    response = pages.post("/_mock/ui")
    assert (response.status_code, response.get_json()) == (405, {"error": "pages only answer GET"})


def test_the_console_page_holds_no_data_and_needs_no_key_itself():
    client = create_app({"api_keys": ["k1"], "admin_key": "admin"}).test_client()
    client.post("/_mock/seed", data=SEED, headers={"Authorization": "Bearer admin"})
    html = client.get("/_mock/ui").get_data(as_text=True)
    assert "payment-agent-sa" not in html
    assert client.get("/_mock/state").status_code == 401  # what the page's script calls


def test_root_redirects_to_the_console_only_when_the_control_api_is_on(pages):
    response = pages.get("/")
    assert (response.status_code, response.headers["Location"]) == (302, "/_mock/ui")
    off = create_app({"admin_enabled": False}).test_client()
    assert off.get("/_mock/ui").status_code == 404
    assert off.get("/_mock/ui/static/console.js").status_code == 404
    assert off.get("/").status_code == 401  # the API's answer: no page there
    assert off.get("/docs").status_code == 200


def test_the_export_is_the_state_as_of_the_clock(api):
    request = api.post("/governance/requests", {"subject": "sa", "tool_id": "stripe-api"}).get_json()
    api.post(f"/governance/requests/{request['id']}/approve", {"duration": "1h"})
    api.post("/api/deploy", {"agent_name": "built", "source_files": {"main.py": "print('hi')\n"}})
    api.advance(3601)
    state = api.get("/_mock/state").get_json()  # no API read in between
    assert [r["status"] for r in state["access_requests"]["items"]] == ["EXPIRED"]
    assert [b["status"] for b in state["builds"]["items"]] == ["SUCCEEDED"]
    assert [a["status"]["phase"] for a in state["agents"]["items"]] == ["Running"]
