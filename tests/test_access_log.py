"""The access log (issue 27.1): one line per request on both servers, never the key, and quiet
in the pytest plugin unless a test asks for it."""

from __future__ import annotations

import json
import logging
import time

import pytest
import requests
from reliability_support import ServedMock

SECRET = "sk-live-very-secret-key"


def _lines(served: ServedMock, count: int) -> list[str]:
    """The server's first ``count`` stderr lines, once written (the log follows the answer)."""
    deadline = time.monotonic() + 10
    while len(served.stderr.splitlines()) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return served.stderr.splitlines()


@pytest.mark.parametrize("server", ["granian", "waitress"])
def test_json_access_log_names_the_request_never_the_key(server):
    with ServedMock(
        "--server", server, "--log-level", "info", "--log-format", "json", "--api-key", "other", "--api-key", SECRET
    ) as served:
        auth = {"Authorization": f"Bearer {SECRET}"}
        assert requests.get(served.url + "/api/tools?token=query-secret", headers=auth, timeout=10).status_code == 200
        minted = requests.post(served.url + "/_mock/workspaces/revops/keys", headers=auth, timeout=10).json()
        assert (
            requests.get(
                served.url + "/api/v1/workspaces/revops/tools",
                timeout=10,
                headers={"X-RunAgents-API-Key": minted["key"]},
            ).status_code
            == 200
        )
        assert (
            requests.get(
                served.url + "/api/nothing-here", headers={"Authorization": "Bearer wrong"}, timeout=10
            ).status_code
            == 401
        )
        assert requests.get(served.url + "/openapi.json", timeout=10).status_code == 200
        entries = [json.loads(line) for line in _lines(served, 5)]
    assert [(e["method"], e["path"], e["status"], e["workspace"], e["key_id"]) for e in entries] == [
        ("GET", "/api/tools", 200, "default", "api-key-2"),
        ("POST", "/_mock/workspaces/revops/keys", 201, "revops", "api-key-2"),
        ("GET", "/api/v1/workspaces/revops/tools", 200, "revops", minted["id"]),
        ("GET", "/api/nothing-here", 401, "default", entries[3]["key_id"]),
        ("GET", "/openapi.json", 200, None, None),  # a page: no workspace, no key
    ]
    assert entries[3]["key_id"].startswith("fp-")  # an unknown key: a fingerprint, not the key
    assert all(e["level"] == "info" and e["duration_ms"] >= 0 for e in entries)
    for secret in (SECRET, minted["key"], "query-secret", "wrong"):
        assert secret not in served.output


def test_text_lines_cannot_be_forged_by_the_path():
    with ServedMock("--server", "waitress", "--log-level", "info") as served:
        requests.get(served.url + "/api/tools%0AGET%20/forged%20200", headers={"Authorization": "Bearer k"}, timeout=10)
        lines = _lines(served, 1)
    assert len(lines) == 1, lines
    assert lines[0].startswith("GET /api/tools\\nGET%20/forged%20200 404 "), lines
    assert lines[0].endswith(" ws=default key=" + lines[0].rsplit("key=", 1)[1])


def test_log_level_warning_logs_no_request():
    with ServedMock("--server", "waitress", "--log-level", "warning") as served:
        assert (
            requests.get(served.url + "/api/tools", headers={"Authorization": "Bearer k"}, timeout=10).status_code
            == 200
        )
        assert requests.get(served.url + "/_mock/health", timeout=10).status_code == 200
    assert served.stderr == ""


def test_the_fixture_is_quiet_until_a_test_asks(runagents_mock, caplog):
    requests.get(runagents_mock.url + "/api/tools", headers={"Authorization": "Bearer k"}, timeout=10)
    assert not [r for r in caplog.records if r.name == "runagents_mock.access"]

    caplog.set_level(logging.INFO, logger="runagents_mock.access")
    requests.get(runagents_mock.url + "/api/tools", headers={"Authorization": "Bearer k"}, timeout=10)
    deadline = time.monotonic() + 10  # logged when the server closes the answer, after sending it
    while not [r for r in caplog.records if r.name == "runagents_mock.access"] and time.monotonic() < deadline:
        time.sleep(0.02)
    (record,) = [r for r in caplog.records if r.name == "runagents_mock.access"]
    assert record.access["path"] == "/api/tools" and record.access["status"] == 200
    assert record.access["key_id"].startswith("fp-")
