"""HTTP glue for /api/deploy, /api/starter-kit and /api/agents, and their /api/v1 forms."""

from __future__ import annotations

from ..agent_calls import invoke
from ..common import DEFAULT_NAMESPACE, Handlers
from ..workspace.models import agent_model_usage
from .models import STARTER_PROVIDER, STARTER_TOOL

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
    proxied = invoke(platform, req.path["namespace"], req.path["name"], req.body,
                                 req.header("X-End-User-ID"), req.header("X-Run-ID"))
    if proxied is not None:  # the agent has a real endpoint: its answer, as it is
        return 200, proxied[1]
    reply = platform.agents.invoke(req.path["namespace"], req.path["name"], req.body,
                                   req.header("X-End-User-ID"), req.header("X-Run-ID"))
    return 200, reply


# --- /api/v1: agents by name in the workspace the base URL carries ----------------------

@handlers.operation("deployAgentV1")
def deploy_agent_v1(platform, req):
    result = platform.agents.deploy(platform.drafts.hydrate(req.body))  # draft_id: the draft's fields
    built = "build_id" in result
    return 201, {**result, "execution_mode": "SOURCE_BUILD" if built else "IMAGE", "build_required": built,
                 "build_profile": "source_build" if built else "image",
                 "decision_reason": "source files without an image are built" if built else "pre-built image given"}


@handlers.operation("seedStarterKitV1")
def seed_starter_kit_v1(platform, req):
    platform.agents.seed_starter_kit()
    return 201, {"tool_created": STARTER_TOOL, "model_provider_created": STARTER_PROVIDER}


@handlers.operation("getAgentByName")
def get_agent_by_name(platform, req):
    return 200, platform.agents.get_by_name(req.path["name"])


@handlers.operation("deleteAgentByName")
def delete_agent_by_name(platform, req):
    with platform.lock:
        platform.agents.get_by_name(req.path["name"])
        platform.agents.delete(DEFAULT_NAMESPACE, req.path["name"])
    return 200, {"status": "deleted"}


@handlers.operation("invokeAgentByName")
def invoke_agent_by_name(platform, req):
    platform.agents.get_by_name(req.path["name"])
    reply = platform.agents.invoke(DEFAULT_NAMESPACE, req.path["name"], req.body,
                                   req.header("X-End-User-ID"), req.header("X-Run-ID"))
    return 200, reply


@handlers.operation("getAgentConfig")
def get_agent_config(platform, req):
    return 200, {**platform.agents.config(req.path["name"]), "model_usage": agent_model_usage(platform, req.path["name"])}


@handlers.operation("updateAgentConfig")
def update_agent_config(platform, req):
    config = platform.agents.update_config(req.path["name"], req.body)
    return 200, {**config, "model_usage": agent_model_usage(platform, req.path["name"])}
