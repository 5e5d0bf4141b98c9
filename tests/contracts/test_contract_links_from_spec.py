"""Issue 26.2's ``getAgent ... use_after_free ... got HTTP 200 OK`` (seed 1699673785, February,
served mock): the mock is right, the sequence was not. A deleted agent is gone at once (no
terminating phase); deploying the same name again brings it back, legitimately. The kit's state
machines followed links schemathesis *inferred* (getAgent -> deployAgent, from look-alike
schemas), building deploy -> delete -> deploy again -> get, which use_after_free reads as a
deleted agent still served. The kit now follows the document's links only, as ``st run`` does
with this repository's schemathesis.toml."""

from __future__ import annotations

from api_support import CheckedClient

from contracts.api import link_flows
from contracts.run import ContractRun
from contracts.settings import RunSettings
from mockserver import create_app


def test_a_deleted_agent_is_gone_at_once_and_a_redeploy_brings_it_back():
    client = CheckedClient(create_app({}))
    body = {"agent_name": "uaf-agent", "image": "img:1"}
    assert client.post("/api/deploy", body).status_code == 201
    assert client.delete("/api/agents/agent-system/uaf-agent").status_code == 200
    assert client.get("/api/agents/agent-system/uaf-agent").status_code == 404
    assert client.post("/api/deploy", body).status_code == 201
    assert client.get("/api/agents/agent-system/uaf-agent").status_code == 200


def test_the_kits_state_machines_follow_the_documents_links_only():
    run = ContractRun(RunSettings(max_examples=1, seed=1699673785))
    try:
        documented = {link.transition_id.split(" -> ", 1)[1].split("] ", 1)[1] for link in run.links}
        for flow, operations in link_flows(run.links).items():
            machine = run.schema.include(operation_id=operations).as_state_machine()
            followed = {
                f"{link.name} -> {link.target.label}"
                for entry in machine._transitions.operations.values()
                for link in entry.outgoing
            }
            assert followed, f"{flow}: no link at all"
            assert followed <= documented, f"{flow}: links not in the document: {sorted(followed - documented)}"
    finally:
        run.close()
