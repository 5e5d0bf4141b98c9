"""Schemathesis against a served mock: every operation, valid and invalid (negative) data.

For each generated request: no 5xx, an answer openapi.yaml allows (checked with
``mockserver.spec.conformance.response_problems``), and when the answer is a 4xx, the state
export (``GET /_mock/state``) is byte-for-byte what it was before the request.

Bounded: the coverage phase (deterministic boundary and invalid values, every operation)
plus ``RUNAGENTS_FUZZ_EXAMPLES`` (default 4) random examples per operation and mode,
derandomized so a run is repeatable. Set ``RUNAGENTS_FUZZ_RANDOM=1`` to explore new inputs.
"""

from __future__ import annotations

import copy
import os
from urllib.parse import unquote, urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from reliability_support import AUTH, HTTP_TIMEOUT, Client, freeze_clock, live_mock
from schemathesis import GenerationMode

from mockserver.spec.conformance import response_problems
from mockserver.spec.document import Spec, default_spec_path

EXAMPLES = int(os.environ.get("RUNAGENTS_FUZZ_EXAMPLES", "4"))
DERANDOMIZE = os.environ.get("RUNAGENTS_FUZZ_RANDOM") != "1"

SPEC = Spec.load(default_spec_path())  # parsed once per process (every xdist worker collects this module)
DOCUMENT = copy.deepcopy(SPEC.document)  # schemathesis normalises its document in place; the mock's stays intact

schema = schemathesis.openapi.from_dict(DOCUMENT)
# Auth is ours to send (below); generated credentials would only turn cases into 401s.
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=EXAMPLES,
    with_security_parameters=False,
    no_shrink=True,
)  # a failure is reported as found: shrinking costs unbounded time
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])
# Undocumented methods are tried too, except OPTIONS, which the HTTP framework answers
# itself (schemathesis' own unsupported-method check skips it for the same reason).
schema.config.phases.coverage.unexpected_methods = {"get", "put", "post", "delete", "patch", "trace"}

# Objects named as in the spec's examples, so example-driven cases reach existing objects.
SEED = """
tools: [{name: stripe-api, base_url: https://api.stripe.com, auth_type: APIKey}]
model_providers:
  - {name: openai, spec: {provider: openai, endpoint: https://api.openai.com, models: [gpt-4o, gpt-4o-mini], auth: {type: None}}}
agents: [{agent_name: payment-agent, image: registry.example.com/payment-agent:v1}]
runs: [{agent_id: payment-agent, user_id: user@example.com, events: [{type: USER_MESSAGE}]}]
access_requests: [{subject: payment-agent-sa, tool_id: stripe-api}]
"""


@pytest.fixture(scope="module")
def target():
    with live_mock(threads=4) as live:
        freeze_clock(live)  # only requests may change state, not time passing between two exports
        client = Client(live.url)
        assert client.control("POST", "/_mock/seed", data=SEED).status_code == 200
        yield live, client


@schema.parametrize()
@settings(
    deadline=None, database=None, derandomize=DERANDOMIZE, suppress_health_check=list(HealthCheck), print_blob=True
)
def test_generated_requests_get_documented_answers_and_refusals_change_nothing(case, target):
    live, client = target
    before = client.state_bytes()

    response = case.call(base_url=live.url, headers=AUTH, timeout=HTTP_TIMEOUT)

    method = response.request.method
    path = unquote(urlsplit(response.request.url).path)  # the path as the server routes it
    status = response.status_code
    content_type = (response.headers.get("content-type") or [None])[0]
    where = f"{method} {path} -> {status} {response.content[:300]!r}"
    assert status < 500, where
    problems = response_problems(SPEC, method, path, status, content_type, response.content)
    assert not problems, f"{where}\n" + "\n".join(problems)
    if 400 <= status < 500:
        assert client.state_bytes() == before, f"a refused request changed the state: {where}"
