"""Invoke is one operation on both releases (issue 25, point 2): /api/v1/agents/{name}/invoke,
like the February path, creates the run and forwards to the agent with X-Run-ID and the end
user, and answers what the agent answered; an unreachable agent is the platform's 502."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from api_support import error_of

WS_KEY = {"X-RunAgents-API-Key": "ra_ws_invoke"}


def deploy_pay_agent(api, url: str) -> None:
    """An image agent, ``pay-agent``, deployed through /api/v1 and answering at ``url``."""
    deployed = api.request(
        "POST",
        "/api/v1/deploy",
        json_body={"agent_name": "pay-agent", "image": "acme/pay:1"},
        headers=WS_KEY,
        auth=False,
    )
    assert deployed.status_code == 201, deployed.get_json()
    api.put("/_mock/agents/agent-system/pay-agent/endpoint", {"url": url})


@pytest.fixture
def agent_server() -> Iterator[tuple[str, list]]:
    """A plain HTTP agent that records what it is sent and answers {"response": "hi <message>"}."""
    seen: list = []

    class Agent(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append(
                {
                    "path": self.path,
                    "run": self.headers.get("X-Run-ID"),
                    "user": self.headers.get("X-End-User-Id"),
                    "body": body,
                }
            )
            data = json.dumps({"response": f"hi {body.get('message')}"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Agent)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("path", ["/api/v1/agents/pay-agent/invoke", "/api/agents/agent-system/pay-agent/invoke"])
def test_invoke_forwards_to_the_agent_and_makes_a_run_on_both_releases(api, agent_server, path):
    url, seen = agent_server
    deploy_pay_agent(api, url)

    answer = api.request(
        "POST",
        path,
        json_body={"message": "dana"},
        auth=False,
        headers={**WS_KEY, "X-End-User-ID": "dana@example.com"}
        if path.startswith("/api/v1")
        else {"Authorization": "Bearer k", "X-End-User-ID": "dana@example.com"},
    )
    assert answer.status_code == 200 and answer.get_json() == {"response": "hi dana"}
    [call] = seen
    assert (call["path"], call["user"], call["body"]) == ("/invoke", "dana@example.com", {"message": "dana"})
    run = api.request("GET", f"/api/v1/runs/{call['run']}", headers=WS_KEY, auth=False).get_json()
    assert (run["status"], run["agent_id"], run["user_id"]) == ("COMPLETED", "pay-agent", "dana@example.com")


def test_v1_invoke_errors_are_the_platforms(api):
    missing = api.request("POST", "/api/v1/agents/ghost/invoke", json_body={"message": "x"}, headers=WS_KEY, auth=False)
    assert missing.status_code == 404 and error_of(missing) == "agent ghost not found"
    deploy_pay_agent(api, "http://127.0.0.1:9")  # nothing listens
    unreachable = api.request(
        "POST", "/api/v1/agents/pay-agent/invoke", json_body={"message": "x"}, headers=WS_KEY, auth=False
    )
    assert unreachable.status_code == 502 and error_of(unreachable).startswith("failed to reach agent: ")
