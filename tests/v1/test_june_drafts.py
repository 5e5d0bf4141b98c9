"""Deploy drafts (/api/v1/deploy-drafts) and deploy preview, driven over HTTP as the console,
the CLI and action plans use them: one set of drafts, a state machine, versions."""

from __future__ import annotations

import pytest
from api_support import error_of

KEY = {"X-RunAgents-API-Key": "ra_ws_test"}


def v1(api, method, path, body=None, ws="", **kw):
    return api.request(method, "/api/v1" + ws + path, json_body=body, headers=KEY, auth=False, **kw)


@pytest.mark.parametrize("ws", ["", "/workspaces/revops"])
def test_a_draft_moves_from_in_progress_to_completed_and_deploys(api, ws):
    created = v1(
        api,
        "POST",
        "/deploy-drafts",
        {"id": "draft_billing_v2", "step": "upload", "required_tool_names": ["echo-tool"]},
        ws=ws,
    )
    assert created.status_code == 201
    draft = created.get_json()
    assert (draft["status"], draft["version"], draft["user_id"]) == ("IN_PROGRESS", 1, "operator")
    assert draft["namespace"] == (ws.rsplit("/", 1)[-1] or "default")
    patched = v1(
        api,
        "PATCH",
        "/deploy-drafts/draft_billing_v2",
        {
            "expected_version": 1,
            "step": "deploy",
            "agent_config": {
                "use_custom_image": True,
                "custom_image": "ghcr.io/acme/billing:2",
                "system_prompt": "Be brief.",
            },
        },
        ws=ws,
    ).get_json()
    assert (patched["version"], patched["step"], patched["required_tool_names"]) == (2, "deploy", ["echo-tool"])
    done = v1(api, "POST", "/deploy-drafts/draft_billing_v2/complete", ws=ws).get_json()
    assert (done["status"], done["version"]) == ("COMPLETED", 3)
    # Completing again changes nothing; a completed draft is listed under its status only.
    assert v1(api, "POST", "/deploy-drafts/draft_billing_v2/complete", ws=ws).get_json() == done
    assert v1(api, "GET", "/deploy-drafts", ws=ws).get_json() == []
    assert [d["id"] for d in v1(api, "GET", "/deploy-drafts?status=COMPLETED&mine=0", ws=ws).get_json()] == [
        "draft_billing_v2"
    ]
    # What `runagents deploy --name billing-agent --draft-id draft_billing_v2` sends.
    v1(api, "POST", "/starter-kit", ws=ws)
    deployed = v1(api, "POST", "/deploy", {"agent_name": "billing-agent", "draft_id": "draft_billing_v2"}, ws=ws)
    assert deployed.status_code == 201
    config = v1(api, "GET", "/agents/billing-agent/config", ws=ws).get_json()
    assert (config["image"], config["system_prompt"], config["required_tools"]) == (
        "ghcr.io/acme/billing:2",
        "Be brief.",
        ["echo-tool"],
    )


def test_a_stale_version_and_a_finished_draft_are_conflicts_that_change_nothing(api):
    v1(api, "POST", "/deploy-drafts", {"id": "d1"})
    v1(api, "PATCH", "/deploy-drafts/d1", {"step": "connect"})
    stale = v1(api, "PATCH", "/deploy-drafts/d1", {"expected_version": 1, "step": "upload"})
    assert stale.status_code == 409 and error_of(stale) == 'deploy draft "d1" is at version 2, not 1'
    assert v1(api, "GET", "/deploy-drafts/d1").get_json()["step"] == "connect"
    abandoned = v1(api, "PATCH", "/deploy-drafts/d1", {"status": "ABANDONED"}).get_json()
    assert abandoned["status"] == "ABANDONED"
    for method, path, body in (
        ("PATCH", "/deploy-drafts/d1", {"step": "x"}),
        ("POST", "/deploy-drafts/d1/complete", None),
    ):
        refused = v1(api, method, path, body)
        assert refused.status_code == 409
        assert error_of(refused) == 'deploy draft "d1" is ABANDONED: only an IN_PROGRESS draft changes'
    assert v1(api, "POST", "/deploy-drafts/d1/abandon").get_json() == abandoned
    refused = v1(api, "POST", "/deploy", {"agent_name": "a", "draft_id": "d1"})
    assert refused.status_code == 409 and error_of(refused) == 'deploy draft "d1" is ABANDONED: it cannot be deployed'


def test_draft_errors(api):
    for method, path in (
        ("GET", "/deploy-drafts/nope"),
        ("PATCH", "/deploy-drafts/nope"),
        ("DELETE", "/deploy-drafts/nope"),
        ("POST", "/deploy-drafts/nope/complete"),
        ("POST", "/deploy-drafts/nope/abandon"),
    ):
        response = v1(api, method, path, {} if method == "PATCH" else None)
        assert response.status_code == 404 and error_of(response) == 'deploy draft "nope" not found'
    v1(api, "POST", "/deploy-drafts", {"id": "twice"})
    again = v1(api, "POST", "/deploy-drafts", {"id": "twice"})
    assert again.status_code == 409 and error_of(again) == 'deploy draft "twice" already exists'
    bad = v1(api, "GET", "/deploy-drafts?status=DONE")
    assert (
        bad.status_code == 400
        and error_of(bad) == "query parameter status must be one of: IN_PROGRESS, COMPLETED, ABANDONED"
    )
    bad = v1(api, "PATCH", "/deploy-drafts/twice", {"expected_version": "1"})
    assert bad.status_code == 400 and error_of(bad) == "expected_version must be of type integer"
    bad = v1(api, "POST", "/deploy-drafts", {"id": "has space"})
    assert bad.status_code == 400 and error_of(bad) == "a draft id has no spaces or /"
    assert v1(api, "DELETE", "/deploy-drafts/twice").get_json() == {"status": "deleted"}
    assert v1(api, "GET", "/deploy-drafts/twice").status_code == 404


