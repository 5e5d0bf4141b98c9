"""The plugin as a downstream project sees it: a separate pytest run that only has the
installed package (entry point ``pytest11``) and the ``runagents_mock`` fixture."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

MODES = {"serial": (), "xdist": ("-n", "2")}

PYPROJECT = """\
[tool.pytest.ini_options]
addopts = "-p no:cacheprovider"
"""

DOWNSTREAM_TESTS = """\
import os
import pytest
import requests


def tools(mock):
    answer = requests.get(mock.url + "/api/tools", headers=mock.headers, timeout=5)
    return [tool["name"] for tool in answer.json()]


def record_server(mock, worker_id):
    with open(os.environ["SERVERS_LOG"], "a") as log:
        log.write(f"{worker_id} {mock.url}\\n")


@pytest.mark.parametrize("n", range(6))
def test_state_never_leaks_between_tests(runagents_mock, worker_id, n):
    record_server(runagents_mock, worker_id)
    assert tools(runagents_mock) == []
    requests.post(runagents_mock.url + "/api/tools", headers=runagents_mock.headers, timeout=5,
                  json={"name": "leak-check", "base_url": "https://leak.example"})
    runagents_mock.faults.add(method="GET", path="/api/agents", status=503)
    assert tools(runagents_mock) == ["leak-check"]


@pytest.mark.parametrize("n", range(2))
def test_faults_do_not_leak_either(runagents_mock, worker_id, n):
    record_server(runagents_mock, worker_id)
    answer = requests.get(runagents_mock.url + "/api/agents", headers=runagents_mock.headers, timeout=5)
    assert answer.status_code == 200


@pytest.mark.runagents_seed("seed.yaml")
def test_marker_seed(runagents_mock, worker_id):
    record_server(runagents_mock, worker_id)
    assert tools(runagents_mock) == ["seeded"]
"""


def write_project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.mark.parametrize("mode", MODES)
def test_the_example_app_passes(run_pytest, mode):
    result = run_pytest("examples/approval_bot", "-q", *MODES[mode])
    assert result.returncode == 0, result.output
    assert result.outcomes() == {"passed": 10}, result.output


@pytest.mark.parametrize("mode", MODES)
def test_a_downstream_project_gets_a_fresh_mock_per_test_and_a_server_per_worker(run_pytest, tmp_path, mode):
    project = write_project(
        tmp_path,
        {
            "pyproject.toml": PYPROJECT,
            "tests/test_downstream.py": DOWNSTREAM_TESTS,
            "tests/seed.yaml": "tools: [{name: seeded, base_url: 'https://seeded.example'}]\n",
        },
    )
    servers_log = tmp_path / "servers.log"

    result = run_pytest("-q", *MODES[mode], cwd=project, env={"SERVERS_LOG": str(servers_log)})

    assert result.returncode == 0, result.output
    assert result.outcomes() == {"passed": 9}, result.output
    url_by_worker: dict[str, set[str]] = {}
    for line in servers_log.read_text().splitlines():
        worker, url = line.split()
        url_by_worker.setdefault(worker, set()).add(url)
    assert all(len(urls) == 1 for urls in url_by_worker.values()), url_by_worker  # once per session
    urls = set().union(*url_by_worker.values())
    if mode == "serial":
        assert set(url_by_worker) == {"master"} and len(urls) == 1
    else:
        assert set(url_by_worker) == {"gw0", "gw1"} and len(urls) == 2  # one server per worker


SEED_OPTION_TESTS = """\
import os
import requests


def test_seeded_from_options(runagents_mock):
    answer = requests.get(runagents_mock.url + "/api/tools", headers=runagents_mock.headers, timeout=5)
    assert [t["name"] for t in answer.json()] == os.environ["EXPECTED"].split(",")
