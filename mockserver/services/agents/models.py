"""Agents, the deploy call that creates them, the starter kit, and invoking an agent."""

from __future__ import annotations

import copy
import json
import re
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ...basics.errors import ApiError
from ...basics.redact import redact_stored
from ..budget import stored_size
from ..builds.models import image_uri
from ..common import DEFAULT_NAMESPACE
from ..state import Persistent, log, mapping, pairs, records
from ..tools.models import check_base_url, spec_from_flat

if TYPE_CHECKING:
    from ..ports import PlatformPort

IDP_LABEL = "platform.ai/identity-provider"

STARTER_TOOL = "echo-tool"
STARTER_TOOL_SPEC = {
    "description": "Built-in echo tool for trying the platform (no external dependencies)",
    "connection": {
        "topology": "Internal",
        "baseUrl": "http://echo-tool.agent-system.svc:8080",
        "port": 8080,
        "scheme": "HTTP",
        "authentication": {"type": "None"},
    },
    "governance": {"accessControl": {"mode": "Open"}},
}
STARTER_PROVIDER = "playground-llm"
STARTER_PROVIDER_SPEC = {
    "provider": "openai",
    "endpoint": "https://api.openai.com",
    "models": ["gpt-4o-mini"],
    "auth": {
        "type": "APIKey",
        "apiKeyConfig": {
            "in": "Header",
            "name": "Authorization",
            "valuePrefix": "Bearer ",
            "secretRef": {"name": "playground-llm-credentials"},
        },
    },
}


# Frameworks the platform runs on a prebuilt overlay image (api/deploy.md's FAST_OVERLAY).
OVERLAY_FRAMEWORKS = frozenset(
    {"langchain", "langchain_core", "langchain_openai", "langgraph", "crewai", "llama_index", "autogen"}
)
_IMPORT = re.compile(r"^\s*(?:from\s+([A-Za-z_][\w]*)[\w.]*\s+import|import\s+([A-Za-z_][\w]*))", re.MULTILINE)
_HANDLER = re.compile(r"^(?:async\s+)?def\s+handler\s*\(", re.MULTILINE)
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.-]+)", re.MULTILINE)


def deploy_decision(body: Mapping[str, Any]) -> dict[str, Any]:
    """The June deploy answer's decision metadata for what was sent (api/deploy.md, the API
    quickstart): an image runs as it is; a plain ``handler`` function (in the entry point)
    whose imports are all the standard library, ``runagents`` or its own files, with no other
    requirement, runs at once on the shared runtime (``INSTANT_RUNTIME``); a known framework
    gets the overlay build (``FAST_OVERLAY``); anything else a full build (``SOURCE_BUILD``)."""
    if body.get("image"):
        return {
            "execution_mode": "IMAGE",
            "build_required": False,
            "build_profile": "image",
            "decision_reason": "pre-built image given",
        }
    files = body.get("source_files") or {}
    local = {re.sub(r"\.py$", "", name).split("/")[0] for name in files}
    imported = {
        m.group(1) or m.group(2) for text in files.values() if isinstance(text, str) for m in _IMPORT.finditer(text)
    }
    required = {
        m.group(1).lower().replace("-", "_")
        for m in _REQUIREMENT.finditer(body.get("requirements") or "")
        if not m.group(1).startswith("#")
    }
    required |= {
        m.group(1).lower().replace("-", "_") for m in _REQUIREMENT.finditer(files.get("requirements.txt") or "")
    }
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m not in local and m != "runagents"}
    extra = (required | {m.lower() for m in third_party}) - {"runagents"}
    if body.get("framework") or extra & OVERLAY_FRAMEWORKS:
        return {
            "execution_mode": "FAST_OVERLAY",
            "build_required": True,
            "build_profile": "fast_overlay",
            "decision_reason": "Detected framework runtime overlay path",
        }
    entry = files.get(body.get("entry_point") or "")
    handlers = [entry] if isinstance(entry, str) else [t for t in files.values() if isinstance(t, str)]
    if extra or not any(_HANDLER.search(text) for text in handlers):
        reason = (
            "source files with dependencies are built: " + ", ".join(sorted(extra))
            if extra
            else "source without a handler function is built"
        )
        return {
            "execution_mode": "SOURCE_BUILD",
            "build_required": True,
            "build_profile": "source_build",
            "decision_reason": reason,
        }
    return {
        "execution_mode": "INSTANT_RUNTIME",
        "build_required": False,
        "build_profile": "instant_runtime",
        "decision_reason": "plain handler without dependencies runs on the shared runtime",
    }


