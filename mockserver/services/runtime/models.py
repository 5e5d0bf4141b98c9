"""What a deployed agent meets at run time: the tool proxy's checks, OAuth consent,
checkpoints and tool results the agent runtime reports, and agents' real endpoints.

The egress checks, in the order the mock applies them (docs/runtime.md says why):

1. tool identification: the agent and the tool exist (404 otherwise);
2. policy evaluation: a matching deny, or no allow on a tool that needs no approval, is a
   plain 403; a matching ``approval_required`` (June) makes the call need approval;
3. capabilities: a declared list that does not cover method + path is ``403 operation not
   permitted`` (no approval lifts it);
4. approval (``approval_required`` rules, Critical or ``requireApproval`` tools): a run whose
   request was rejected stays at 403; a retry on a run whose approved (not yet executed)
   action carries another body hash is a 409; a call no approval outcome covers (their scopes:
   ``governance/scopes.py``) gets its own access request, and with ``X-Run-ID`` its own
   blocked action that pauses the run;
5. OAuth2 consent for (end user, tool);
6. allowed: the HTTP layer injects credentials and answers. The end user is always the run's
   (``X-End-User-ID`` from the agent is dropped).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ...basics.errors import ApiError
from ...spec.paths import EGRESS_PREFIX, LLM_PREFIX
from ...spec.surfaces import DEFAULT_WORKSPACE
from ..budget import stored_size
from ..governance.models import ANONYMOUS, verified_user
from ..governance.scopes import ToolCall
from ..policies.models import ALLOW, APPROVAL, DENY, requires_approval, tool_url
from ..runs.models import PLATFORM_ACTOR, _Derived
from ..state import Persistent, mapping, records
from .paths import tool_path

if TYPE_CHECKING:
    from ..ports import PlatformPort

STATE_TTL_SECONDS = 600


def _checkpoints_by_run(checkpoints: Mapping[str, Mapping[str, Any]]) -> dict[str, set[str]]:
    by_run: dict[str, set[str]] = {}
    for key, record in checkpoints.items():
        by_run.setdefault(record["run_id"], set()).add(key)
    return by_run


@dataclass
class Refusal:
    status: int
    body: dict[str, Any]


@dataclass
class Allowed:
    tool: dict[str, Any]
    url: str  # what the tool would receive: base URL + path (+ query)
    end_user: str | None
    run_id: str | None
    headers: dict[str, str] = field(default_factory=dict)  # credentials to inject (secret)
    query: dict[str, str] = field(default_factory=dict)  # credentials to inject (secret)


def payload_hash(body: bytes) -> str:
    """SHA-256 of the request body, hex."""
    return hashlib.sha256(body).hexdigest()


def capability_matches(capability: Mapping[str, Any], method: str, path: str) -> bool:
    """Method (``*`` for any) and path prefix, where ``*`` in the path matches one segment or more."""
    cap_method = str(capability.get("method") or "*").upper()
    if cap_method not in ("*", method.upper()):
        return False
    pattern = str(capability.get("path") or capability.get("pathPattern") or "/")
    if "*" not in pattern:
        return path == pattern or path.startswith(pattern.rstrip("/") + "/") or pattern == "/"
    return fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, pattern.rstrip("/") + "/*")


def env_name(tool_name: str) -> str:
    return tool_name.upper().replace("-", "_").replace(".", "_")


def agent_env(
    agent: Mapping[str, Any],
    base_url: str,
    tools: Mapping[str, Mapping[str, Any]] | None = None,
    source: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The environment the platform injects into a deployed agent, pointing at this mock.

    Tool URLs carry the agent's identity (no key needed), under both documented spellings.
    With the tools' records, ``TOOL_DEFINITIONS_JSON``/``TOOL_ROUTES_JSON`` describe them in
    the form the vendor runtime reads (``tool_definitions``); with a source deploy's
    ``source``, ``USER_ENTRY_POINT`` names its entry point.
    """
    namespace, name, spec = agent["namespace"], agent["name"], agent["spec"]
    env: dict[str, str] = {}
    for entry in spec.get("env") or []:
        env[entry["name"]] = str(entry.get("value", ""))
    for tool in spec.get("requiredTools") or []:
        url = f"{base_url}{EGRESS_PREFIX}{namespace}/{name}/{tool['name']}"
        env[f"TOOL_{env_name(tool['name'])}_URL"] = url  # the docs' spelling
        env[f"TOOL_URL_{env_name(tool['name'])}"] = url  # the vendor SDK's spelling
    env["LLM_GATEWAY_URL"] = f"{base_url}{LLM_PREFIX}{namespace}/{name}/v1"
    llm = spec.get("llmConfig") or {}
    if llm.get("model"):
        env.setdefault("LLM_MODEL", llm["model"])
        env.setdefault("LLM_PROVIDER", llm.get("provider", ""))
    if spec.get("systemPrompt"):
        env["SYSTEM_PROMPT"] = spec["systemPrompt"]
    env["AGENT_NAME"] = name
    env["GOVERNANCE_URL"] = base_url
    if tools is not None:
        definitions, routes = tool_definitions(
            [tools[t["name"]] for t in spec.get("requiredTools") or [] if t["name"] in tools]
        )
        env["TOOL_DEFINITIONS_JSON"] = json.dumps(definitions)
        env["TOOL_ROUTES_JSON"] = json.dumps(routes)
    if source and source.get("entry_point"):
        env["USER_ENTRY_POINT"] = source["entry_point"]
    return env


