"""A deployed agent in plain HTTP, as the platform runs one: it reads the env the platform injects
(``TOOL_<NAME>_URL``, ``GOVERNANCE_URL``, ``AGENT_NAME``), serves ``POST /invoke`` and
``POST /resume/<action_id>``, and calls its tools with ``requests``. No SDK, no API key.

Messages it understands:
- ``look up <order>``: ``GET`` on the ``orders`` tool;
- ``refund <order> <amount>``: ``POST /v1/refunds`` on the ``payments`` tool (which needs approval).

When a tool answers ``403`` with ``"code": "APPROVAL_REQUIRED"`` it checkpoints the pending call
at ``{GOVERNANCE_URL}/runs/<run>/checkpoint`` and answers with ``approval_required``; the
platform calls ``/resume/<action_id>`` after the approval, and the agent replays the call.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

TIMEOUT = 30


class PlainAgent:
    def __init__(self, env: Mapping[str, str]):
        self.env = dict(env)

    def tool_url(self, tool: str) -> str:
        return self.env[f"TOOL_{tool.upper().replace('-', '_')}_URL"]

    # --- the two entry points -----------------------------------------------------------

    def invoke(self, body: Mapping[str, Any], run_id: str, user: str) -> dict[str, Any]:
        words = str(body.get("message", "")).split()
        if len(words) == 3 and words[:2] == ["look", "up"]:
            call = {"method": "GET", "url": f"{self.tool_url('orders')}/v1/orders/{words[2]}", "body": None}
        elif len(words) == 3 and words[0] == "refund":
            call = {
                "method": "POST",
                "url": f"{self.tool_url('payments')}/v1/refunds",
                "body": {"order": words[1], "amount": int(words[2])},
            }
        else:
            return {"response": "I can 'look up <order>' or 'refund <order> <amount>'."}
        return self._call_tool(call, run_id, user)

    def resume(self, action_id: str, run_id: str, user: str) -> dict[str, Any]:
        checkpoint = requests.get(f"{self.env['GOVERNANCE_URL']}/runs/{run_id}/checkpoint/{action_id}", timeout=TIMEOUT)
        checkpoint.raise_for_status()
        [call] = checkpoint.json()["pending_calls"]
        return self._call_tool(call, run_id, user)

    # --- tools --------------------------------------------------------------------------

    def _call_tool(self, call: Mapping[str, Any], run_id: str, user: str) -> dict[str, Any]:
        headers = {"X-Run-ID": run_id, "X-End-User-ID": user}
        data = json.dumps(call["body"]) if call["body"] is not None else None
        if data is not None:
            headers["Content-Type"] = "application/json"
        answer = requests.request(call["method"], call["url"], data=data, headers=headers, timeout=TIMEOUT)
        detail = answer.json() if answer.headers.get("Content-Type", "").startswith("application/json") else {}
        if answer.status_code == 403 and detail.get("code") == "APPROVAL_REQUIRED":
            requests.post(
                f"{self.env['GOVERNANCE_URL']}/runs/{run_id}/checkpoint",
                timeout=TIMEOUT,
                json={"action_id": detail["action_id"], "pending_calls": [dict(call)], "messages": []},
            ).raise_for_status()
            return {"response": detail["message"], "approval_required": detail}
        if answer.status_code == 403 and detail.get("code") == "CONSENT_REQUIRED":
            return {"response": detail["message"], "consent_required": detail}
        if answer.status_code >= 400:
            return {"response": f"the tool refused: {detail.get('error', answer.status_code)}"}
        return {"response": "done", "tool_answer": detail}


def serve(agent: PlainAgent, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Serve the agent on a thread; ``server.server_address`` says where."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            run_id = self.headers.get("X-Run-ID", "")
            user = self.headers.get("X-End-User-Id", "")
            if self.path == "/invoke":
                self._json(agent.invoke(body, run_id, user))
            elif self.path.startswith("/resume/"):
                self._json(agent.resume(self.path[len("/resume/") :], run_id, user))
            else:
                self.send_error(404)

        def _json(self, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="plain-agent", daemon=True
    ).start()
    return server


if __name__ == "__main__":  # PORT and the platform's env, e.g. from `runagents-mock env`
    import os

    server = serve(PlainAgent(os.environ), "127.0.0.1", int(os.environ.get("PORT", "8080")))
    print(f"plain agent on http://127.0.0.1:{server.server_address[1]}", flush=True)
    threading.Event().wait()
