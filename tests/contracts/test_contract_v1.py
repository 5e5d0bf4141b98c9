"""The kit against the June 2026 API: it passes on the mock's /api/v1 surface (picked from the
base URL, workspace key in X-RunAgents-API-Key), and reports a server that answers the
February shapes there."""

from __future__ import annotations

import pytest
from contract_kit_support import SEED, run_kit

from mockserver import create_app
from mockserver.testkit.live_server import LiveServer

WORKSPACE_KEY = "ra_ws_kit-test"
# policy -> bound agent -> approval with each scope; draft -> deploy; key -> rotate -> revoke.
JUNE_FLOW_LINKS = [
    ("createPolicyV1", "deployAgentV1", "DeployAgentBoundToPolicy"),
    ("deployAgentV1", "createAccessRequest", "RequestApprovalForAgent"),
    ("createRun", "createAccessRequest", "RequestApprovalInRun"),
    ("createAccessRequest", "approveAccessRequest", "ApproveOnce"),
    ("createAccessRequest", "approveAccessRequest", "ApproveForTheRun"),
    ("createAccessRequest", "approveAccessRequest", "ApproveForAWindow"),
    ("createDeployDraft", "completeDeployDraft", "CompleteDraft"),
    ("completeDeployDraft", "deployAgentV1", "DeployCompletedDraft"),
    ("createWorkspaceApiKey", "rotateWorkspaceApiKey", "RotateKey"),
    ("rotateWorkspaceApiKey", "revokeWorkspaceApiKey", "RevokeRotatedKey"),
]


def assert_followed(report: str, source: str, target: str, name: str) -> None:
    """The report's line for a required link says it was followed and answered 2xx at least once."""
    line = next((l for l in report.splitlines() if l.endswith(f"{source} -> {target} ({name})")), "")
    assert line, f"{name} is not in the report:\n{report}"
    followed, succeeded, ok, required = line.split()[0:4]  # "xN, M ok * source -> target (name)"
    assert ok == "ok" and required == "*", line
    assert int(followed.strip("x,")) >= int(succeeded) >= 1, line


@pytest.fixture
def june_mock():
    """An in-thread mock that remembers the headers of every /api/v1 request it got."""
    app = create_app({"workspace_keys": {"kit": WORKSPACE_KEY}})
    seen: list[tuple[str, bool, str]] = []
    wsgi = app.wsgi_app

    def remember(environ, start_response):
        seen.append(
            (environ["PATH_INFO"], "HTTP_X_RUNAGENTS_API_KEY" in environ, environ.get("HTTP_AUTHORIZATION", ""))
        )
        return wsgi(environ, start_response)

    app.wsgi_app = remember
    with LiveServer(app=app) as live:
        live.seen = seen
        yield live


def test_passes_against_a_workspace_of_the_june_surface(june_mock):
    base = june_mock.url + "/api/v1/workspaces/kit"
    # One example per operation (85 of them): the kit still walks every required link, with
    # directed walks where random ones miss, in about half the time of two.
    run = run_kit("--base-url", base, "--api-key", WORKSPACE_KEY, "--max-examples", "1", "--seed", SEED)

    assert run.exit_code == 0, run.report + run.stderr
    assert "Result: PASSED" in run.report and "getAgentByName" in run.report and "listCatalog" in run.report
    # The June flows (issue 26): each of their links is required and was followed with a 2xx.
    for source, target, name in JUNE_FLOW_LINKS:
        assert_followed(run.report, source, target, name)
    assert "skipped   seedStarterKitV1" in run.report  # fixed names: not sent to a server we do not own
    keyed = [(path, header) for path, header, bearer in june_mock.seen if path.startswith("/api/v1/")]
    assert keyed and all(path.startswith("/api/v1/workspaces/kit/") for path, _ in keyed)
    # The key goes in its header, never as a bearer. Requests without the header are auth
    # probes: ours (no key), schemathesis' ignored_auth and negative cases (made-up bearers).
    assert any(header for _, header, _ in june_mock.seen)
    assert not any(WORKSPACE_KEY in bearer for _, _, bearer in june_mock.seen)


@pytest.fixture
def february_shapes_on_v1():
    """A server that answers /api/v1/<path> with the February API's /api/<path> (or /<path>)."""
    app = create_app()
    mock = app.extensions["runagents_mock"]
    february = {op.path.split("{")[0].rstrip("/") for op in mock.spec.operations.values()}
    wsgi = app.wsgi_app

    def rewrite(environ, start_response):
        path = environ["PATH_INFO"]
        if path.startswith("/api/v1/"):
            rest = path[len("/api/v1") :]
            with_api = "/api" + rest
            environ["PATH_INFO"] = (
                with_api if any(with_api.startswith(p) for p in february if p.startswith("/api/")) else rest
            )
        return wsgi(environ, start_response)

    app.wsgi_app = rewrite
    with LiveServer(app=app) as live:
        yield live


def test_reports_a_server_answering_february_shapes_on_v1(february_shapes_on_v1):
    # A bearer key: the February server refuses X-RunAgents-API-Key, which the preflight would
    # report as a refused key; here the shapes are what should be reported.
    run = run_kit(
        "--base-url",
        february_shapes_on_v1.url + "/api/v1",
        "--api-key",
        "kit-bearer-key",
        "--read-only",
        "--max-examples",
        "1",
        "--seed",
        SEED,
    )

    assert run.exit_code == 1, run.report + run.stderr
    # June-only reads are missing there: undocumented 404s.
    assert {"listCatalog", "getModelSpend", "exportContext"} <= run.deviating_operations()


def test_reproduce_lines_read_either_key_header_from_the_shell():
    from contracts.results import pasteable

    line = pasteable(
        "curl -X GET -H 'X-RunAgents-API-Key: [Filtered]' -H 'Authorization: [Filtered]' "
        "http://127.0.0.1:1/api/v1/tools"
    )
    assert line == (
        'curl -X GET -H "X-RunAgents-API-Key: $RUNAGENTS_API_KEY" '
        '-H "Authorization: Bearer $RUNAGENTS_API_KEY" http://127.0.0.1:1/api/v1/tools'
    )