"""


def test_seed_from_the_ini_option_and_the_command_line(run_pytest, tmp_path):
    project = write_project(
        tmp_path,
        {
            "pyproject.toml": PYPROJECT + 'runagents_seed = ["seeds/ini.yaml"]\n',
            "seeds/ini.yaml": "tools: [{name: from-ini, base_url: 'https://ini.example'}]\n",
            "seeds/cli.yaml": "tools: [{name: from-cli, base_url: 'https://cli.example'}]\n",
            "seeds/more.json": '{"tools": [{"name": "more", "base_url": "https://more.example"}]}\n',
            "tests/test_options.py": SEED_OPTION_TESTS,
        },
    )

    from_ini = run_pytest("-q", cwd=project / "tests", env={"EXPECTED": "from-ini"})
    assert from_ini.outcomes() == {"passed": 1}, from_ini.output

    # The command line replaces the ini option; relative paths are relative to the cwd.
    from_cli = run_pytest(
        "-q",
        "--runagents-seed",
        "seeds/cli.yaml",
        "--runagents-seed",
        "seeds/more.json",
        cwd=project,
        env={"EXPECTED": "from-cli,more"},
    )
    assert from_cli.outcomes() == {"passed": 1}, from_cli.output


FAILING_TESTS = """\
import pytest
import requests


def test_spec_breaking_response(runagents_mock_factory):
    mock = runagents_mock_factory(spec_path="wrong-openapi.yaml")
    mock.seed({"tools": [{"name": "t", "base_url": "https://t.example"}]})
    requests.get(mock.url + "/api/tools", headers=mock.headers, timeout=5)


def test_expected_call_missing(runagents_mock):
    requests.get(runagents_mock.url + "/api/agents/agent-system/ghost", headers=runagents_mock.headers,
                 timeout=5)
    runagents_mock.assert_called("POST", "/api/deploy")


@pytest.mark.runagents_seed("no-such-fixture.yaml")
def test_missing_fixture(runagents_mock):
    pass


def test_failing_test_also_shows_spec_problems(runagents_mock_factory):
    mock = runagents_mock_factory(spec_path="wrong-openapi.yaml")
    mock.seed({"tools": [{"name": "t", "base_url": "https://t.example"}]})
    requests.get(mock.url + "/api/tools", headers=mock.headers, timeout=5)
    assert False, "the test's own failure"
"""


def test_failures_are_readable(run_pytest, tmp_path):
    spec = (REPO_ROOT / "openapi.yaml").read_text(encoding="utf-8")
    wrong = spec.replace(
        "    Tool:\n      type: object\n      required: [name, namespace, spec, status]",
        "    Tool:\n      type: object\n      required: [name, namespace, spec, status, bogus]",
    )
    assert wrong != spec, "the Tool schema moved; update this test"
    project = write_project(tmp_path, {"pyproject.toml": PYPROJECT, "tests/test_failing.py": FAILING_TESTS})
    (project / "tests" / "wrong-openapi.yaml").write_text(wrong, encoding="utf-8")
    # The factory's spec_path is relative to the cwd, so run from tests/.
    result = run_pytest("-q", "-rfE", cwd=project / "tests")

    assert result.outcomes() == {"failed": 3, "error": 1}, result.output
    out = result.output
    # Strict conformance: the test fails (not errors) with the list of problems.
    assert "FAILED test_failing.py::test_spec_breaking_response" in out
    assert (
        "runagents-mock sent 1 response(s) that do not match openapi.yaml:\n"
        "  - GET /api/tools 200: 0: 'bogus' is a required property\n"
    ) in out
    # assert_called lists what was received, with the error text of failed requests.
    assert "AssertionError: expected POST /api/deploy to be called at least once, but it was called 0 time(s)." in out
    assert "runagents-mock received 1 request(s) in this test:" in out
    assert "  1. GET /api/agents/agent-system/ghost -> 404 agent agent-system/ghost not found" in out
    assert "pytest_plugin.py" not in out.split("test_expected_call_missing")[1].split("___")[0]  # frames hidden
    # A missing fixture file is a setup error naming the places looked at.
    assert "ERROR test_failing.py::test_missing_fixture" in out
    assert "fixture file not found: no-such-fixture.yaml (looked at" in out
    # A test failing on its own still shows the spec problems, in a report section.
    assert "the test's own failure" in out
    assert "runagents-mock conformance" in out

    # With strictness off, the spec problems no longer fail a test.
    lenient = run_pytest(
        "-q", "-o", "runagents_strict=false", "test_failing.py::test_spec_breaking_response", cwd=project / "tests"
    )
    assert lenient.outcomes() == {"passed": 1}, lenient.output
