"""HTTP glue for /api/deploy, /api/starter-kit and /api/agents, and their /api/v1 forms."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..agent_calls import invoke
from ..agent_processes.models import may_start_code
from ..common import DEFAULT_NAMESPACE
from ..handlers import Handlers, Reply
from ..workspace.models import agent_model_usage
from .models import STARTER_PROVIDER, STARTER_TOOL, deploy_decision

if TYPE_CHECKING:
    from ...spec.document import ApiRequest
    from ..platform import Platform

handlers = Handlers()


def _may_start(req: ApiRequest) -> bool:
    """Whether this request may start agent code (docs/runtime.md, "Running agents"). Only the
    API's dispatcher hands a handler the client's headers (a Host among them), after checking the
    API key; seeds and action plans replay operations with none, so they never start code."""
    return may_start_code(keyed=req.header("Host") is not None, origin=req.header("Origin"), host=req.header("Host"))


def _base_url(req: ApiRequest) -> str:
    """The mock's URL as the agent should reach it: the host the client used."""
    return f"http://{req.header('Host') or '127.0.0.1:8092'}"


def _deployed(platform: Platform, req: ApiRequest, name: str) -> None:
    if platform.agent_runner is not None:
        platform.agent_runner.deployed(platform, DEFAULT_NAMESPACE, name, _may_start(req), _base_url(req))


def _stopped(platform: Platform, namespace: str, name: str) -> None:
    if platform.agent_runner is not None:
        platform.agent_runner.stop(platform.workspace, namespace, name)


@handlers.operation("deployAgent")
def deploy_agent(platform: Platform, req: ApiRequest) -> Reply:
    result = platform.agents.deploy(req.body)
    _deployed(platform, req, result["agent_name"])
    return 201, result


@handlers.operation("seedStarterKit")
def seed_starter_kit(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.agents.seed_starter_kit()


@handlers.operation("listAgents")
def list_agents(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.agents.list()


@handlers.operation("getAgent")
def get_agent(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.agents.get(req.path["namespace"], req.path["name"])


@handlers.operation("deleteAgent")
def delete_agent(platform: Platform, req: ApiRequest) -> Reply:
    platform.agents.delete(req.path["namespace"], req.path["name"])
    _stopped(platform, req.path["namespace"], req.path["name"])
    return 200, {"status": "deleted"}


@handlers.operation("invokeAgent")
def invoke_agent(platform: Platform, req: ApiRequest) -> Reply:
    return _invoke(platform, req, req.path["namespace"])


def _invoke(platform: Platform, req: ApiRequest, namespace: str) -> Reply:
    """Both releases' invoke: the agent's own answer when it has an endpoint or runs here,
    else the mock's."""
    name, user, run_id = req.path["name"], req.header("X-End-User-ID"), req.header("X-Run-ID")
    proxied = invoke(platform, namespace, name, req.body, user, run_id, _may_start(req), _base_url(req))
    if proxied is not None:  # its answer, as it is
        return 200, proxied[1]
    return 200, platform.agents.invoke(namespace, name, req.body, user, run_id)


# --- /api/v1: agents by name in the workspace the base URL carries ----------------------


@handlers.operation("deployAgentV1")
def deploy_agent_v1(platform: Platform, req: ApiRequest) -> Reply:
    body = platform.drafts.hydrate(req.body)  # draft_id: the draft's fields
    result = platform.agents.deploy(body, instant=True)
    _deployed(platform, req, result["agent_name"])
    return 201, {**result, **deploy_decision(body)}


@handlers.operation("seedStarterKitV1")
def seed_starter_kit_v1(platform: Platform, req: ApiRequest) -> Reply:
    platform.agents.seed_starter_kit()
    return 201, {"tool_created": STARTER_TOOL, "model_provider_created": STARTER_PROVIDER}


@handlers.operation("getAgentByName")
def get_agent_by_name(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.agents.get_by_name(req.path["name"])


@handlers.operation("deleteAgentByName")
def delete_agent_by_name(platform: Platform, req: ApiRequest) -> Reply:
    with platform.lock:
        platform.agents.get_by_name(req.path["name"])
        platform.agents.delete(DEFAULT_NAMESPACE, req.path["name"])
    _stopped(platform, DEFAULT_NAMESPACE, req.path["name"])
    return 200, {"status": "deleted"}


@handlers.operation("invokeAgentByName")
def invoke_agent_by_name(platform: Platform, req: ApiRequest) -> Reply:
    platform.agents.get_by_name(req.path["name"])
    return _invoke(platform, req, DEFAULT_NAMESPACE)


@handlers.operation("getAgentConfig")
def get_agent_config(platform: Platform, req: ApiRequest) -> Reply:
    return 200, {
        **platform.agents.config(req.path["name"]),
        "model_usage": agent_model_usage(platform, req.path["name"]),
    }


@handlers.operation("updateAgentConfig")
def update_agent_config(platform: Platform, req: ApiRequest) -> Reply:
    config = platform.agents.update_config(req.path["name"], req.body)
    return 200, {**config, "model_usage": agent_model_usage(platform, req.path["name"])}
