"""The proxy in front of the contract kit's deliberately deviating server: each deviation is
reported with its operation, status and JSON path; the exit code is non-zero; JUnit names the
operations."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
import requests
from contract_kit_support import API_KEY
from proxy_support import proxy_process
from test_contract_deviations import deviating_mock

from mockserver.testkit.live_server import LiveServer

AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(scope="module")
def deviating_session(tmp_path_factory):
    out = tmp_path_factory.mktemp("proxy-deviations")
    junit, report = out / "proxy.xml", out / "proxy.json"
    with LiveServer(app=deviating_mock([])) as upstream:
        with proxy_process(upstream.url, "--report", str(junit), "--report", str(report)) as proxy:
            base = proxy.url
            created = requests.post(
                base + "/api/tools", json={"name": "t1", "base_url": "https://t1.example.com"}, headers=AUTH, timeout=10
            )
            listed = requests.get(base + "/api/agents", headers=AUTH, timeout=10)
            missing = requests.get(base + "/api/model-providers/nope", headers=AUTH, timeout=10)
            fine = requests.get(base + "/api/tools", headers=AUTH, timeout=10)
        yield proxy, json.loads(report.read_text()), ET.parse(junit).getroot(), (created, listed, missing, fine)


def _problem(report: dict, operation_id: str) -> dict:
    found = [p for p in report["response_problems"] if p["operation_id"] == operation_id]
    assert len(found) == 1, report["response_problems"]
    return found[0]


def test_answers_pass_through_unchanged(deviating_session):
    *_, (created, listed, missing, fine) = deviating_session
    assert created.status_code == 201 and "ns" in created.json() and "namespace" not in created.json()
    assert listed.status_code == 202
    assert missing.status_code == 404 and missing.text == "<h1>Not Found</h1>"
    assert missing.headers["Content-Type"].startswith("text/html")
    assert fine.status_code == 200


def test_exit_code_and_verdict(deviating_session):
    proxy, report, *_ = deviating_session
    assert proxy.exit_code == 1, proxy.output
    assert not report["passed"] and report["counts"]["response"] == 3
    assert (
        "Result: FAILED, 3 response problem(s). 4 exchange(s): 4 checked, 0 undocumented, 0 not checked" in proxy.output
    )


def test_the_renamed_field(deviating_session):
    proxy, report, *_ = deviating_session
    problem = _problem(report, "createTool")
    assert problem["check"] == "response_schema_conformance" and problem["response_status"] == 201
    assert problem["got"] == "at <root>: 'namespace' is a required property"
    assert '"ns":"agent-system"' in problem["response_body"]
    assert (
        "[response] createTool (POST /api/tools) -> 201: at <root>: 'namespace' is a required property" in proxy.output
    )


def test_the_undocumented_status(deviating_session):
    _, report, *_ = deviating_session
    problem = _problem(report, "listAgents")
    assert (problem["check"], problem["got"], problem["response_status"]) == ("status_code_conformance", "202", 202)
    assert problem["expected"].startswith("one of the documented statuses 200")


def test_the_html_error_body(deviating_session):
    _, report, *_ = deviating_session
    problem = _problem(report, "getModelProvider")
    assert problem["check"] == "content_type_conformance" and problem["response_status"] == 404
    assert "text/html" in problem["got"] and problem["response_body"] == "<h1>Not Found</h1>"


def test_junit_names_the_operations(deviating_session):
    *_, junit, _ = deviating_session
    responses = next(s for s in junit if s.get("name") == "runagents-proxy responses")
    failed = {c.get("name") for c in responses if c.find("failure") is not None}
    assert failed == {
        "createTool (POST /api/tools)",
        "listAgents (GET /api/agents)",
        "getModelProvider (GET /api/model-providers/{name})",
    }
    passed = {c.get("name") for c in responses if c.find("failure") is None}
    assert passed == {"listTools (GET /api/tools)"}