def test_no_body_and_a_json_null_body_make_an_empty_draft(api):
    empty = api.request("POST", "/api/v1/deploy-drafts", headers=KEY, auth=False)
    null = api.request(
        "POST", "/api/v1/deploy-drafts", data="null", headers={**KEY, "Content-Type": "application/json"}, auth=False
    )
    assert empty.status_code == null.status_code == 201
    assert null.get_json()["id"].startswith("draft-") and null.get_json()["status"] == "IN_PROGRESS"


def test_plan_drafts_and_rest_drafts_are_one_set(api):
    step = {
        "type": "deploy_draft.create_or_patch",
        "idempotency_key": "k1",
        "params": {"id": "from-plan", "step": "connect", "image": "i:1"},
    }
    v1(api, "POST", "/actions/apply", {"actions": [step]})
    draft = v1(api, "GET", "/deploy-drafts/from-plan").get_json()
    assert (draft["status"], draft["version"], draft["image"]) == ("IN_PROGRESS", 1, "i:1")
    v1(api, "POST", "/deploy-drafts/from-plan/complete")
    # A plan cannot reopen a finished draft.
    again = {**step, "idempotency_key": "k2"}
    result = v1(api, "POST", "/actions/validate", {"actions": [again]}).get_json()
    assert result["results"][0]["errors"] == [
        'params: deploy draft "from-plan" is COMPLETED: only an IN_PROGRESS draft changes'
    ]


def test_an_artifact_is_a_build_of_the_workspace(api):
    build = v1(api, "POST", "/builds", {"name": "art", "files": {"agent.py": "print(1)\n"}}).get_json()
    deployed = v1(api, "POST", "/deploy", {"agent_name": "art", "artifact_id": build["id"]})
    assert deployed.status_code == 201
    assert v1(api, "GET", "/agents/art/config").get_json()["image"] == build["image"]
    unknown = v1(api, "POST", "/deploy", {"agent_name": "other", "artifact_id": "art_support_v3"})
    assert unknown.status_code == 404 and error_of(unknown) == (
        'artifact "art_support_v3" not found (the mock\'s artifacts are the builds of this workspace)'
    )
    nothing = v1(api, "POST", "/deploy", {"agent_name": "other"})
    assert nothing.status_code == 400 and error_of(nothing) == (
        "no valid deploy source: send image, source_files or artifact_id (or a draft_id whose draft has one)"
    )


def test_preview_follows_the_request_and_the_workspace(api):
    image = {"agent_name": "p", "image": "ghcr.io/acme/p:1"}
    answer = v1(api, "POST", "/deploy/preview", image).get_json()
    assert (answer["user_state"], answer["confidence"], answer["advanced_details"]["build_required"]) == (
        "instant",
        "high",
        False,
    )
    source = v1(api, "POST", "/deploy/preview", {"agent_name": "p", "source_files": {"a.py": "x"}}).get_json()
    assert (source["user_state"], source["advanced_details"]["execution_mode"]) == ("preparing_runtime", "SOURCE_BUILD")
    for extra, reason in (
        ({"required_tools": ["echo-tool"]}, 'tool "echo-tool" is not registered in this workspace'),
        ({"policies": ["billing"]}, 'policy "billing" does not exist in this workspace'),
        (
            {"llm_configs": [{"provider": "openai", "model": "gpt-4o-mini"}]},
            'no model provider serves model "gpt-4o-mini"',
        ),
    ):
        missing = v1(api, "POST", "/deploy/preview", {**image, **extra}).get_json()
        assert (missing["user_state"], missing["confidence"], missing["short_reason"]) == (
            "compatibility_setup",
            "low",
            reason,
        )
    v1(api, "POST", "/starter-kit")  # echo-tool and playground-llm now exist
    ready = v1(api, "POST", "/deploy/preview", {**image, "required_tools": ["echo-tool"]}).get_json()
    assert ready["user_state"] == "instant"
    assert v1(api, "GET", "/agents/p").status_code == 404  # nothing was deployed


def test_a_draft_holding_a_field_the_deploy_refuses_is_a_conflict_and_deploys_nothing(api):
    # Found by the June contract kit: the draft's model mapping is valid for a draft, but the
    # deploy it stands for refuses its provider. The deploy request itself is valid, so the
    # answer is a 409 that names the field, not a 400 for a schema-valid body.
    created = v1(
        api,
        "POST",
        "/deploy-drafts",
        {
            "id": "d1",
            "agent_config": {"custom_image": "ghcr.io/acme/a:1", "use_custom_image": True},
            "model_mappings": {"chat": {"provider": "not-a-provider", "model": "m"}},
        },
    )
    assert created.status_code == 201, created.get_json()
    refused = v1(api, "POST", "/deploy", {"agent_name": "a", "draft_id": "d1"})
    assert refused.status_code == 409
    assert error_of(refused) == (
        'deploy draft "d1" cannot be deployed: llm_configs[0].provider must be one of: '
        "openai, anthropic, bedrock, ollama"
    )
    assert v1(api, "GET", "/agents/a").status_code == 404
