"""The kit passes against a conforming server (the mock, in another process and in-process),
stays read-only when asked, and refuses to report green with a key the server refuses."""

from __future__ import annotations

import pytest
from contract_kit_support import API_KEY, EXAMPLES, SEED, expect_conformance, run_kit, serve_mock

from mockserver import create_app
from mockserver.testkit.live_server import LiveServer


@pytest.fixture(scope="module")
def served_mock():
    yield from serve_mock("--api-key", API_KEY)


@pytest.fixture
def watched_mock():
    """An in-thread mock that remembers the method and path of every request it got."""
    app = create_app({"api_keys": (API_KEY,)})
    seen: list[tuple[str, str]] = []
    wsgi = app.wsgi_app

    def remember(environ, start_response):
        seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        return wsgi(environ, start_response)

    app.wsgi_app = remember

    with LiveServer(app=app) as live:
        live.seen = seen
        yield live


def test_passes_against_runagents_mock_serve(served_mock):
    run = run_kit("--base-url", served_mock.url, "--api-key", API_KEY, "--max-examples", EXAMPLES, "--seed", SEED)
    assert "skipped   seedStarterKit" in run.report  # fixed names: never sent to a server we do not own
    expect_conformance(run, served_mock.url)
    # The README's flows, followed with 2xx answers even at 2 examples: run -> event, blocked action
    # -> approve; create -> get -> delete. A required link (x-required-link) not covered fails the run.
    for link in (
        "AddEventToRun",
        "BlockActionOfRun",
        "ApproveBlockedAction",
        "GetCreatedTool",
        "DeleteCreatedTool",
        "GetDeployedAgent",
        "DeleteDeployedAgent",
        "ApproveCreatedAccessRequest",
    ):
        line = next((l for l in run.report.splitlines() if l.endswith(f"({link})")), "")
        assert "* " in line and " ok " in line and "NOT COVERED" not in line, f"{link}: {line!r}\n{run.report}"
    assert "every required one among them" in run.report, run.report


def test_passes_against_the_in_process_mock_with_positive_data_only():
    # The full run (invalid data too) is the served one above; this one also covers --positive-only.
    run = run_kit("--max-examples", EXAMPLES, "--seed", SEED, "--positive-only")
    assert "(in-process runagents-mock)" in run.report
    assert " 400" not in run.report.split("Link sequences")[0]  # nothing invalid was sent
    assert "ok        seedStarterKit" in run.report or "seedStarterKit" in run.deviating_operations()
    with LiveServer() as live:  # the kit's own mock is gone; reproduce known bugs on a fresh one
        expect_conformance(run, live.url)


def test_read_only_sends_nothing_but_get(watched_mock):
    run = run_kit(
        "--base-url", watched_mock.url, "--api-key", API_KEY, "--read-only", "--max-examples", EXAMPLES, "--seed", SEED
    )
    assert run.exit_code == 0, run.report + run.stderr
    assert {method for method, _ in watched_mock.seen} == {"GET"}
    assert "skipped   createTool" in run.report and "read-only run" in run.report
    assert "Cleanup: not needed (read-only run)" in run.report


def test_refused_key_is_a_clear_error_not_a_green_run(served_mock):
    run = run_kit("--base-url", served_mock.url, "--api-key", "wrong-key", "--max-examples", "1")
    assert run.exit_code == 2
    assert "refused the API key" in run.stderr + run.report
