"""Policies, policy bindings, and how they decide whether an agent may call a tool: one domain
for both releases (``/api/policies`` and ``/api/v1/policies`` show the same records).

A policy is a list of rules (``allow``/``deny``/``approval_required``, an optional URL pattern,
optional methods, optional tool risk tags). An agent is bound to a policy by a binding naming
its ServiceAccount (February) or by the ``policies`` list of its June deploy or config. Besides
the ones users create, the platform makes two kinds:

- ``<agent>-<tool>-auto``: on deploy, for each Open tool the agent lists (deleted with it);
- ``<agent>-<tool>-jit``: when an access request is approved, until it expires on the clock.

Both must be what a client could have created (``generated_name``, ``generated_resource``): an
access request may name any agent and tool (``b``, ``Weird Tool!``) and a tool any base URL
(``notaurl``), so the name is made a resource name and the URL a policy resource.

Evaluation: deny beats approval_required beats allow (the June policy-model page).
docs/compatibility.md lists where the two releases' models differ and what the mock chose.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ...basics.clock import iso
from ...basics.errors import ApiError
from ..common import DEFAULT_NAMESPACE
from ..state import Persistent, mapping, records

if TYPE_CHECKING:
    from ..ports import PlatformPort

ALLOW, DENY, APPROVAL, NO_MATCH = "allow", "deny", "approval_required", "none"
# The documents' ResourceName and PolicyResource patterns (openapi.yaml), which generated
# policies and bindings must meet like a client's.
_RESOURCE_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
_MAX_NAME = 253
_POLICY_RESOURCE = re.compile(r"\*|https?://[!-~]+")


def generated_name(agent: str, tool: str, origin: str) -> str:
    """``<agent>-<tool>-<origin>`` when that is a resource name; else the same made one (lower
    case, other characters as ``-``) with a hash of the original, so two requests never share it."""
    plain = f"{agent}-{tool}-{origin}"
    if len(plain) <= _MAX_NAME and _RESOURCE_NAME.fullmatch(plain):
        return plain
    digest = hashlib.sha256(f"{agent}\0{tool}".encode("utf-8", "surrogatepass")).hexdigest()[:10]
    stem = re.sub(r"[^a-z0-9]+", "-", f"{agent}-{tool}".lower()).strip("-")
    stem = stem[: _MAX_NAME - len(digest) - len(origin) - 2].strip("-")
    return "-".join(part for part in (stem, digest, origin) if part)


def generated_resource(tool: Mapping[str, Any]) -> str:
    """The policy resource for a tool's calls: its base URL and ``*``, with characters a
    resource cannot hold percent-encoded. A base URL that is not http(s) (``notaurl``) names no
    URL a resource can: the grant then allows no URL (a reserved ``.invalid`` host), never every one."""
    resource = quote(tool_url(tool), safe="".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "%")) + "*"
    if _POLICY_RESOURCE.fullmatch(resource):
        return resource
    return f"https://{quote(str(tool.get('name', 'tool')), safe='')}.invalid/*"


@lru_cache(maxsize=1024)
def _pattern(resource: str) -> re.Pattern[str]:
    """``*`` matches any run of characters; everything else is literal."""
    return re.compile(".*".join(re.escape(part) for part in resource.split("*")))


def rule_matches(rule: Mapping[str, Any], url: str, method: str, tags: Iterable[str] = ()) -> bool:
    """Methods (none listed: all), resource (none: any URL) and tags (none: any tool; else one
    of them must be on the tool or the capability called) must all match."""
    operations = rule.get("operations")
    if operations and method.upper() not in operations:
        return False
    if rule.get("tags") and not set(rule["tags"]) & set(tags):
        return False
    return bool(_pattern(rule.get("resource") or "*").fullmatch(url))


def evaluate(rules: Iterable[Mapping[str, Any]], url: str, method: str, tags: Iterable[str] = ()) -> str:
    """DENY, APPROVAL, ALLOW or NO_MATCH for a request, in that order of precedence."""
    tags = tuple(tags)
    matched = {rule["permission"] for rule in rules if rule_matches(rule, url, method, tags)}
    for verdict in (DENY, APPROVAL, ALLOW):
        if verdict in matched:
            return verdict
    return NO_MATCH


def february_rules(rules: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rules February's shape can express: no ``approval_required``, always a resource
    (a June rule without one matches every URL, February's ``*``)."""
    return [{**rule, "resource": rule.get("resource") or "*"} for rule in rules if rule["permission"] != APPROVAL]


