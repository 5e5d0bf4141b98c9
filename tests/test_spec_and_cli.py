"""openapi.yaml itself, the packaged copy, and the `runagents-mock serve` command."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from mockserver.spec.document import Spec, default_spec_path

ROOT = Path(__file__).resolve().parents[1]

# The operations issue #2 asks for, by group: a check on the spec, not a route list the mock uses.
REQUIRED_OPERATIONS = {
    "deploy": ["POST /api/deploy", "POST /api/starter-kit"],
    "agents": [
        "GET /api/agents",
        "GET /api/agents/{namespace}/{name}",
        "DELETE /api/agents/{namespace}/{name}",
        "POST /api/agents/{namespace}/{name}/invoke",
    ],
    "tools": [
        "GET /api/tools",
        "POST /api/tools",
        "GET /api/tools/{name}",
        "DELETE /api/tools/{name}",
        "POST /api/tools/probe",
        "POST /api/tools/{name}/test",
    ],
    "model-providers": [
        "GET /api/model-providers",
        "POST /api/model-providers",
        "GET /api/model-providers/{name}",
        "DELETE /api/model-providers/{name}",
    ],
    "identity-providers": [
        "GET /api/identity-providers",
        "POST /api/identity-providers",
        "GET /api/identity-providers/{name}",
        "DELETE /api/identity-providers/{name}",
    ],
    "runs": [
        "POST /runs",
        "GET /runs",
        "GET /runs/{id}",
        "PATCH /runs/{id}",
        "POST /runs/{id}/events",
        "GET /runs/{id}/events",
        "POST /runs/{id}/actions",
        "GET /runs/{id}/actions/{action_id}",
        "POST /runs/{id}/actions/{action_id}/approve",
    ],
    "approvals": [
        "POST /governance/requests",
        "GET /governance/requests",
        "GET /governance/requests/{id}",
        "POST /governance/requests/{id}/approve",
        "POST /governance/requests/{id}/reject",
    ],
    "llm-gateway": ["POST /v1/chat/completions"],
    "ingestion": ["POST /analyze", "GET /analysis/{id}", "POST /requirements"],
    "builds": ["POST /api/builds", "GET /api/builds/{id}"],
}


@pytest.fixture(scope="module")
def document():
    return yaml.safe_load((ROOT / "openapi.yaml").read_text())


def test_spec_is_valid_openapi_31(document):
    from openapi_spec_validator import validate

    validate(document)
    assert document["openapi"].startswith("3.1")


def test_packaged_spec_is_the_root_spec():
    assert default_spec_path().read_text() == (ROOT / "openapi.yaml").read_text()


@pytest.mark.parametrize("tag", sorted(REQUIRED_OPERATIONS))
def test_required_operations_are_specified(document, tag):
    spec = Spec(document)
    found = {f"{op.method} {op.path}": op for op in spec.operations.values()}
    for key in REQUIRED_OPERATIONS[tag]:
        assert key in found, key
        method, path = key.split(" ")
        raw = document["paths"][path][method.lower()]
        assert tag in raw["tags"], key
        assert "401" in raw["responses"] and "400" in raw["responses"], key
        if "requestBody" in raw:
            assert "413" in raw["responses"], key


def test_bearer_security_everywhere(document):
    assert document["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        **document["components"]["securitySchemes"]["bearerAuth"],
        "type": "http",
        "scheme": "bearer",
    }
    # The only exception: the agent runtime's calls, which the platform takes without a key.
    overrides = {
        (path, method): op["security"]
        for path, item in document["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "security" in op
    }
    assert overrides == {
        ("/runs/{id}/checkpoint", "post"): [],
        ("/runs/{id}/checkpoint/{action_id}", "get"): [],
        ("/runs/{id}/tool-result", "post"): [],
    }


def test_special_headers_are_documented(document):
    headers = {p["name"] for p in document["components"]["parameters"].values() if p["in"] == "header"}
    assert {"X-End-User-ID", "X-Run-ID", "X-Payload-Hash"} <= headers


def test_no_control_endpoints_in_the_spec(document):
    assert not [p for p in document["paths"] if p.startswith("/_mock")]


# --- the command ------------------------------------------------------------------------------


def start(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver.web.cli", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    match = re.search(r"http://[\d.]+:\d+", line)
    assert match, line + proc.stderr.read()
    return proc, match.group(0)


def call(url: str, key: str | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_serve_answers_then_stops_on_sigterm():
    proc, url = start()
    try:
        assert url.startswith("http://127.0.0.1:")
        assert call(url + "/api/agents", "any") == (200, [])
        status, body = call(url + "/api/agents")
        assert status == 401 and "API key" in body["error"]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "stopped" in out


def test_serve_with_api_keys_and_seed(tmp_path):
    fixture = tmp_path / "seed.yaml"
    fixture.write_text("tools: [{name: echo, base_url: https://echo.example}]\n")
    proc, url = start("--api-key", "k1", "--api-key", "k2", "--seed", str(fixture))
    try:
        assert call(url + "/api/tools", "nope")[0] == 401
        status, tools = call(url + "/api/tools", "k2")
        assert status == 200 and [t["name"] for t in tools] == ["echo"]
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_serve_refuses_a_bad_seed_file(tmp_path):
    fixture = tmp_path / "seed.yaml"
    fixture.write_text("tools: [{name: broken}]\n")
    proc = subprocess.run(
        [sys.executable, "-m", "mockserver.web.cli", "serve", "--port", "0", "--seed", str(fixture)],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert proc.returncode == 2
    assert "tools[0]: spec is required" in proc.stderr


def test_spec_has_no_duplicate_keys():
    # YAML keeps the last of two equal keys without a word; a doubled response code would hide.
    class StrictLoader(yaml.SafeLoader):
        pass

    def construct_mapping(loader, node, deep=False):
        keys = [key.value for key, _ in node.value]
        doubled = sorted({k for k in keys if keys.count(k) > 1})
        assert not doubled, f"duplicate keys {doubled} at {node.start_mark}"
        return yaml.SafeLoader.construct_mapping(loader, node, deep)

    StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    yaml.load((ROOT / "openapi.yaml").read_text(), Loader=StrictLoader)


def test_live_server_stops_even_when_its_wake_up_pipe_is_already_closed():
    # Under load waitress can lose the pipe LiveServer.stop uses to reach its serving thread
    # (Pylons/waitress#468); stop() must still close the port instead of raising.
    import socket

    from mockserver.testkit.live_server import LiveServer

    live = LiveServer().start()
    host, port = live.url.rsplit("//", 1)[1].split(":")
    with urllib.request.urlopen(
        urllib.request.Request(live.url + "/api/tools", headers={"Authorization": "Bearer k"}), timeout=5
    ) as answer:
        assert answer.status == 200
    for fd in live._server.trigger._fds:  # what the race leaves behind: the pipe's ends closed
        os.close(fd)
    live._server.trigger._fds = []
    live.stop()
    assert not live._thread.is_alive()
    with pytest.raises(OSError):
        socket.create_connection((host, int(port)), timeout=2).close()


@pytest.mark.parametrize("main_module", ["mockserver.web.cli", "contracts.cli"])
def test_both_commands_answer_version(main_module, capsys):
    from importlib import import_module
    from importlib.metadata import version

    with pytest.raises(SystemExit) as done:
        import_module(main_module).main(["--version"])
    assert done.value.code == 0
    name = "runagents-mock" if main_module == "mockserver.web.cli" else "runagents-contract"
    assert capsys.readouterr().out.startswith(f"{name} {version('runagents-mock')}")


def test_contract_help_states_exit_codes_and_the_optional_key():
    from contracts.cli import build_parser

    text = " ".join(build_parser().format_help().split())
    assert "exit codes: 0 every operation conforms; 1 deviations found" in text
    assert "2 the run could not be done" in text
    assert "Optional against the mock" in text
