"""A page on another origin cannot make a mock that runs agents (``run_agents``) start code, by
any path that puts source into it: both releases' deploys, an action plan, a seed, a state load,
and invoking what it put there (issue 28, point 1)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


def hostile_source(marker: Path) -> str:
    return (
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n\n"
        "def handler(request):\n    return {'response': 'ran'}\n"
    )


def attack_script(mock: str, source: str) -> str:
    deploy = {"agent_name": "evil", "source_files": {"agent.py": source}, "entry_point": "agent.py"}
    plan = {
        "plan_id": "p",
        "actions": [{"id": "d", "type": "deploy.execute", "idempotency_key": "k", "params": deploy}],
    }
    state = {
        "version": 1,
        "agents": {
            "items": [
                {"name": "evil", "namespace": "agent-system", "spec": {"image": "x"}, "status": {"phase": "Running"}}
            ],
            "extras": [
                ["agent-system", "evil", {"source": {"files": {"agent.py": source}, "entry_point": "agent.py"}}]
            ],
        },
    }
    # Simple requests (no preflight) reach the mock; the others are what a page would try too.
    attempts = [
        ("/api/v1/deploy", "POST", deploy, {"Content-Type": "text/plain"}),
        ("/api/v1/deploy", "POST", deploy, {"Content-Type": "application/json", "X-RunAgents-API-Key": "ra_ws_x"}),
        ("/api/deploy", "POST", deploy, {"Content-Type": "text/plain"}),
        ("/api/deploy", "POST", deploy, {"Authorization": "Bearer stolen", "Content-Type": "application/json"}),
        ("/api/v1/actions/apply", "POST", plan, {"Content-Type": "text/plain"}),
        ("/_mock/seed", "POST", {"agents": [deploy]}, {"Content-Type": "text/plain"}),
        ("/_mock/state", "PUT", state, {"Content-Type": "application/json"}),
        ("/api/v1/agents/evil/invoke", "POST", {"message": "go"}, {"Content-Type": "text/plain"}),
        ("/api/agents/agent-system/evil/invoke", "POST", {"message": "go"}, {"Content-Type": "text/plain"}),
        (
            "/api/v1/agents/evil/invoke",
            "POST",
            {"message": "go"},
            {"Content-Type": "application/json", "X-RunAgents-API-Key": "ra_ws_x"},
        ),
    ]
    calls = ",\n".join(
        f"() => fetch({json.dumps(mock + path)}, {{method: {json.dumps(method)}, mode: "
        f"{json.dumps('no-cors' if set(headers) == {'Content-Type'} and headers['Content-Type'] == 'text/plain' else 'cors')}, "
        f"headers: {json.dumps(headers)}, body: {json.dumps(json.dumps(body))}}}).catch(() => null)"
        for path, method, body, headers in attempts
    )
    return f"(async () => {{ for (const call of [{calls}]) {{ await call(); }} document.title = 'done'; }})();"


@pytest.fixture
def hostile_origin():
    """A site on another origin (another port) serving the attacking page."""
    pages: dict[str, bytes] = {}

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/javascript" if self.path.endswith(".js") else "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", pages
    server.shutdown()
    server.server_close()


def test_a_page_on_another_origin_cannot_start_code(make_site, page, hostile_origin, tmp_path):
    site = make_site(run_agents=True)  # open mode: any key, and /_mock/ without one
    origin, pages = hostile_origin
    marker = tmp_path / "ran"
    pages["/attack.js"] = attack_script(site.url, hostile_source(marker)).encode()
    pages["/"] = b"<!doctype html><title>cat pictures</title><script src='/attack.js'></script>"
    page.on("console", lambda message: None)  # CORS refusals are logged there; they are the point

    page.goto(origin + "/")
    page.wait_for_function("document.title === 'done'", timeout=60_000)

    # The page's simple requests reached the mock: its browser guard refused them all (another
    # Origin: docs/reliability.md), before any API saw them...
    reached = {(e["method"], e["path"]) for e in site.control("GET", "journal").json()}
    assert (
        not {
            ("POST", "/api/v1/deploy"),
            ("POST", "/api/deploy"),
            ("POST", "/api/v1/actions/apply"),
            ("POST", "/api/v1/agents/evil/invoke"),
            ("POST", "/api/agents/agent-system/evil/invoke"),
        }
        & reached
    )
    # ...and the open control API may take its seed (unless its own Origin checks refuse it),
    # but nothing of it ran.
    assert [a["name"] for a in site.api("GET", "/api/agents").json()] in ([], ["evil"])
    assert site.server.agent_runner.list() == []
    assert not marker.exists()
    # What the page did manage to put there (a seed in open mode) waits for a keyed invoke: it
    # is never started by the page.
    assert site.control("GET", "agent-processes").json() == {"enabled": True, "agents": []}


def test_the_console_shows_a_running_agent_and_its_log_and_approves_its_request(make_site, page):
    """The console (the mock's own origin) shows agent processes; an approval made there resumes
    the agent's run, and the agent's own output appears in its log."""
    from playwright.sync_api import expect

    site = make_site(run_agents=True)
    agent = (Path(__file__).parents[2] / "examples" / "first_governed_agent" / "agent.py").read_text()
    agent = agent.replace(
        "def handler(request):", "def handler(request):\n    print('handling', request['message'], flush=True)"
    )
    v1 = {"X-RunAgents-API-Key": "ra_ws_console"}
    assert site.api("POST", "/api/v1/starter-kit", headers=v1).status_code == 201
    assert site.api(
        "POST",
        "/api/v1/policies",
        headers=v1,
        json={
            "name": "gate",
            "spec": {
                "policies": [
                    {"permission": "approval_required", "resource": "http://echo-tool.agent-system.svc:8080/*"}
                ]
            },
        },
    ).ok
    assert (
        site.api(
            "POST",
            "/api/v1/deploy",
            headers=v1,
            json={
                "agent_name": "console-agent",
                "source_files": {"agent.py": agent},
                "entry_point": "agent.py",
                "required_tools": ["echo-tool"],
                "policies": ["gate"],
            },
        ).status_code
        == 201
    )
    paused = site.api("POST", "/api/v1/agents/console-agent/invoke", headers=v1, json={"message": "hello-from-test"})
    assert paused.json()["approval_required"]["tool"] == "echo-tool"

    page.goto(site.url + "/_mock/ui")
    process = page.locator('#agent-process-list details[data-id="default/agent-system/console-agent"]')
    expect(process).to_have_attribute("data-phase", "running")
    process.locator("summary").click()
    expect(process.locator("pre.log")).to_contain_text("handling hello-from-test")

    page.locator("#pending-requests button.approve").click()
    expect(page.locator('#run-list details.run[data-status="COMPLETED"]')).to_have_count(1)


def test_the_console_decides_a_named_workspaces_request_with_a_scope_and_shows_its_agents_log(make_site, page):
    from playwright.sync_api import expect

    site = make_site(run_agents=True)
    ws = "/api/v1/workspaces/revops"
    agent = "def handler(request):\n    print('revops agent got', request['message'], flush=True)\n    return {'response': 'ok'}\n"
    assert (
        site.api(
            "POST",
            f"{ws}/deploy",
            json={"agent_name": "revops-agent", "source_files": {"agent.py": agent}, "entry_point": "agent.py"},
        ).status_code
        == 201
    )
    assert site.api("POST", f"{ws}/agents/revops-agent/invoke", json={"message": "hello"}).json()["response"] == "ok"
    request = site.api(
        "POST",
        f"{ws}/approvals/requests",
        json={"subject": "revops-agent", "tool_id": "echo-tool", "agent_id": "revops-agent"},
    ).json()

    page.goto(site.url + "/_mock/ui")
    expect(page.locator("#workspace-select option")).to_have_count(2)  # default and revops
    page.select_option("#workspace-select", "revops")
    row = page.locator(f'#pending-requests tr[data-id="{request["id"]}"]')
    row.locator("select.scope").select_option("agent_user_ttl")
    row.locator("input.duration").fill("30m")
    row.locator("button.approve").click()
    expect(page.locator(f'#grants tr[data-id="{request["id"]}"] td.status')).to_have_text("APPROVED")
    decided = site.api("GET", f"{ws}/approvals/requests/{request['id']}").json()
    assert (decided["status"], decided["scope"], decided["duration"]) == ("APPROVED", "agent_user_ttl", "30m")
    assert site.api("GET", "/api/v1/approvals/requests").json() == []  # the default workspace saw nothing

    process = page.locator('#agent-process-list details[data-id="revops/agent-system/revops-agent"]')
    process.locator("summary").click()
    expect(process.locator("pre.log")).to_contain_text("revops agent got hello")