def _function_name(text: str) -> str:
    """An OpenAI function name: letters, digits, ``_`` and ``-``, at most 64 characters."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)[:64] or "tool"


def tool_definitions(tools: list[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
    """The agent's tools as the vendor runtime reads them: OpenAI tool definitions, and for each
    function name its route ``{tool, method, path}``. One function per capability
    (``<tool>__<capability>``); a tool without capabilities is one function, ``POST /``, whose
    arguments may carry ``path`` and ``body``."""
    definitions: list[dict[str, Any]] = []
    routes: dict[str, dict[str, str]] = {}
    for tool in tools:
        tool_name, spec = tool["name"], tool.get("spec") or {}
        description = spec.get("description") or f"Call the {tool_name} tool"
        capabilities = [c for c in spec.get("capabilities") or [] if isinstance(c, Mapping)]
        if not capabilities:
            function = _function_name(tool_name)
            definitions.append(
                {
                    "type": "function",
                    "function": {
                        "name": function,
                        "description": description,
                        "parameters": {
                            "type": "object",
                            "properties": {
                                "path": {"type": "string", "description": "path on the tool, e.g. /items"},
                                "body": {"type": "string", "description": "JSON request body"},
                            },
                        },
                    },
                }
            )
            routes[function] = {"tool": tool_name, "method": "POST", "path": "/"}
            continue
        for index, capability in enumerate(capabilities):
            method = str(capability.get("method") or "POST").upper().replace("*", "POST")
            path = str(capability.get("path") or capability.get("pathPattern") or "/").replace("*", "")
            function = _function_name(f"{tool_name}__{capability.get('name') or index}")
            definitions.append(
                {
                    "type": "function",
                    "function": {
                        "name": function,
                        "description": capability.get("description") or f"{description}: {method} {path}",
                        "parameters": {"type": "object", "properties": {}},
                    },
                }
            )
            routes[function] = {"tool": tool_name, "method": method, "path": path or "/"}
    return definitions, routes


class RuntimeBackend(Persistent):
    STATE = (
        mapping("endpoints"),
        records(
            "checkpoints", key=lambda c: f"{c['run_id']}/{c['action_id']}", schema="Checkpoint", charge="checkpoints"
        ),
        mapping(
            "tool_results",
            list,
            dump_value=list,
            charge="tool results",
            measure=lambda reports: sum(map(stored_size, reports)),
        ),
        records("consents", key=lambda c: f"{c['user']}/{c['tool']}"),
        mapping("tool_replies"),
    )

    def __init__(self, platform: PlatformPort) -> None:
        self.platform = platform
        self.endpoints: dict[str, str] = {}  # "namespace/name" -> the agent's base URL
        self.checkpoints: dict[str, dict[str, Any]] = {}  # "run_id/action_id" -> checkpoint
        self.tool_results: dict[str, list[dict[str, Any]]] = {}  # run id -> reports
        self.consents: dict[str, dict[str, Any]] = {}  # "user/tool" -> {user, tool, granted_at}
        self._used_states: set[str] = set()
        self.tool_replies: dict[str, Any] = {}  # tool name -> {"status", "body"} configured reply
        self._resumes: list[tuple[str, str]] = []  # (run id, action id) for the resume worker
        self._state_key = secrets.token_bytes(32)  # signs OAuth states; never exported
        # run id -> its checkpoint keys (derived, not persisted: rebuilt when checkpoints is replaced)
        self._run_checkpoints = _Derived(_checkpoints_by_run)

    # --- agent endpoints --------------------------------------------------------------

    def set_endpoint(self, namespace: str, name: str, url: str | None) -> None:
        with self.platform.lock:
            if url:
                self.endpoints[f"{namespace}/{name}"] = url.rstrip("/")
            else:
                self.endpoints.pop(f"{namespace}/{name}", None)

    def endpoint(self, namespace: str, name: str, own_process: bool = True) -> str | None:
        """Set through the control API, else ``--agent-endpoint``, else (``own_process``) the
        agent's own running process (serve --run-agents)."""
        key = f"{namespace}/{name}"
        url = self.endpoints.get(key)
        if url is None and self.platform.workspace == DEFAULT_WORKSPACE:  # --agent-endpoint names default's agents
            url = self.platform.config.agent_endpoints.get(key)
        runner = self.platform.agent_runner
        if not url and own_process and runner is not None:
            url = runner.url_of(self.platform.workspace, namespace, name)
        return url.rstrip("/") if url else None

    # --- runs driven by a real agent ----------------------------------------------------

    def begin_invoke(
        self, namespace: str, name: str, body: Any, end_user: str | None, run_id: str | None, invoke_url: str
    ) -> dict[str, Any]:
        """The run an invoke belongs to (the caller's ``X-Run-ID``, else a new one) and its
        USER_MESSAGE event."""
        platform = self.platform
        with platform.lock:
            agent = platform.agents.get(namespace, name)
            if agent["status"]["phase"] != "Running":
                raise ApiError(502, f"failed to reach agent: agent {namespace}/{name} is {agent['status']['phase']}")
            if run_id:
                run = platform.runs.get(run_id)
            else:
                run = platform.runs.create(
                    {
                        "agent_id": name,
                        "namespace": namespace,
                        "user_id": end_user or ANONYMOUS,
                        "invoke_url": invoke_url,
                    }
                )
            message = body.get("message") if isinstance(body, dict) else None
            platform.runs.add_event(
                run["id"],
                "USER_MESSAGE",
                actor=end_user,
                data={"message": message} if isinstance(message, str) else None,
            )
            return run

    def settle_run(self, run_id: str, status: int, reply: Any) -> None:
        """What the agent's answer means for its run: a pause (approval, consent) leaves the
        run as the tool proxy set it; a 2xx answer completes it; anything else fails it."""
        platform = self.platform
        with platform.lock:
            run = platform.runs.runs.get(run_id)
            if run is None or run["status"] != "RUNNING":
                return
            reply = reply if isinstance(reply, dict) else {}
            if (
                reply.get("approval_required")
                or reply.get("consent_required")
                or reply.get("code") in ("APPROVAL_REQUIRED", "CONSENT_REQUIRED")
            ):
                return
            if 200 <= status < 300:
                text = reply.get("response")
                platform.runs.add_event(
                    run_id, "AGENT_MESSAGE", data={"response": text} if isinstance(text, str) else None
                )
                platform.runs.add_event(run_id, "COMPLETED")
                platform.runs.transition(run_id, "COMPLETED")
            else:
                platform.runs.add_event(run_id, "FAILED", data={"status": status})
                platform.runs.transition(run_id, "FAILED")

    def queue_resume(self, run_id: str, action_id: str) -> None:
        """An approved action resumed its run: the resume worker calls the agent, if it has an endpoint."""
        if self.resume_target(run_id) is not None:
            self._resumes.append((run_id, action_id))
            self.platform.on_resume()

    def take_resumes(self) -> list[tuple[str, str]]:
        with self.platform.lock:
            taken, self._resumes = self._resumes, []
            return taken

    def resume_target(self, run_id: str) -> tuple[str, str | None] | None:
        """(agent endpoint, verified end user) for a run whose agent has an endpoint."""
        with self.platform.lock:
            run = self.platform.runs.runs.get(run_id)
            url = self.endpoint(run["namespace"], run["agent_id"]) if run else None
            return (url, verified_user(run)) if url and run else None

    # --- checkpoints and tool results (the SDK runtime's keyless calls) -----------------

    # Both are charged to the byte budget (budget.py) like run events: they take no key, so
    # counts alone would let one caller keep ~90 MB of objects per 4 MB body. A refused write
    # (409) changes nothing; an evicted run takes its checkpoints and tool results with it.

    def store_checkpoint(self, run_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.platform.lock:
            self.platform.runs.get(run_id)
            key = f"{run_id}/{body['action_id']}"
            if key not in self.checkpoints:
                self.platform.check_capacity("checkpoints", len(self.checkpoints))
            record = {
                **body,
                "id": self.platform.new_id("ckpt-"),
                "run_id": run_id,
                "created_at": self.platform.now_iso(),
            }
            self.platform.budget.charge(("checkpoints", key), record)  # replaces a same-action charge
            self.checkpoints[key] = record
            self._run_checkpoints.of(self.checkpoints).setdefault(run_id, set()).add(key)
            return {k: record[k] for k in ("id", "run_id", "action_id", "created_at")}

    def get_checkpoint(self, run_id: str, action_id: str) -> dict[str, Any]:
        with self.platform.lock:
            self.platform.runs.get(run_id)
            record = self.checkpoints.get(f"{run_id}/{action_id}")
            if record is None:
                raise ApiError(404, f"checkpoint for action {action_id} not found")
            return record

    def report_tool_result(self, run_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.platform.lock:
            self.platform.runs.get(run_id)
            reports = self.tool_results.get(run_id, [])
            self.platform.check_capacity("tool results in this run", len(reports))
            report = {**body, "at": self.platform.now_iso()}
            self.platform.budget.charge(("tool results", run_id), report, add=True)
            self.tool_results.setdefault(run_id, reports).append(report)
            return {"status": "recorded", "run_id": run_id, "seq": len(reports)}

    def forget_run(self, run_id: str) -> None:
        """A run was dropped (evicted): drop its checkpoints and tool results, and their bytes."""
        for key in self._run_checkpoints.of(self.checkpoints).pop(run_id, ()):
            self.checkpoints.pop(key, None)
            self.platform.budget.release(("checkpoints", key))
        if self.tool_results.pop(run_id, None) is not None:
            self.platform.budget.release(("tool results", run_id))

    # --- the egress checks --------------------------------------------------------------

    def check_tool_call(
        self,
        namespace: str,
        agent_name: str,
        tool_name: str,
        method: str,
        path: str,
        query: str,
        body: bytes,
        run_id: str | None,
        callback_url: str,
    ) -> Allowed | Refusal:
        """The tool proxy's decision. The run's events are the audit trail of every call made
        in it: TOOL_REQUEST (the agent as actor), then APPROVAL_REQUIRED, CONSENT_REQUIRED or,
        for any other refusal, TOOL_RESPONSE with the status and error the agent got (the
        answer of an allowed call is logged by ``log_tool_event``). The path is normalised
        before any check (paths.py): the checks and the forwarded call see the path as it will
        be sent; one that cannot be normalised is a 400, audited like any refusal (TOOL_REQUEST
        carries the path as the agent asked for it)."""
        platform = self.platform
        with platform.lock:
            run = platform.runs.runs.get(run_id or "")
            audited = (
                run_id if run is not None and (run["namespace"], run["agent_id"]) == (namespace, agent_name) else None
            )
            if audited:
                self._audit(
                    audited,
                    "TOOL_REQUEST",
                    agent_name,
                    {"tool_id": tool_name, "tool_method": method, "tool_path": path},
                )
            try:
                decision = self._decide(
                    namespace, agent_name, tool_name, method, tool_path(path), query, body, run_id, callback_url
                )
            except ApiError as exc:  # e.g. the run's agent is gone: recorded like any other refusal
                if audited:
                    self._audit(
                        audited,
                        "TOOL_RESPONSE",
                        PLATFORM_ACTOR,
                        {"tool_id": tool_name, "status": exc.status, "error": exc.message},
                    )
                raise
            if audited and isinstance(decision, Refusal):
                code = decision.body.get("code")
                if code == "CONSENT_REQUIRED":
                    self._audit(audited, "CONSENT_REQUIRED", PLATFORM_ACTOR, {"tool_id": tool_name})
                elif code != "APPROVAL_REQUIRED":  # that one is logged with its blocked action
                    self._audit(
                        audited,
                        "TOOL_RESPONSE",
                        PLATFORM_ACTOR,
                        {"tool_id": tool_name, "status": decision.status, "error": decision.body["error"]},
                    )
            return decision

    def _decide(
        self,
        namespace: str,
        agent_name: str,
        tool_name: str,
        method: str,
        path: str,
        query: str,
        body: bytes,
        run_id: str | None,
        callback_url: str,
    ) -> Allowed | Refusal:
        platform = self.platform
        # 1. tool identification
        agent = platform.agents.get(namespace, agent_name)
        tool = platform.tools.items.get(tool_name)
        if tool is None:
            return Refusal(404, {"error": f'tool "{tool_name}" not found', "tool": tool_name})
        if tool_name not in {t.get("name") for t in agent["spec"].get("requiredTools", [])}:
            return Refusal(
                403,
                {
                    "error": f"agent {agent_name} does not list tool {tool_name} in its required tools",
                    "tool": tool_name,
                },
            )
        run = platform.runs.get(run_id) if run_id else None
        if run is not None and (run["namespace"], run["agent_id"]) != (namespace, agent_name):
            return Refusal(
                403, {"error": f"run {run_id} belongs to agent {run['namespace']}/{run['agent_id']}", "tool": tool_name}
            )
        # The end user is the run's, as the platform verified it: never a header the agent sent.
        end_user = verified_user(run) if run is not None else None
        url = tool_url(tool) + path + (f"?{query}" if query else "")

        # 2. policy evaluation (a rule's tags match the tool's and the called capability's risk tags)
        capabilities = tool["spec"].get("capabilities") or []
        matching = [c for c in capabilities if capability_matches(c, method, path)]
        tags = [*tool["spec"].get("riskTags", []), *(t for c in matching for t in c.get("riskTags", []))]
        verdict = platform.policies.verdict(namespace, agent_name, url, method, tags)
        needs_approval = verdict == APPROVAL or requires_approval(tool)
        if verdict == DENY:
            return Refusal(403, {"error": f"policy denies {method} {url} to agent {agent_name}", "tool": tool_name})
        if verdict != ALLOW and not needs_approval:
            return Refusal(
                403,
                {"error": f"no policy binding allows agent {agent_name} to call tool {tool_name}", "tool": tool_name},
            )

        # 3. capabilities
        if capabilities and not matching:
            return Refusal(403, {"error": "operation not permitted", "tool": tool_name})
        capability = (matching[0].get("name") if matching else None) or f"{method} {path}"

        # 4. approval: an approval outcome of the right scope (scopes.py), else a new blocked action
        digest = payload_hash(body)
        if needs_approval and run_id and platform.governance.rejected_for_run(run_id, agent_name, tool_name):
            return Refusal(403, {"error": f"access to tool {tool_name} was rejected for this run", "tool": tool_name})
        # payload hash: until the run's approved action has executed, the retry must be it, whatever the scope
        approved = self._approved_action(run_id, tool_name) if run_id else None
        if approved is not None and approved.get("payload_hash") not in (None, digest):
            return Refusal(
                409, {"error": "payload_hash mismatch", "tool": tool_name, "action_id": approved["action_id"]}
            )
        outcome = (
            platform.governance.covering(ToolCall(agent_name, tool_name, run_id, end_user, capability, digest))
            if needs_approval
            else None
        )
        if needs_approval and outcome is None:
            return self._approval(agent_name, tool_name, method, url, capability, run_id, digest)

        # 5. OAuth2 consent
        auth = tool["spec"].get("connection", {}).get("authentication", {})
        oauth = auth.get("oauth2Config") or {}
        oauth_tool = auth.get("type") == "OAuth2" and oauth.get("authUrl")
        if oauth_tool and f"{end_user or ''}/{tool_name}" not in self.consents:
            return self._consent_required(tool_name, tool, end_user or "", callback_url)

        # 6. allowed: only now is a `once` approval spent and the approved action executed
        if outcome is not None:
            platform.governance.spend(outcome)
        if approved is not None:
            platform.runs.set_action_status(approved, "EXECUTED")
        allowed = Allowed(tool=tool, url=url, end_user=end_user, run_id=run_id if run else None)
        self._inject_credentials(allowed, tool_name, auth)
        return allowed

    def log_tool_event(self, allowed: Allowed, event_type: str, method: str, status: int | None = None) -> None:
        """TOOL_RESPONSE on the caller's run (no headers, no body: they may hold secrets)."""
        if not allowed.run_id:
            return
        data: dict[str, Any] = {
            "tool_id": allowed.tool["name"],
            "tool_method": method,
            "tool_url": allowed.url.split("?", 1)[0],
        }
        if status is not None:
            data["status"] = status
        with self.platform.lock:
            self._audit(allowed.run_id, event_type, allowed.tool["name"], data)

    def _audit(self, run_id: str, event_type: str, actor: str, data: dict[str, Any]) -> None:
        """An event on the run, unless its log is full (a tool call is never refused for that)."""
        runs = self.platform.runs
        if run_id in runs.runs and len(runs.events[run_id]) < self.platform.config.max_objects_per_kind:
            runs.add_event(run_id, event_type, actor=actor, data=data)

    def _approved_action(self, run_id: str, tool_name: str) -> dict[str, Any] | None:
        for action in reversed(list(self.platform.runs.actions.values())):
            if action["run_id"] == run_id and action["tool_id"] == tool_name and action["status"] == "APPROVED":
                return action
        return None

    def _approval(
        self, agent: str, tool_name: str, method: str, url: str, capability: str, run_id: str | None, digest: str
    ) -> Refusal:
        data = {"tool_id": tool_name, "capability": capability, "tool_method": method, "tool_url": url}
        run = self.platform.runs.runs.get(run_id or "")
        if run is not None and run["status"] != "RUNNING":
            waiting = self.platform.governance.pending_for_run(run["id"], agent, tool_name)
            if waiting is None:  # paused on another tool's action, or ended: no second blocked action
                return Refusal(
                    409, {"error": f"run is {run['status']}, must be RUNNING to create actions", "tool": tool_name}
                )
        request, _ = self.platform.governance.create(
            {
                "subject": agent,
                "agent_id": agent,
                "tool_id": tool_name,
                "capability": capability,
                "run_id": run_id,
                "payload_hash": digest,
            },
            event_data=data,
        )
        reply = {
            "error": "APPROVAL_REQUIRED",
            "code": "APPROVAL_REQUIRED",
            "request_id": request["id"],
            "tool": tool_name,
            "message": f"Tool '{tool_name}' requires approval before it can be used (request {request['id']}).",
        }
        if request.get("action_id"):
            reply["action_id"] = request["action_id"]
        return Refusal(403, reply)

    # --- OAuth consent ----------------------------------------------------------------

    def _consent_required(self, tool_name: str, tool: Mapping[str, Any], user: str, callback_url: str) -> Refusal:
        oauth = tool["spec"]["connection"]["authentication"].get("oauth2Config") or {}
        params = {
            "response_type": "code",
            "client_id": self.platform.tools.secret(tool_name, "client_id") or "",
            "redirect_uri": callback_url,
            "scope": " ".join(oauth.get("scopes") or []),
            "state": self.sign_state(user, tool_name),
            **(oauth.get("authParams") or {}),
        }
        separator = "&" if "?" in oauth["authUrl"] else "?"
        return Refusal(
            403,
            {
                "error": "CONSENT_REQUIRED",
                "code": "CONSENT_REQUIRED",
                "tool": tool_name,
                "authorization_url": oauth["authUrl"] + separator + urlencode(params),
                "message": f"Connect {tool_name} to continue: open the authorization URL.",
            },
        )

    def sign_state(self, user: str, tool_name: str) -> str:
        payload = json.dumps(
            {
                "u": user,
                "t": tool_name,
                "n": secrets.token_hex(8),
                "e": int(self.platform.clock.now()) + STATE_TTL_SECONDS,
            },
            separators=(",", ":"),
        )
        data = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        signature = hmac.new(self._state_key, data.encode(), hashlib.sha256).hexdigest()
        return f"{data}.{signature}"

    def complete_consent(self, state: str) -> dict[str, Any]:
        """The OAuth callback: a state this mock signed, unexpired and unused, stores the consent."""
        data, _, signature = (state or "").partition(".")
        expected = hmac.new(self._state_key, data.encode(), hashlib.sha256).hexdigest()
        # As bytes: compare_digest refuses str with non-ASCII characters (any text can arrive here).
        if not data or not hmac.compare_digest(signature.encode(), expected.encode()):
            raise ApiError(400, "invalid OAuth state")
        claims = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
        with self.platform.lock:
            if claims["n"] in self._used_states:
                raise ApiError(400, "OAuth state already used")
            if claims["e"] < self.platform.clock.now():
                raise ApiError(400, "OAuth state expired")
            self._used_states.add(claims["n"])
            record = {"user": claims["u"], "tool": claims["t"], "granted_at": self.platform.now_iso()}
            self.consents[f"{claims['u']}/{claims['t']}"] = record
            return {"status": "connected", **record}

    # --- credentials ------------------------------------------------------------------

    def _inject_credentials(self, allowed: Allowed, tool_name: str, auth: Mapping[str, Any]) -> None:
        tools = self.platform.tools
        if auth.get("type") == "APIKey":
            key = tools.secret(tool_name, "api_key")
            config = auth.get("apiKeyConfig") or {}
            if key:
                value = (config.get("valuePrefix") or "") + key
                if config.get("in") == "Query":
                    allowed.query[config.get("name") or "api_key"] = value
                else:
                    allowed.headers[config.get("name") or "Authorization"] = value
        elif auth.get("type") == "OAuth2":
            # The mock stores no tokens: a stable stand-in per (user, tool), derived from the
            # client secret so it is secret-grade, never logged and never exported.
            seed = (tools.secret(tool_name, "client_secret") or "") + f"/{allowed.end_user}/{tool_name}"
            allowed.headers["Authorization"] = "Bearer mock-oauth-" + hashlib.sha256(seed.encode()).hexdigest()[:32]
