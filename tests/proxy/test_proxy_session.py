"""A session through ``runagents-mock proxy`` in front of ``runagents-mock serve``: the mock's
answers conform (zero response problems), bad requests are reported as the client's, and the
recorded fixture rebuilds the same state in a fresh mock. One session, several assertions."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from contextlib import contextmanager

import pytest
import requests
import yaml
from contract_kit_support import serve_mock
from proxy_support import proxy_process

from mockserver import create_app

KEY = "proxy-session-key-0123"
SECRET = "sk_live_never_written_0123"
AUTH = {"Authorization": f"Bearer {KEY}"}


def behaviour_flows(base: str) -> dict:
    """The documented flows, through the proxy; answers what the test needs later."""
    s = requests.Session()
    s.headers.update(AUTH)

    def ok(method: str, path: str, body=None, expect=(200, 201, 202)):
        response = s.request(method, base + path, json=body, timeout=10)
        assert response.status_code in expect, f"{method} {path} -> {response.status_code} {response.text}"
        assert response.headers["X-RunAgents-Proxy-Answered-By"] == "upstream"
        return response.json()

    ok("POST", "/api/starter-kit")
    ok("GET", "/api/tools")
    ok("GET", "/api/model-providers")
    ok(
        "POST",
        "/api/tools",
        {"name": "stripe-api", "base_url": "https://api.stripe.com", "credentials": {"api_key": SECRET}},
    )
    ok("POST", "/api/tools", {"name": "gone-tool", "base_url": "https://gone.example.com"})
    ok("DELETE", "/api/tools/gone-tool")
    ok(
        "POST",
        "/api/model-providers",
        {
            "name": "openai",
            "spec": {
                "provider": "openai",
                "endpoint": "https://api.openai.com",
                "models": ["gpt-4o"],
                "auth": {"type": "None"},
            },
        },
    )
    ok(
        "POST",
        "/api/identity-providers",
        {
            "name": "corp-idp",
            "spec": {
                "host": "agents.example.com",
                "identityProvider": {"issuer": "https://idp.example.com", "jwksUri": "https://idp.example.com/jwks"},
                "userIDClaim": "email",
            },
        },
    )
    ok("POST", "/api/deploy", {"agent_name": "payment-agent", "image": "registry.example.com/payment-agent:1"})
    ok("GET", "/api/agents")
    done = ok("POST", "/runs", {"agent_id": "payment-agent", "user_id": "alice@example.com"})
    ok("POST", f"/runs/{done['id']}/events", {"type": "USER_MESSAGE", "data": {"text": "pay"}})
    ok("POST", f"/runs/{done['id']}/events", {"type": "AGENT_MESSAGE", "actor": "payment-agent"})
    ok("PATCH", f"/runs/{done['id']}", {"status": "COMPLETED"})
    waiting = ok("POST", "/runs", {"agent_id": "payment-agent", "user_id": "bob@example.com"})
    ok("POST", f"/runs/{waiting['id']}/events", {"type": "USER_MESSAGE"})
    action = ok("POST", f"/runs/{waiting['id']}/actions", {"tool_id": "stripe-api"})
    ok("POST", f"/runs/{waiting['id']}/actions/{action['action_id']}/approve", {})
    ok("GET", f"/runs/{waiting['id']}/events")
    approved = ok("POST", "/governance/requests", {"subject": "payment-agent-sa", "tool_id": "stripe-api"})
    ok("POST", f"/governance/requests/{approved['id']}/approve", {"approver_id": "carol", "duration": "90m"})
    rejected = ok("POST", "/governance/requests", {"subject": "other-sa", "tool_id": "stripe-api"})
    ok("POST", f"/governance/requests/{rejected['id']}/reject", {"reason": "not needed"})
    ok("POST", "/governance/requests", {"subject": "third-sa", "tool_id": "echo-tool"})
    stream = s.post(
        base + "/v1/chat/completions",
        timeout=10,
        stream=True,
        json={"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
    )
    assert stream.status_code == 200 and stream.headers["Content-Type"].startswith("text/event-stream")
    events = [line for line in stream.iter_lines() if line.startswith(b"data: ")]
    assert events[-1] == b"data: [DONE]" and len(events) > 2
    return {"stream_events": events}


def bad_requests(base: str) -> None:
    """What the client gets wrong: each answer is the mock's documented 4xx."""
    assert (
        requests.post(
            base + "/api/tools", json={"base_url": "https://x.example.com"}, headers=AUTH, timeout=10
        ).status_code
        == 400
    )
    assert requests.get(base + "/runs?status=SLEEPING", headers=AUTH, timeout=10).status_code == 400
    assert requests.get(base + "/api/tools", timeout=10).status_code == 401
    assert requests.get(base + "/api/nothing-here", headers=AUTH, timeout=10).status_code == 404


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    out = tmp_path_factory.mktemp("proxy-session")
    files = {name: out / name for name in ("fixture.yaml", "session.har", "report.json", "report.xml", "report.txt")}
    with contextmanager(serve_mock)("--server", "waitress") as upstream:
        with proxy_process(
            upstream.url,
            "--record",
            str(files["fixture.yaml"]),
            "--har",
            str(files["session.har"]),
            "--report",
            str(files["report.json"]),
            "--report",
            str(files["report.xml"]),
            "--report",
            str(files["report.txt"]),
            "--allow-undocumented",
        ) as proxy:
            seen = behaviour_flows(proxy.url)
            bad_requests(proxy.url)
            state = requests.get(upstream.url + "/_mock/state", headers=AUTH, timeout=10).json()
        yield proxy, files, state, seen


