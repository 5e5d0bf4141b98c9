"""The runtime path on ``runagents-mock serve`` (granian, one event loop): an agent behind
``--agent-endpoint`` that calls back into the mock while its invoke is open, and the resume
worker; and the runtime path with ``--no-admin``."""

from __future__ import annotations

import sys
from pathlib import Path

from reliability_support import ServedMock
from runtime_support import World, free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "plain_agent"))
from plain_agent import PlainAgent, serve


def test_approval_round_trip_on_granian_with_agent_endpoint_flag():
    port = free_port()
    with ServedMock(
        "--api-key", "runtime-test", "--agent-endpoint", f"agent-system/refund-bot=http://127.0.0.1:{port}"
    ) as mock:
        world = World(mock.url)
        tool = {
            "name": "payments",
            "spec": {
                "connection": {"baseUrl": "https://payments.example.test"},
                "governance": {"accessControl": {"mode": "Critical"}},
            },
        }
        assert world.call("POST", "/api/tools", json=tool).status_code == 201
        assert (
            world.call(
                "POST", "/api/deploy", json={"agent_name": "refund-bot", "image": "i", "required_tools": ["payments"]}
            ).status_code
            == 201
        )
        env = world.call("GET", "/_mock/agents/agent-system/refund-bot/env").json()
        agent = serve(PlainAgent(env), port=port)
        try:
            reply = world.call(
                "POST", "/api/agents/agent-system/refund-bot/invoke", json={"message": "refund 7 10"}
            ).json()
            request_id = reply["approval_required"]["request_id"]
            run_id = world.call("GET", f"/governance/requests/{request_id}").json()["run_id"]
            assert world.call("POST", f"/governance/requests/{request_id}/approve", json={}).status_code == 200
            assert world.wait_for_run(run_id, ("COMPLETED", "FAILED"))["status"] == "COMPLETED"
        finally:
            agent.shutdown()
            agent.server_close()


def test_runtime_path_works_without_the_control_api(make_api):
    api = make_api(admin_enabled=False)
    api.post("/api/starter-kit")
    api.post("/api/deploy", {"agent_name": "bot", "image": "i", "required_tools": ["echo-tool"]})
    assert api.request("GET", "/_egress/agent-system/bot/echo-tool/x", auth=False).status_code == 200
    assert api.get("/_mock/agents/agent-system/bot/env").status_code == 404
