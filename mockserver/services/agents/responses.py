"""HTTP glue for /api/deploy, /api/starter-kit and /api/agents."""

from __future__ import annotations

from ...runtime import agent_calls
from ..common import Handlers

handlers = Handlers()


@handlers.operation("deployAgent")
def deploy_agent(platform, req):
    return 201, platform.agents.deploy(req.body)


@handlers.operation("seedStarterKit")
def seed_starter_kit(platform, req):
    return 200, platform.agents.seed_starter_kit()


@handlers.operation("listAgents")
def list_agents(platform, req):
    return 200, platform.agents.list()


@handlers.operation("getAgent")
def get_agent(platform, req):
    return 200, platform.agents.get(req.path["namespace"], req.path["name"])


@handlers.operation("deleteAgent")
def delete_agent(platform, req):
    platform.agents.delete(req.path["namespace"], req.path["name"])
    return 200, {"status": "deleted"}


@handlers.operation("invokeAgent")
def invoke_agent(platform, req):
    proxied = agent_calls.invoke(platform, req.path["namespace"], req.path["name"], req.body,
                                 req.header("X-End-User-ID"), req.header("X-Run-ID"))
    if proxied is not None:  # the agent has a real endpoint: its answer, as it is
        return 200, proxied[1]
    reply = platform.agents.invoke(req.path["namespace"], req.path["name"], req.body,
                                   req.header("X-End-User-ID"), req.header("X-Run-ID"))
    return 200, reply