def test_the_mock_gives_zero_response_problems(session):
    proxy, files, *_ = session
    report = json.loads(files["report.json"].read_text())
    assert proxy.exit_code == 0, proxy.output
    assert report["passed"] and report["response_problems"] == [], report["response_problems"]
    assert "Result: PASSED" in proxy.output and "[response]" not in proxy.output
    # The one undocumented call (GET /api/nothing-here) is counted, and accepted only by the flag.
    assert report["summary"]["undocumented"] == 1 and report["summary"]["checked"] == report["exchanges"] - 1, report[
        "summary"
    ]
    assert "1 undocumented (accepted)" in proxy.output
    assert report["answered_by"] == {"upstream": report["exchanges"]}
    assert files["report.txt"].read_text().startswith("RunAgents proxy report:")


def test_bad_requests_are_the_clients_problems(session):
    proxy, files, *_ = session
    report = json.loads(files["report.json"].read_text())
    found = {(p["operation_id"], p["got"]) for p in report["request_problems"]}
    assert ("createTool", "name is required") in found
    assert any(op == "listRuns" and "status" in got for op, got in found), found
    assert ("listTools", "no credentials: the spec asks for Authorization: Bearer <key>") in found
    assert [p["operation"] for p in report["undocumented_problems"]] == ["GET /api/nothing-here"]
    # one line each as it happened
    assert "[request] createTool (POST /api/tools) -> 400: name is required" in proxy.output
    assert "[undocumented] GET /api/nothing-here -> 404" in proxy.output
    suites = {s.get("name"): s for s in ET.parse(files["report.xml"]).getroot()}
    failed = {c.get("name") for c in suites["runagents-proxy requests"] if c.find("failure") is not None}
    assert "createTool (POST /api/tools)" in failed
    assert not [c for c in suites["runagents-proxy responses"] if c.find("failure") is not None]


def _comparable(state: dict) -> dict:
    runs = state["runs"]
    return {
        "tools": sorted(t["name"] for t in state["tools"]["items"]),
        "model_providers": sorted(p["name"] for p in state["model_providers"]["items"]),
        "identity_providers": sorted(p["name"] for p in state["identity_providers"]["items"]),
        "agents": sorted(a["name"] for a in state["agents"]["items"]),
        "runs": {
            r["id"]: (
                r["status"],
                r["agent_id"],
                r["user_id"],
                [(e["seq"], e["type"], e.get("actor")) for e in runs["events"][r["id"]]],
            )
            for r in runs["runs"]
        },
        "access_requests": {
            r["id"]: (r["status"], r["subject"], r["tool_id"], r.get("approver_id"), r.get("duration"))
            for r in state["access_requests"]["items"]
        },
    }


def test_the_recorded_fixture_rebuilds_the_same_state(session):
    _, files, upstream_state, _ = session
    fresh = create_app({"seed_file": files["fixture.yaml"]}).extensions["runagents_mock"].platform.export()
    assert _comparable(fresh) == _comparable(upstream_state)


def test_the_record_and_the_har_hold_no_secret(session):
    _, files, *_ = session
    fixture = files["fixture.yaml"].read_text()
    har_text = files["session.har"].read_text()
    for text in (fixture, har_text):
        assert SECRET not in text and KEY not in text
    tools = {tool["name"]: tool for tool in yaml.safe_load(fixture)["tools"]}
    assert tools["stripe-api"] == {"name": "stripe-api", "base_url": "https://api.stripe.com"}  # no credentials
    har = json.loads(har_text)["log"]
    assert har["version"] == "1.2" and len(har["entries"]) == json.loads(files["report.json"].read_text())["exchanges"]
    first = har["entries"][0]
    assert {"name": "Authorization", "value": "***"} in first["request"]["headers"]
    assert first["response"]["status"] == 200 and first["request"]["url"].endswith("/api/starter-kit")


def test_sse_passes_through_unchanged(session):
    *_, seen = session
    chunks = [json.loads(e[len(b"data: ") :]) for e in seen["stream_events"][:-1]]
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
