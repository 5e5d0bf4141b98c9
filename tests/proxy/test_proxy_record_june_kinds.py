"""``proxy --record`` keeps June's policies, approval connectors and deploy drafts (issue 26.3),
as the HAR always did, and the record loads back with ``serve --seed`` into the workspace the
traffic went to: the bound agent with its policy, the connector, each draft with its id and status."""

from __future__ import annotations

from contextlib import contextmanager

import requests
import yaml
from contract_kit_support import serve_mock
from proxy_support import proxy_process

AUTH = {"Authorization": "Bearer proxy-record-key"}
POLICY = {
    "name": "payments-approval",
    "spec": {
        "policies": [
            {"permission": "approval_required", "operations": ["POST"], "resource": "https://api.stripe.com/*"}
        ]
    },
}
CONNECTOR = {"name": "ops-hook", "type": "webhook", "endpoint": "https://hooks.example.com/approvals"}


def _june_session(base: str) -> dict[str, str]:
    """Policies, a bound agent, connectors and drafts on the revops workspace; some deleted again."""
    ws = base + "/api/v1/workspaces/revops"

    def call(method: str, path: str, body=None, expected: int = 200):
        response = requests.request(method, ws + path, json=body, headers=AUTH, timeout=10)
        assert response.status_code == expected, (method, path, response.status_code, response.text)
        return response.json()

    call("POST", "/policies", POLICY, 201)
    call("POST", "/policies", {**POLICY, "name": "dropped-policy"}, 201)
    call("DELETE", "/policies/dropped-policy")
    call(
        "POST",
        "/deploy",
        {"agent_name": "payments-agent", "image": "ghcr.io/acme/p:1", "policies": ["payments-approval"]},
        201,
    )
    kept = call("POST", "/approval-connectors", CONNECTOR, 201)
    dropped = call("POST", "/approval-connectors", {**CONNECTOR, "name": "dropped-hook"}, 201)
    call("DELETE", f"/approval-connectors/{dropped['id']}")
    finished = call("POST", "/deploy-drafts", {"step": "connect"}, 201)
    call("PATCH", f"/deploy-drafts/{finished['id']}", {"step": "review", "expected_version": finished["version"]})
    call("POST", f"/deploy-drafts/{finished['id']}/complete")
    open_draft = call("POST", "/deploy-drafts", {"step": "connect"}, 201)
    call("GET", "/deploy-drafts")
    return {"connector": kept["id"], "finished": finished["id"], "open": open_draft["id"]}


def test_a_june_record_keeps_policies_connectors_and_drafts_and_loads_back(tmp_path):
    record = tmp_path / "june.yaml"
    with contextmanager(serve_mock)() as upstream:
        with proxy_process(upstream.url, "--record", str(record)) as proxy:
            ids = _june_session(proxy.url)
        assert proxy.exit_code == 0, proxy.output

    fixture = yaml.safe_load(record.read_text())
    assert set(fixture) == {"workspaces"}, fixture  # nothing went to the default workspace
    revops = fixture["workspaces"]["revops"]
    assert revops["policies"] == [POLICY], revops
    assert revops["agents"][0]["policies"] == ["payments-approval"], revops
    assert [c["name"] for c in revops["approval_connectors"]] == ["ops-hook"], revops
    drafts = {d["id"]: d for d in revops["deploy_drafts"]}
    assert set(drafts) == {ids["finished"], ids["open"]}, drafts
    assert (drafts[ids["finished"]]["status"], drafts[ids["finished"]]["step"]) == ("COMPLETED", "review")
    assert drafts[ids["open"]]["status"] == "IN_PROGRESS"

    with contextmanager(serve_mock)("--seed", str(record)) as fresh:
        ws = fresh.url + "/api/v1/workspaces/revops"
        policies = requests.get(ws + "/policies", headers=AUTH, timeout=10).json()
        assert [(p["name"], [u["name"] for u in p["used_by"]]) for p in policies] == [
            ("payments-approval", ["payments-agent"])
        ]
        connectors = requests.get(ws + "/approval-connectors", headers=AUTH, timeout=10).json()
        assert [(c["name"], c["endpoint"]) for c in connectors] == [("ops-hook", CONNECTOR["endpoint"])]
        finished = requests.get(ws + f"/deploy-drafts/{ids['finished']}", headers=AUTH, timeout=10).json()
        assert (finished["status"], finished["step"]) == ("COMPLETED", "review"), finished
        still_open = requests.get(ws + f"/deploy-drafts/{ids['open']}", headers=AUTH, timeout=10).json()
        assert still_open["status"] == "IN_PROGRESS", still_open
        # The default workspace got none of it.
        assert requests.get(fresh.url + "/api/v1/policies", headers=AUTH, timeout=10).json() == []
