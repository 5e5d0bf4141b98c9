"""The kit can fail: against a server that deviates from the spec on purpose, each deviation
is reported with its request and the run exits non-zero. The same run shows that the kit puts
its prefix on every name, cleans up after itself even though checks failed, and never touches
the /_mock/ control API of a server it did not start."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import pytest
from contract_kit_support import API_KEY, EXAMPLES, PREFIX, REPO, SEED, run_kit, run_st
from flask import Flask, Response

from mockserver import create_app
from mockserver.testkit.live_server import LiveServer


def deviating_mock(seen: list[tuple[str, str, object, int]]) -> Flask:
    """runagents-mock with four deliberate deviations, made by WSGI middleware that rewrites
    the mock's answers for three operations and lets one through without a key."""
    # strict_responses would turn our deviations into 500s (this repo's suite sets it for every mock).
    app = create_app({"api_keys": (API_KEY,), "strict_responses": False})
    spec = app.extensions["runagents_mock"].spec
    wsgi = app.wsgi_app

    def deviate(environ, start_response):
        request = (environ["REQUEST_METHOD"], environ["PATH_INFO"], _json_body(environ))
        # No key, no problem: GET /api/identity-providers answers without Authorization.
        if environ["PATH_INFO"] == "/api/identity-providers" and not environ.get("HTTP_AUTHORIZATION"):
            environ["HTTP_AUTHORIZATION"] = f"Bearer {API_KEY}"
        op = spec.find(environ["REQUEST_METHOD"], environ["PATH_INFO"])
        response = Response.from_app(wsgi, environ)
        operation = op.operation_id if op else None
        if operation == "createTool" and response.status_code == 201:
            # A renamed field: Tool requires "namespace".
            body = response.get_json()
            body["ns"] = body.pop("namespace")
            response.set_data(json.dumps(body))
        elif operation == "listAgents" and response.status_code == 200:
            response.status_code = 202  # a status the spec does not document for this operation
        elif operation == "getModelProvider" and response.status_code == 404:
            # An HTML error page instead of the documented {"error": "..."}.
            response = Response("<h1>Not Found</h1>", status=404, mimetype="text/html")
        seen.append((*request, response.status_code))
        return response(environ, start_response)

    app.wsgi_app = deviate
    return app


def _json_body(environ) -> object:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if not length:
        return None
    raw = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(raw)  # put it back for the app
    try:
        return json.loads(raw)
    except ValueError:
        return None


@pytest.fixture(scope="module")
def deviating_run(tmp_path_factory):
    seen: list[tuple[str, str, object, int]] = []
    junit = tmp_path_factory.mktemp("junit") / "contract.xml"
    with LiveServer(app=deviating_mock(seen)) as live:
        run = run_kit(
            "--base-url",
            live.url,
            "--api-key",
            API_KEY,
            "--max-examples",
            EXAMPLES,
            "--seed",
            SEED,
            "--report",
            str(junit),
        )
        yield run, live, seen, junit


def test_exits_non_zero(deviating_run):
    run, *_ = deviating_run
    assert run.exit_code == 1, run.stderr + run.report
    assert "Result: FAILED" in run.report


def test_reports_the_renamed_field(deviating_run):
    run, *_ = deviating_run
    block = run.deviation_block("createTool", "Response violates schema")
    assert "namespace" in block  # what is missing
    assert "request:   POST http://127.0.0.1:" in block and "/api/tools" in block
    assert '"ns":' in block  # what came back
    # A pasteable reproduction: the key comes from the shell, never from the report.
    assert "reproduce: curl -X POST" in block
    assert '-H "Authorization: Bearer $RUNAGENTS_API_KEY"' in block
    # (Body fields named like secrets, e.g. credentials, stay masked as schemathesis masks them.)
    assert "Authorization: [Filtered]" not in run.report and API_KEY not in run.report
    assert "DEVIATION createTool" in run.operation_line("createTool")


def test_reports_the_undocumented_status(deviating_run):
    run, *_ = deviating_run
    block = run.deviation_block("listAgents", "Undocumented status code")
    assert "expected:  one of the documented statuses 200" in block
    assert "got:       202" in block
    assert "request:   GET http://127.0.0.1:" in block


def test_reports_the_non_json_error_body(deviating_run):
    run, *_ = deviating_run
    block = run.deviation_block("getModelProvider", "Content-Type")
    assert "application/json" in block and "text/html" in block
    assert "<h1>Not Found</h1>" in block


def test_reports_the_missing_authentication(deviating_run):
    run, *_ = deviating_run
    block = run.deviation_block("listIdentityProviders", "not refused")
    assert "check:     auth_enforced" in block
    assert "got:       200" in block


def test_junit_has_a_failure_per_deviating_operation(deviating_run):
    *_, junit = deviating_run
    failed = {
        case.get("name")
        for case in ET.parse(junit).iter("testcase")
        if case.find("failure") is not None or case.find("error") is not None
    }
    for label in (
        "POST /api/tools",
        "GET /api/agents",
        "GET /api/model-providers/{name}",
        "GET /api/identity-providers",
    ):
        assert f"test_operation[{label}]" in failed


def test_cleans_up_even_though_checks_failed(deviating_run):
    run, live, *_ = deviating_run
    assert "Cleanup: deleted" in run.report and "cleanup incomplete" not in run.report
    platform = live.mock.platform
    assert not platform.tools.items and not platform.providers.items and not platform.identity.items
    assert not platform.agents.items
    # Runs and access requests cannot be deleted; the ones left open were closed.
    assert not platform.runs.list(status="RUNNING") and not platform.runs.list(status="PAUSED_APPROVAL")
    assert not platform.governance.list(status="PENDING")


def test_prefixes_every_name_and_leaves_the_control_api_alone(deviating_run):
    _, _, seen, _ = deviating_run
    assert not [path for _, path, _, _ in seen if path.startswith("/_mock")]
    fields = ("name", "agent_name", "subject", "agent_id", "tool_id")
    # What the server accepted: bodies invalid on purpose go out as generated, and are refused.
    sent = [
        body[field]
        for method, _, body, status in seen
        if method == "POST" and status < 300 and isinstance(body, dict)
        for field in fields
        if isinstance(body.get(field), str)
    ]
    assert sent and all(name.startswith(PREFIX) for name in sent), sorted(set(sent))[:10]


def test_the_bare_cli_finds_nothing_the_kit_missed(deviating_run, tmp_path):
    """Issue 12: a PASSED (or a shorter list) from the kit never hides what `st run --checks
    all` finds with the same seed on the same server."""
    run, live, *_ = deviating_run
    # The phases whose requests are per operation (stateful failures are not); examples and
    # coverage are the quick ones, and the kit runs both too.
    st = run_st(
        REPO / "openapi.yaml",
        live.url,
        API_KEY,
        tmp_path,
        "--max-examples",
        EXAMPLES,
        "-w",
        "2",
        "--phases",
        "examples,coverage",
    )
    assert st.exit_code == 1, st.output[-4000:]
    found_by_st = {label for label in st.failing_operations() if " /" in label}
    spec = live.mock.spec
    by_label = {f"{op.method} {op.path}": op.operation_id for op in spec.operations.values()}
    assert found_by_st, st.output[-4000:]
    assert {by_label[label] for label in found_by_st} <= run.deviating_operations(), st.output[-4000:]