def llm_env(configs: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """LLM_MODEL/LLM_PROVIDER for the chat model, LLM_MODEL_<ROLE>/LLM_PROVIDER_<ROLE> for others."""
    env: list[dict[str, str]] = []
    for cfg in configs:
        role = (cfg.get("role") or "chat").lower()
        suffix = "" if role in ("chat", "default") else "_" + role.upper()
        env.append({"name": f"LLM_MODEL{suffix}", "value": cfg["model"]})
        env.append({"name": f"LLM_PROVIDER{suffix}", "value": cfg["provider"]})
    return env


def _primary_llm(configs: Sequence[Mapping[str, Any]]) -> dict[str, str] | None:
    chat = [c for c in configs if (c.get("role") or "chat") in ("chat", "default")]
    first = chat[0] if chat else (configs[0] if configs else None)
    return {"provider": first["provider"], "model": first["model"]} if first else None


def _replies_problem(replies: Any, state: Mapping[str, Any]) -> str | None:
    if not isinstance(replies, Mapping) or not all("/" in k for k in replies):
        return 'agents.replies must map "namespace/name" to the JSON reply'
    return None


def _build_of_problem(build_of: Any, state: Mapping[str, Any]) -> str | None:
    """[namespace, name, build id] of agents waiting for a build: both must exist."""
    if not isinstance(build_of, list) or not all(
        isinstance(entry, list) and len(entry) == 3 and all(isinstance(part, str) for part in entry)
        for entry in build_of
    ):
        return "agents.build_of must be a list of [namespace, name, build id]"
    agents = {(agent["namespace"], agent["name"]) for agent in (state.get("agents") or {}).get("items") or []}
    builds = {build["id"] for build in (state.get("builds") or {}).get("items") or []}
    for namespace, name, build_id in build_of:
        if (namespace, name) not in agents:
            return f"agents.build_of: agent {namespace}/{name} is not in the state"
        if build_id not in builds:
            return f"agents.build_of: build {build_id} of agent {namespace}/{name} is not in the state"
    return None


class AgentsBackend(Persistent):
    STATE = (
        records("items", key=("namespace", "name"), schema="Agent", charge="agents"),
        pairs("build_of", check=_build_of_problem),
        pairs("extras", dict, charge="agent extras"),
        mapping("replies", check=_replies_problem),
        log("invocations"),
    )

    def __init__(self, platform: PlatformPort) -> None:
        self.platform = platform
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.build_of: dict[tuple[str, str], str] = {}  # agent -> the build its image waits for
        self.replies: dict[str, Any] = {}  # "namespace/name" -> configured invoke reply
        self.invocations: list[dict[str, Any]] = []
        # What /api/v1 adds to an agent: bound policies and per-model budgets, by agent key.
        self.extras: dict[tuple[str, str], dict[str, Any]] = {}
        # A source deploy's files and entry point, for running it (serve --run-agents). Kept in
        # memory only, like credentials: source may hold secrets, so no export or store has it
        # (a store keeps every attribute not named ``_...``).
        self._sources: dict[tuple[str, str], dict[str, Any]] = {}

    # --- reads ------------------------------------------------------------------------

    def get(self, namespace: str, name: str) -> dict[str, Any]:
        with self.platform.lock:
            if (namespace, name) not in self.items:
                raise ApiError(404, f"agent {namespace}/{name} not found")
            return self._refresh((namespace, name))

    def get_by_name(self, name: str) -> dict[str, Any]:
        """The June surface names agents without a namespace: those deploy creates."""
        with self.platform.lock:
            if (DEFAULT_NAMESPACE, name) not in self.items:
                raise ApiError(404, f"agent {name} not found")
            return self._refresh((DEFAULT_NAMESPACE, name))

    def config(self, name: str) -> dict[str, Any]:
        """The agent's configuration as /api/v1/agents/{name}/config shows it."""
        with self.platform.lock:
            agent = self.get_by_name(name)
            extras = self.extras.get((DEFAULT_NAMESPACE, name), {})
        spec = agent["spec"]
        llms = extras.get("llm_configs")
        if llms is None:
            llms = (
                [{"role": "chat", "provider": spec["llmConfig"]["provider"], "model": spec["llmConfig"]["model"]}]
                if spec.get("llmConfig")
                else []
            )
        return {
            "agent_name": name,
            "namespace": agent["namespace"],
            "image": spec.get("image", ""),
            "system_prompt": spec.get("systemPrompt", ""),
            "identity_provider": agent.get("labels", {}).get(IDP_LABEL, ""),
            "llm_configs": [dict(c) for c in llms],
            "required_tools": [t["name"] for t in spec.get("requiredTools", [])],
            "policies": list(extras.get("policies", [])),
        }

    def update_config(self, name: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change only the fields sent; the agent record (read by both APIs) follows."""
        with self.platform.lock:
            agent = self.get_by_name(name)
            key = (DEFAULT_NAMESPACE, name)
            spec = dict(agent["spec"])
            extras = dict(self.extras.get(key, {}))
            labels = dict(agent.get("labels", {}))
            if "system_prompt" in changes:
                spec["systemPrompt"] = changes["system_prompt"]
            if "required_tools" in changes:
                spec["requiredTools"] = [{"name": t} for t in changes["required_tools"]]
            if "identity_provider" in changes:
                labels.pop(IDP_LABEL, None)
                if changes["identity_provider"]:
                    labels[IDP_LABEL] = changes["identity_provider"]
            if "llm_configs" in changes:
                configs = [dict(c) for c in changes["llm_configs"]]
                extras["llm_configs"] = configs
                usable = [
                    {
                        "provider": c.get("provider") or c.get("model_provider", ""),
                        "model": c["model"],
                        "role": c.get("role") or "chat",
                    }
                    for c in configs
                ]
                spec["env"] = [
                    e for e in spec.get("env", []) if not e["name"].startswith(("LLM_MODEL", "LLM_PROVIDER"))
                ] + llm_env(usable)
                primary = _primary_llm(usable)
                if primary:
                    spec["llmConfig"] = primary
                else:
                    spec.pop("llmConfig", None)
            if "policies" in changes:
                extras["policies"] = list(changes["policies"])
            updated = {**agent, "spec": spec}
            if labels:
                updated["labels"] = labels
            else:
                updated.pop("labels", None)
            self.platform.budget.charge_all(
                {("agents",) + key: stored_size(updated), ("agent extras",) + key: stored_size(extras)}
            )
            self.items[key] = updated
            self.extras[key] = extras
        return self.config(name)

    def list(self) -> list[dict[str, Any]]:
        with self.platform.lock:
            return [self._refresh(key) for key in list(self.items)]

    def _refresh(self, key: tuple[str, str]) -> dict[str, Any]:
        """An agent waiting for its build takes the build's outcome once it has one."""
        agent = self.items[key]
        build_id = self.build_of.get(key)
        if build_id is None:
            return agent
        build = self.platform.builds.get(build_id)
        if build["status"] == "SUCCEEDED":
            status = {"phase": "Running", "message": ""}
        elif build["status"] == "FAILED":
            status = {"phase": "Failed", "message": build.get("error", "build failed")}
        else:
            return agent
        del self.build_of[key]
        self.items[key] = agent = {**agent, "status": status}
        return agent

    # --- writes -----------------------------------------------------------------------

    def delete(self, namespace: str, name: str) -> None:
        with self.platform.lock:
            if self.items.pop((namespace, name), None) is None:
                raise ApiError(404, f"agent {namespace}/{name} not found")
            self.build_of.pop((namespace, name), None)
            self.platform.budget.release(("agents", namespace, name))
            self.platform.budget.release(("agent extras", namespace, name))
            self.platform.budget.release(("agent source", namespace, name))
            self.extras.pop((namespace, name), None)
            self._sources.pop((namespace, name), None)
            self.platform.policies.remove_generated(name)
            self.platform.runtime.set_endpoint(namespace, name, None)

    def source_of(self, namespace: str, name: str) -> dict[str, Any] | None:
        """A source deploy's files and entry point (what an agent process runs), or None."""
        with self.platform.lock:
            return self._sources.get((namespace, name))

    def set_process_failed(self, namespace: str, name: str, message: str) -> None:
        """The agent's process crashed for good: its status says so until it is deployed again."""
        with self.platform.lock:
            agent = self.get(namespace, name)
            self.items[(namespace, name)] = {**agent, "status": {"phase": "Failed", "message": message}}

    def deploy(self, body: Mapping[str, Any], instant: bool = False) -> dict[str, Any]:
        """Create tools, start a build when needed, then create or update the agent. With
        ``instant`` (the June deploy), source that needs no build runs at once (deploy_decision)."""
        name = body["agent_name"]
        namespace = DEFAULT_NAMESPACE
        with self.platform.lock:
            key = (namespace, name)
            self._check_room(key, body)
            tools_created = []
            for tool in body.get("tools_to_create") or []:
                self.platform.tools.put(tool["name"], spec_from_flat(tool))
                tools_created.append(tool["name"])
            result: dict[str, Any] = {}
            image = body.get("image")
            if not image and instant and not deploy_decision(body)["build_required"]:
                image = image_uri(name, body["source_files"])  # the shared runtime: no build
            elif not image:
                build = self.platform.builds.start(name, body["source_files"])
                image = build["image"]
                result = {"build_id": build["id"], "image_uri": image}
            configs = list(body.get("llm_configs") or ([body["llm_config"]] if body.get("llm_config") else []))
            spec: dict[str, Any] = {
                "image": image,
                "requiredTools": [{"name": t} for t in body.get("required_tools") or []],
                "env": list(body.get("env") or []) + llm_env(configs),
            }
            if body.get("system_prompt"):
                spec["systemPrompt"] = body["system_prompt"]
            primary = _primary_llm(configs)
            if primary:
                spec["llmConfig"] = primary
            agent: dict[str, Any] = {"name": name, "namespace": namespace, "spec": spec}
            if body.get("identity_provider"):
                agent["labels"] = {IDP_LABEL: body["identity_provider"]}
            if result:
                agent["status"] = {"phase": "Pending", "message": "waiting for build " + result["build_id"]}
                self.build_of[key] = result["build_id"]
            else:
                agent["status"] = {"phase": "Running", "message": ""}
                self.build_of.pop(key, None)
            self.items[key] = agent = redact_stored(agent)
            self.platform.budget.count(("agents",) + key, stored_size(agent))  # checked in _check_room
            extras = dict(self.extras.get(key, {}))
            if "policies" in body:
                extras["policies"] = list(body["policies"])
            self.platform.budget.release(("agent source",) + key)
            self._sources.pop(key, None)
            if body.get("source_files") and not body.get("image"):
                self._sources[key] = {"files": dict(body["source_files"]), "entry_point": body.get("entry_point") or ""}
                self.platform.budget.count(("agent source",) + key, stored_size(self._sources[key]))
            if extras or key in self.extras:
                self.extras[key] = extras
                self.platform.budget.count(("agent extras",) + key, stored_size(extras))
            self.platform.policies.auto_bind(name, body.get("required_tools") or [])
        return {"agent": name, "agent_name": name, "namespace": namespace, "tools_created": tools_created, **result}

    def _check_room(self, key: tuple[str, str], body: Mapping[str, Any]) -> None:
        """Every limit this deploy could hit, checked before anything is stored."""
        platform = self.platform
        platform.check_capacity("agents", len(self.items), int(key not in self.items))
        for index, tool in enumerate(body.get("tools_to_create") or []):
            check_base_url(tool.get("base_url"), f"tools_to_create[{index}].base_url")
        new_tools = {t["name"] for t in body.get("tools_to_create") or []} - set(platform.tools.items)
        platform.check_capacity("tools", len(platform.tools.items), len(new_tools))
        platform.check_capacity("builds", len(platform.builds.items), int(not body.get("image")))
        # The body holds everything this deploy stores (its tools and the agent): an upper bound.
        platform.budget.check(stored_size(body))

    def seed_starter_kit(self) -> dict[str, Any]:
        with self.platform.lock:
            tools_created, providers_created = [], []
            if STARTER_TOOL not in self.platform.tools.items:
                tool, _ = self.platform.tools.put(STARTER_TOOL, STARTER_TOOL_SPEC)
                self.platform.tools.items[STARTER_TOOL] = {**tool, "status": {"phase": "Available"}}
                tools_created.append(STARTER_TOOL)
            if STARTER_PROVIDER not in self.platform.providers.items:
                self.platform.providers.put(STARTER_PROVIDER, STARTER_PROVIDER_SPEC, ready=True)
                providers_created.append(STARTER_PROVIDER)
        message = (
            "Starter kit resources created"
            if tools_created or providers_created
            else "Starter kit resources already exist"
        )
        return {
            "status": "ok",
            "message": message,
            "tools_created": tools_created,
            "model_providers_created": providers_created,
        }

    def _kept_body(self, body: Any) -> Any:
        """An invocation's body as the log keeps it: redacted, and only up to the journal's cap
        (the log is bounded like the journal, by count and by body size)."""
        size = len(json.dumps(body))
        cap = self.platform.config.journal_body_bytes
        return redact_stored(body) if size <= cap else f"<{size} bytes: over the journal's {cap}-byte cap, not kept>"

    def invoke(self, namespace: str, name: str, body: Any, end_user: str | None, run_id: str | None) -> Any:
        """The agent's answer: a configured reply, else an echo of the request."""
        with self.platform.lock:
            agent = self.get(namespace, name)
            keep = self.platform.config.journal_size
            self.invocations.append(
                {
                    "agent": f"{namespace}/{name}",
                    "body": self._kept_body(body),
                    "end_user_id": end_user,
                    "run_id": run_id,
                    "at": self.platform.now_iso(),
                }
            )
            del self.invocations[: len(self.invocations) - keep]
            phase = agent["status"]["phase"]
            if phase != "Running":
                raise ApiError(502, f"failed to reach agent: agent {namespace}/{name} is {phase}")
            reply = self.replies.get(f"{namespace}/{name}")
        if reply is not None:
            # A copy: the configured reply may be the caller's own object, changed later.
            return copy.deepcopy(reply)
        message = body.get("message") if isinstance(body, dict) else None
        return {
            "response": f"echo: {message}" if message is not None else "echo",
            "agent": name,
            "namespace": namespace,
            "request": body,
        }

    # --- state ------------------------------------------------------------------------

    def settle(self) -> None:
        """Give agents waiting for a build the build's outcome (see Platform.export)."""
        for key in list(self.items):
            self._refresh(key)