def rules_in_force(policy: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What evaluation uses: the June spec's rules for a policy last written through
    ``/api/v1`` (kept in ``v1_spec``), else the February ``rules``."""
    if "v1_spec" in policy:
        return list(policy["v1_spec"].get("policies") or [])
    return list(policy["rules"])


def february_view(policy: Mapping[str, Any]) -> dict[str, Any]:
    """A policy as ``/api/policies`` answers it (the stored record is February's shape)."""
    return {k: v for k, v in policy.items() if k != "v1_spec"}


def _rules_of(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rules of either request form (the page's ``rules``, the SDK's ``spec.policies``)."""
    if body.get("rules"):
        return [dict(r) for r in body["rules"]]
    return [dict(r) for r in (body.get("spec") or {}).get("policies") or []]


class PoliciesBackend(Persistent):
    STATE = (
        records("policies", key="name", schema="Policy", v1_parts=(("v1_spec", "PolicySpec"),)),
        records("bindings", key="name", schema="PolicyBinding"),
        mapping("expiry", float),
        mapping("generated"),
    )

    def __init__(self, platform: PlatformPort) -> None:
        self.platform = platform
        self.policies: dict[str, dict[str, Any]] = {}
        self.bindings: dict[str, dict[str, Any]] = {}
        self.expiry: dict[str, float] = {}  # jit binding/policy name -> clock seconds it ends
        self.generated: dict[str, str] = {}  # auto/jit policy (and binding) name -> its agent

    # --- policies ---------------------------------------------------------------------

    def create_policy(self, body: Mapping[str, Any], june: bool = False) -> dict[str, Any]:
        """A new policy from either surface's body (``june``: ``{name, spec}``, rules optional)."""
        with self.platform.lock:
            if body["name"] in self.policies:
                raise ApiError(409, f'policy "{body["name"]}" already exists')
            return self._store_policy(body["name"], body, origin="user", june=june)

    def update_policy(self, name: str, body: Mapping[str, Any], june: bool = False) -> dict[str, Any]:
        with self.platform.lock:
            # the path names the policy; a body `name` renames nothing
            current = self.get_user_policy(name) if june else self.get_policy(name)
            return self._store_policy(
                name, body, origin=current.get("origin", "user"), created_at=current.get("created_at"), june=june
            )

    def upsert_policy(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """An action plan's ``policy.upsert`` (June body): create, or replace the named one."""
        with self.platform.lock:
            self._expire_due()
            if self.policies.get(body["name"], {}).get("origin") == "user":  # a generated one: 409
                return self.update_policy(body["name"], body, june=True)
            return self.create_policy(body, june=True)

    def _store_policy(
        self,
        name: str,
        body: Mapping[str, Any],
        origin: str,
        created_at: str | None = None,
        expires_at: str | None = None,
        june: bool = False,
    ) -> dict[str, Any]:
        rules = _rules_of(body)
        if not rules and not june:  # a June policy may route approvals and hold no rules yet
            raise ApiError(400, "rules is required (or spec.policies in the SDK form)")
        if name not in self.policies:
            self.platform.check_capacity("policies", len(self.policies))
        # Stored in February's shape (its API object), with the June spec as sent beside it
        # when written through /api/v1: what February cannot express stays in force there.
        shown = february_rules(rules)
        policy = {
            "name": name,
            "namespace": DEFAULT_NAMESPACE,
            "rules": shown,
            "spec": {"policies": shown, "approvals": list((body.get("spec") or {}).get("approvals") or [])},
            "status": {"ready": True, "message": ""},
            "origin": origin,
            "created_at": created_at or self.platform.now_iso(),
        }
        if june:
            policy["v1_spec"] = {**body["spec"], "policies": rules}
        if expires_at:
            policy["expires_at"] = expires_at
        self.policies[name] = policy
        return policy

    def _current(self, items: dict[str, dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
        """One record, after expiry; 404 naming ``kind`` when missing."""
        with self.platform.lock:
            self._expire_due()
            try:
                return items[name]
            except KeyError:
                raise ApiError(404, f'{kind} "{name}" not found') from None

    def _all_current(self, items: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """All the records, after expiry."""
        with self.platform.lock:
            self._expire_due()
            return list(items.values())

    def get_policy(self, name: str) -> dict[str, Any]:
        return self._current(self.policies, "policy", name)

    def list_policies(self) -> list[dict[str, Any]]:
        return self._all_current(self.policies)

    def get_user_policy(self, name: str) -> dict[str, Any]:
        """The June surface's policies are the users': the ``auto``/``jit`` ones are February's
        runtime mechanics (June records approvals as runtime outcomes, not policies)."""
        policy = self.get_policy(name)
        if policy.get("origin", "user") != "user":
            raise ApiError(404, f'policy "{name}" not found')
        return policy

    def list_user_policies(self) -> list[dict[str, Any]]:
        return [p for p in self.list_policies() if p.get("origin", "user") == "user"]

    def june_view(self, policy: Mapping[str, Any]) -> dict[str, Any]:
        """A policy as ``/api/v1/policies`` answers it, with the agents bound to it."""
        return self.june_views([policy])[0]

    def june_views(self, policies: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Policies as ``/api/v1/policies`` answers them. The agents bound to each come from one
        pass over bindings and agents, whatever the number of policies."""
        with self.platform.lock:
            users = self._users_by_policy()
        views = []
        for policy in policies:
            spec = policy.get("v1_spec") or {
                "policies": policy["rules"],
                "approvals": self._june_approvals(policy["spec"].get("approvals", [])),
            }
            views.append(
                {
                    "name": policy["name"],
                    "namespace": policy["namespace"],
                    "spec": spec,
                    "status": policy["status"],
                    "used_by": users.get(policy["name"], []),
                }
            )
        return views

    def _users_by_policy(self) -> dict[str, list[dict[str, str]]]:
        """Policy name -> the agents bound to it (by binding or June list), in agent order."""
        by_account: dict[str, set[str]] = {}
        for binding in self.bindings.values():
            for subject in binding["subjects"]:
                if subject["kind"] == "ServiceAccount":
                    by_account.setdefault(subject["name"], set()).add(binding["policy"])
        users: dict[str, list[dict[str, str]]] = {}
        for namespace, name in self.platform.agents.items:
            for policy in by_account.get(name, set()) | set(self._june_bound(namespace, name)):
                users.setdefault(policy, []).append({"name": name, "namespace": namespace})
        return users

    def _june_approvals(self, approvals: list[Any]) -> list[Any]:
        """February's approvals are free-form objects: the June surface shows those its
        ``PolicySpec`` can hold (the others stay stored, and February shows them)."""
        replay = self.platform.replay
        return [
            a for a in approvals if replay is None or replay.schema_problem("PolicySpec", {"approvals": [a]}) is None
        ]

    def _june_bound(self, namespace: str, agent: str) -> list[str]:
        """The policies the agent's June deploy or config names (missing ones bind nothing)."""
        named: list[str] = self.platform.agents.extras.get((namespace, agent), {}).get("policies", [])
        return named

    def delete_policy(self, name: str, june: bool = False) -> None:
        """The policy and every binding that names it (``june``: a user policy only)."""
        with self.platform.lock:
            self.get_user_policy(name) if june else self.get_policy(name)
            del self.policies[name]
            self.expiry.pop(name, None)
            self.generated.pop(name, None)
            for binding in [b for b in self.bindings.values() if b["policy"] == name]:
                del self.bindings[binding["name"]]

    # --- bindings ---------------------------------------------------------------------

    def create_binding(
        self, body: Mapping[str, Any], origin: str = "user", expires_at: str | None = None
    ) -> dict[str, Any]:
        with self.platform.lock:
            self._expire_due()
            if body["name"] in self.bindings:
                raise ApiError(409, f'policy binding "{body["name"]}" already exists')
            self.get_policy(body["policy"])
            self.platform.check_capacity("policy bindings", len(self.bindings))
            binding = {
                "name": body["name"],
                "namespace": DEFAULT_NAMESPACE,
                "policy": body["policy"],
                "subjects": [dict(s) for s in body["subjects"]],
                "origin": origin,
                "created_at": self.platform.now_iso(),
            }
            if expires_at:
                binding["expires_at"] = expires_at
            self.bindings[binding["name"]] = binding
            return binding

    def get_binding(self, name: str) -> dict[str, Any]:
        return self._current(self.bindings, "policy binding", name)

    def list_bindings(self) -> list[dict[str, Any]]:
        return self._all_current(self.bindings)

    def delete_binding(self, name: str) -> None:
        with self.platform.lock:
            self.get_binding(name)
            del self.bindings[name]

    # --- what the platform creates itself ----------------------------------------------

    def _put_generated(self, name: str, agent: str, resource: str, origin: str, ends: float | None = None) -> None:
        """A policy allowing ``resource`` and a binding of the same name for the agent."""
        expires_at = iso(ends) if ends is not None else None
        self.bindings.pop(name, None)
        self._store_policy(
            name, {"rules": [{"permission": ALLOW, "resource": resource}]}, origin, expires_at=expires_at
        )
        self.create_binding(
            {"name": name, "policy": name, "subjects": [{"kind": "ServiceAccount", "name": agent}]},
            origin=origin,
            expires_at=expires_at,
        )
        self.generated[name] = agent
        if ends is not None:
            self.expiry[name] = ends
        else:
            self.expiry.pop(name, None)

    def auto_bind(self, agent: str, tools: Iterable[str]) -> None:
        """Deploy: bind the agent to each Open tool it lists; drop its stale auto-bindings."""
        with self.platform.lock:
            wanted = {}
            for tool_name in tools:
                tool = self.platform.tools.items.get(tool_name)
                if tool is not None and access_mode(tool) == "Open":
                    wanted[generated_name(agent, tool_name, "auto")] = generated_resource(tool)
            self.remove_generated(agent, "auto", keep=set(wanted))
            for name, resource in wanted.items():
                self._put_generated(name, agent, resource, "auto")

    def grant(self, agent: str, tool_name: str, ends: float) -> None:
        """An approval: the agent may call the tool until ``ends`` (clock seconds)."""
        with self.platform.lock:
            tool = self.platform.tools.items.get(tool_name)
            resource = generated_resource(tool) if tool is not None else "*"
            self._put_generated(generated_name(agent, tool_name, "jit"), agent, resource, "jit", ends)

    def remove_generated(self, agent: str, origin: str | None = None, keep: AbstractSet[str] = frozenset()) -> None:
        """Delete the policies and bindings the platform made for an agent (all, or one origin)."""
        with self.platform.lock:
            for name, owner in list(self.generated.items()):
                if owner == agent and name not in keep and (origin is None or name.endswith(f"-{origin}")):
                    self.policies.pop(name, None)
                    self.bindings.pop(name, None)
                    self.expiry.pop(name, None)
                    del self.generated[name]

    def has_live_grant(self, agent: str, tool_name: str) -> bool:
        with self.platform.lock:
            self._expire_due()
            return generated_name(agent, tool_name, "jit") in self.bindings

    # --- evaluation -------------------------------------------------------------------

    def verdict(self, namespace: str, agent: str, url: str, method: str, tags: Iterable[str] = ()) -> str:
        """DENY, APPROVAL, ALLOW or NO_MATCH for a call by ``agent`` to ``url``: the policies
        bound to its ServiceAccount and those its June deploy or config names."""
        with self.platform.lock:
            self._expire_due()
            rules = [rule for policy in self._bound(namespace, agent) for rule in rules_in_force(policy)]
        return evaluate(rules, url, method, tags)

    def approval_duration(self, agent: str, tool_name: str) -> str | None:
        """The ``defaultDuration`` of the first approval route (``spec.approvals``) of the
        agent's policies that covers the tool: listed in its ``toolIds``, carrying one of its
        ``tags``, or a route naming neither."""
        with self.platform.lock:
            tool = self.platform.tools.items.get(tool_name)
            tags = set(tool["spec"].get("riskTags", [])) if tool else set()
            for policy in self._bound(DEFAULT_NAMESPACE, agent):
                routes = (
                    policy["v1_spec"].get("approvals") or []
                    if "v1_spec" in policy
                    else self._june_approvals(policy["spec"].get("approvals", []))
                )  # checked as June's
                for route in routes:
                    ids, route_tags = route.get("toolIds"), route.get("tags")
                    covered = (not ids and not route_tags) or tool_name in (ids or []) or tags & set(route_tags or [])
                    duration: str | None = route.get("defaultDuration")
                    if covered and duration:
                        return duration
        return None

    def _bound(self, namespace: str, agent: str) -> list[dict[str, Any]]:
        """The policies bound to the agent: through its ServiceAccount, or named by its June
        deploy or config (missing names bind nothing)."""
        subject = {"kind": "ServiceAccount", "name": agent}
        names = [binding["policy"] for binding in self.bindings.values() if subject in binding["subjects"]]
        names += self._june_bound(namespace, agent)
        return [self.policies[name] for name in dict.fromkeys(names) if name in self.policies]

    def _expire_due(self) -> None:
        now = self.platform.clock.now()
        for name, ends in list(self.expiry.items()):
            if ends <= now:
                self.policies.pop(name, None)
                self.bindings.pop(name, None)
                self.generated.pop(name, None)
                del self.expiry[name]

    # --- state ------------------------------------------------------------------------


WRITES = ["POST", "PUT", "PATCH", "DELETE"]


def translate(text: str) -> dict[str, Any]:
    """``/api/v1/policies/translate``: a deterministic keyword reading of the text (no model):
    "read"/"get"/"view"/"list" allows GET; "deny"/"block"/"never"/"forbid" denies writes;
    otherwise a write word allows writes, or requires approval when the text mentions it."""
    words = text.lower()
    rules: list[dict[str, Any]] = []
    if any(w in words for w in ("read", "get", "view", "list")):
        rules.append({"permission": ALLOW, "operations": ["GET"]})
    if any(w in words for w in ("deny", "block", "never", "forbid")):
        rules.append({"permission": DENY, "operations": list(WRITES)})
    elif any(w in words for w in ("write", "create", "update", "delete", "send", "modify")):
        rules.append({"permission": APPROVAL if "approv" in words else ALLOW, "operations": list(WRITES)})
    return {"rules": rules}


def access_mode(tool: Mapping[str, Any]) -> str:
    """Open, Restricted or Critical; a tool without governance is Open (see docs/runtime.md)."""
    return tool["spec"].get("governance", {}).get("accessControl", {}).get("mode") or "Open"


def requires_approval(tool: Mapping[str, Any]) -> bool:
    control = tool["spec"].get("governance", {}).get("accessControl", {})
    return control.get("mode") == "Critical" or bool(control.get("requireApproval"))


def tool_url(tool: Mapping[str, Any]) -> str:
    """The tool's base URL without a trailing slash: what policy resources are matched against."""
    return str(tool["spec"].get("connection", {}).get("baseUrl", "")).rstrip("/")
