"""Builds on the clock, the LLM gateway, and code analysis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from api_support import DOC_ANALYZE_EXAMPLE, OPENAI_PROVIDER, error_of

# --- builds -------------------------------------------------------------------------------


def test_build_moves_pending_building_succeeded(make_api):
    api = make_api(build_pending_seconds=5, build_running_seconds=10)
    response = api.post(
        "/api/builds", {"name": "my-agent", "files": {"agent.py": "print('hi')\n"}, "entry_point": "agent.py"}
    )
    assert response.status_code == 202
    build = response.get_json()
    assert build["status"] == "PENDING" and build["id"].startswith("build-")
    assert build["image"].startswith("registry.runagents.io/my-agent:")
    seen = [api.get(f"/api/builds/{build['id']}").get_json()["status"]]
    for step in (5, 9, 1):
        api.advance(step)
        seen.append(api.get(f"/api/builds/{build['id']}").get_json()["status"])
    assert seen == ["PENDING", "BUILDING", "BUILDING", "SUCCEEDED"]
    done = api.get(f"/api/builds/{build['id']}").get_json()
    assert "completed_at" in done and "error" not in done


def test_image_uri_is_deterministic(api):
    body = {"name": "my-agent", "files": {"agent.py": "print(1)\n"}}
    first, second = (api.post("/api/builds", body).get_json() for _ in range(2))
    assert first["image"] == second["image"] and first["id"] != second["id"]
    other = api.post("/api/builds", {**body, "files": {"agent.py": "print(2)\n"}}).get_json()
    assert other["image"] != first["image"]


def test_syntax_error_fails_the_build_naming_file_and_line(api):
    build = api.post("/api/builds", {"name": "x", "files": {"ok.py": "x = 1\n", "bad.py": "x = 1\nif x\n"}}).get_json()
    api.advance(60)
    failed = api.get(f"/api/builds/{build['id']}").get_json()
    assert failed["status"] == "FAILED"
    assert "bad.py: line 2" in failed["error"]


def test_build_errors(api):
    response = api.get("/api/builds/build-nope")
    assert response.status_code == 404 and error_of(response) == "build not found"
    response = api.post("/api/builds", {"name": "x"})
    assert response.status_code == 400 and error_of(response) == "files is required"


# --- LLM gateway --------------------------------------------------------------------------


def chat(api, **body):
    payload = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
        **body,
    }
    return api.post("/v1/chat/completions", payload)


def test_chat_completion_needs_a_registered_model(api):
    response = chat(api)
    assert response.status_code == 404
    assert error_of(response) == 'no provider found for model "gpt-4o-mini"'
    response = api.post("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}]})
    assert response.status_code == 400 and error_of(response) == "model is required"
    response = api.post("/v1/chat/completions", {"model": "", "messages": [{"role": "user", "content": "x"}]})
    assert response.status_code == 400 and error_of(response) == "model is required"


def test_chat_completion_is_deterministic_with_usage(api):
    api.post("/api/model-providers", OPENAI_PROVIDER)
    first = chat(api).get_json()
    assert first["object"] == "chat.completion" and first["model"] == "gpt-4o-mini"
    message = first["choices"][0]["message"]
    assert message == {"role": "assistant", "content": "[mock gpt-4o-mini] What is the capital of France?"}
    assert first["choices"][0]["finish_reason"] == "stop"
    usage = first["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    second = chat(api).get_json()
    assert second["choices"] == first["choices"] and second["usage"] == usage


def test_chat_configured_replies_and_max_tokens(api):
    api.post("/api/model-providers", OPENAI_PROVIDER)
    api.put("/_mock/replies", {"llm": {"gpt-4o-mini": "The capital of France is Paris."}})
    assert chat(api).get_json()["choices"][0]["message"]["content"] == "The capital of France is Paris."
    cut = chat(api, max_tokens=2).get_json()
    assert cut["choices"][0]["finish_reason"] == "length"
    assert cut["usage"]["completion_tokens"] <= 2
    api.put("/_mock/replies", {"llm": {"*": "any"}})
    assert chat(api, model="gpt-4o").get_json()["choices"][0]["message"]["content"] == "any"


def sse_events(response) -> list:
    lines = [l for l in response.get_data(as_text=True).split("\n") if l]
    assert all(l.startswith("data: ") for l in lines)
    assert lines[-1] == "data: [DONE]"
    return [json.loads(l[6:]) for l in lines[:-1]]


def test_streaming_completion(api):
    api.post("/api/model-providers", OPENAI_PROVIDER)
    whole = chat(api).get_json()["choices"][0]["message"]["content"]
    response = chat(api, stream=True, stream_options={"include_usage": True})
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    chunks = sse_events(response)
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == whole
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
    # The journal keeps what the client sent for a streamed answer too.
    last = api.get("/_mock/journal").get_json()[-1]
    assert (last["path"], last["status"], last["body"]["stream"]) == ("/v1/chat/completions", 200, True)


@pytest.mark.parametrize("include_usage", [False, True])
def test_streamed_events_match_the_spec_as_schemathesis_reads_it(api, include_usage):
    # Issue 12: the event-stream schema describes one event; schemathesis validates each.
    import requests
    import schemathesis
    from schemathesis import Response
    from schemathesis.checks import load_all_checks
    from schemathesis.specs.openapi.checks import response_schema_conformance

    from mockserver.spec.document import default_spec_path

    load_all_checks()
    api.post("/api/model-providers", OPENAI_PROVIDER)
    response = chat(api, stream=True, stream_options={"include_usage": include_usage})
    body = response.get_data()
    assert body.endswith(b"data: [DONE]\n\n")
    operation = schemathesis.openapi.from_path(default_spec_path())["/v1/chat/completions"]["POST"]
    case = operation.Case(body={"model": "gpt-4o-mini", "messages": [], "stream": True})

    def answer(data: bytes) -> Response:  # the stream as a client received it
        sent = requests.Request("POST", "http://mock/v1/chat/completions").prepare()
        return Response(
            status_code=200,
            headers={"content-type": [response.headers["Content-Type"]]},
            content=data,
            request=sent,
            elapsed=0.0,
            message="OK",
            encoding="utf-8",
            http_version="1.1",
            verify=True,
        )

    case.validate_response(answer(body), checks=[response_schema_conformance])
    broken = body.replace(b'"object": "chat.completion.chunk"', b'"object": "chunk"', 1)
    with pytest.raises(BaseExceptionGroup) as failed:  # the check bites: a chunk of the wrong shape
        case.validate_response(answer(broken), checks=[response_schema_conformance])
    found = failed.value.exceptions
    assert any("SSE event violates schema" in str(e) for e in found), found


# --- ingestion ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/analyze", "/ingestion/analyze"])
def test_analyze_documented_example(api, path):
    response = api.post(path, {"files": {"agent.py": DOC_ANALYZE_EXAMPLE}})
    assert response.status_code == 201
    result = response.get_json()
    assert result["id"].startswith("analysis-")
    assert result["tools"] == [
        {"name": "stripe-api", "base_url": "https://api.stripe.com", "file": "agent.py", "line": 8}
    ]
    assert result["model_providers"] == [{"provider": "openai", "model": "gpt-4o"}]
    assert result["secrets"] == [{"type": "api_key", "file": "agent.py", "line": 9, "severity": "high"}]
    assert set(result["outbound_destinations"]) == {"api.stripe.com", "api.openai.com"}
    assert result["detected_requirements"] == ["openai>=1.0", "requests"]
    assert result["entry_point"] == "agent.py"
    assert "sk_live_abc123" not in response.get_data(as_text=True)
    assert "sk_live_abc123" not in api.get("/_mock/journal").get_data(as_text=True)
    assert "sk_live_abc123" not in json.dumps(api.state())


def test_analyze_the_api_quickstarts_agent_as_its_page_shows(api):
    source = (Path(__file__).parent / "fixtures" / "quickstart_agents" / "api_quickstart_curl.py.txt").read_text()
    result = api.post("/ingestion/analyze", {"files": {"agent.py": source}}).get_json()  # checked against the spec
    assert [(t["name"], t["detected_url_pattern"], t["line"]) for t in result["tools"]] == [
        ("echo-tool", "TOOL_ECHO_TOOL_URL", 10)
    ]
    assert result["model_usages"] == [
        {"role": "default", "model": "gpt-4o-mini", "variable_name": "LLM_GATEWAY_URL", "file": "agent.py", "line": 20}
    ]
    assert result["model_providers"] == result["outbound_destinations"] == result["secrets"] == []


def test_analysis_is_cached_for_an_hour(api):
    result = api.post("/analyze", {"files": {"agent.py": DOC_ANALYZE_EXAMPLE}}).get_json()
    api.advance(3599)
    assert api.get(f"/analysis/{result['id']}").get_json() == result
    api.advance(2)
    response = api.get(f"/analysis/{result['id']}")
    assert response.status_code == 404 and error_of(response) == "analysis not found"


def test_requirements_documented_example(api):
    files = {
        "agent.py": "from langchain.chat_models import ChatOpenAI\nfrom langchain.agents import "
        "initialize_agent\nimport requests\n",
        "utils.py": "import pandas as pd\nimport numpy as np\n",
    }
    response = api.post("/requirements", {"files": files})
    assert response.status_code == 200
    assert response.get_json() == {
        "requirements": ["langchain", "openai>=1.0", "requests", "pandas", "numpy"],
        "entry_point": "agent.py",
    }


def test_analyze_requires_files_map(api):
    response = api.post("/analyze", {})
    assert response.status_code == 400 and error_of(response) == "files is required"
    response = api.post("/analyze", {"files": {"a.py": 3}})
    assert response.status_code == 400 and error_of(response) == "files.a.py must be of type string"


def test_provider_failure_502_can_be_injected(api):
    # The mock has no real backend to fail; the documented 502 comes from a fault rule.
    api.post("/api/model-providers", OPENAI_PROVIDER)
    api.post(
        "/_mock/faults",
        {
            "method": "POST",
            "path": "/v1/chat/completions",
            "status": 502,
            "error": "provider request failed",
            "times": 1,
        },
    )
    response = chat(api)
    assert response.status_code == 502 and error_of(response) == "provider request failed"
    assert chat(api).status_code == 200
