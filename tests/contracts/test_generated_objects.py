"""Issue 26.3: what the mock creates on its own (JIT grant and auto-binding policies and
bindings, connector activity entries) must be what a client could have created: each one
validates against the create request's schema of its document, and every listing that shows
it against its response schema (the strict client checks that on every call). Inputs are
hostile but valid: any agent and tool the access-request schema accepts, any base URL the
tool schema accepts."""

from __future__ import annotations

from api_support import CheckedClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver import create_app
from mockserver.services.tools.models import BASE_URL_PATTERN

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40).filter(str.strip)
TOOL_NAME = st.from_regex(r"[a-z0-9]([-a-z0-9.]{0,20}[a-z0-9])?", fullmatch=True)
# Any base URL the tool schema accepts (ToolBaseUrl: an http(s) URL of a plain host and path;
# "notaurl", as in the issue, is refused at registration since issue 23.2).
BASE_URL = st.one_of(
    st.sampled_from(["http://x", "https://api.example.com/v1/", "http://[::1]:8080/a!b/", "https://h/%41~"]),
    st.from_regex(BASE_URL_PATTERN, fullmatch=True).filter(lambda url: len(url) < 200),
)


def _schema_errors(client: CheckedClient, surface: str, schema: str, instance) -> str | None:
    spec = client.mock.surfaces.by_name(surface).spec
    return spec.component_validator(schema).first_error(instance, schema)


def _generated_objects_are_valid(client: CheckedClient, tool: str, base_url: str, agent: str, subject: str) -> None:
    client.post("/_mock/reset")
    created = client.post("/api/tools", {"name": tool, "base_url": base_url})
    assert created.status_code == 201, created.get_json()
    # An Open tool listed by a deploy: an auto binding.
    deployed = client.post("/api/deploy", {"agent_name": "bot", "image": "img:1", "required_tools": [tool]})
    assert deployed.status_code == 201, deployed.get_json()
    for tool_id in (tool, agent):  # a known tool, and one the request names only
        request = client.post("/governance/requests", {"subject": subject, "tool_id": tool_id, "agent_id": agent})
        assert request.status_code == 201, request.get_json()
        # A time window (a duration): the approval that grants a JIT policy.
        approved = client.post(f"/governance/requests/{request.get_json()['id']}/approve", {"duration": "1h"})
        assert approved.status_code == 200, approved.get_json()

    policies = client.get("/api/policies").get_json()
    generated = [p for p in policies if p.get("origin") in ("auto", "jit")]
    assert {p["origin"] for p in generated} == {"auto", "jit"}, policies
    for policy in generated:
        body = {"name": policy["name"], "rules": policy["rules"]}
        problem = _schema_errors(client, "2026-02", "PolicyCreateRequest", body)
        assert problem is None, f"{policy['origin']} policy {body}: {problem}"
        problem = _schema_errors(client, "v1", "PolicyWrite", {"name": policy["name"], "spec": policy["spec"]})
        assert problem is None, f"{policy['origin']} policy as June's {policy}: {problem}"
    for binding in client.get("/api/policy-bindings").get_json():
        body = {k: binding[k] for k in ("name", "policy", "subjects")}
        problem = _schema_errors(client, "2026-02", "PolicyBindingCreateRequest", body)
        assert problem is None, f"{binding.get('origin')} binding {body}: {problem}"
    # The same records through June's listings, and the activity the approvals recorded.
    client.get("/api/v1/policies")
    client.get("/api/v1/approval-connectors/activity")


def test_grants_and_auto_bindings_from_a_hostile_request_are_valid_policies():
    # The reproduction: an agent "b", a tool id "Weird Tool!" (its base_url "notaurl"
    # is now refused at registration, so a plain host stands in for it).
    client = CheckedClient(create_app({}))
    _generated_objects_are_valid(client, "odd", "http://x", "Weird Tool!", "b")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tool=TOOL_NAME, base_url=BASE_URL, agent=TEXT, subject=TEXT)
def test_generated_objects_are_valid_for_any_valid_input(tool, base_url, agent, subject):
    _generated_objects_are_valid(_CLIENT, tool, base_url, agent, subject)


_CLIENT = CheckedClient(create_app({}))
