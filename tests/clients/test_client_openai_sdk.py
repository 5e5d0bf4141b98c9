"""The `openai` SDK, unmodified, against the mock's LLM gateway (`runagents_mock.openai_base_url`)."""

from __future__ import annotations

import openai
import pytest

MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Capital of France?"}]


def test_chat_completion(llm, runagents_mock):
    completion = llm.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    assert completion.object == "chat.completion" and completion.id.startswith("chatcmpl-")
    assert completion.model == "gpt-4o-mini"
    [choice] = completion.choices
    assert (choice.index, choice.message.role, choice.finish_reason) == (0, "assistant", "stop")
    assert choice.message.content == "[mock gpt-4o-mini] Capital of France?"  # default: echo the user
    usage = completion.usage
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    [call] = runagents_mock.calls("POST", "/v1/chat/completions")
    assert call["headers"]["Authorization"] == "***" and call["body"]["messages"] == MESSAGES


def test_configured_reply_and_max_tokens(llm, runagents_mock):
    runagents_mock.set_replies(llm={"gpt-4o-mini": "The capital of France is Paris."})

    full = llm.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    cut = llm.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, max_tokens=3)

    assert full.choices[0].message.content == "The capital of France is Paris."
    assert cut.choices[0].finish_reason == "length"
    assert full.choices[0].message.content.startswith(cut.choices[0].message.content)
    assert cut.usage.completion_tokens <= 3


def test_streaming_yields_the_same_text_in_chunks(llm):
    expected = llm.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES).choices[0].message.content

    chunks = list(llm.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))

    assert all(c.object == "chat.completion.chunk" and c.model == "gpt-4o-mini" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == expected
    assert [c.choices[0].finish_reason for c in chunks][-1] == "stop"
    assert all(c.usage is None for c in chunks)  # usage only when asked for


def test_streaming_with_include_usage_ends_with_a_usage_chunk(llm):
    chunks = list(
        llm.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
    )

    *text_chunks, last = chunks
    assert last.choices == [] and last.usage is not None
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert text_chunks[-1].choices[0].finish_reason == "stop"


def test_streaming_through_the_context_manager_helper(llm, runagents_mock):
    runagents_mock.set_replies(llm={"*": "Paris."})
    with llm.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "Paris."


def test_unknown_model_is_not_found_error(llm):
    with pytest.raises(openai.NotFoundError) as missing:
        llm.chat.completions.create(model="gpt-5", messages=MESSAGES)
    assert missing.value.status_code == 404
    # The SDK unwraps the "error" member: the platform's errors are {"error": "<text>"}.
    assert missing.value.body == 'no provider found for model "gpt-5"'
    assert missing.value.response.json() == {"error": 'no provider found for model "gpt-5"'}


def test_wrong_key_is_authentication_error(runagents_mock_factory, gpt_4o_mini):
    keyed = runagents_mock_factory(api_keys=["k"])
    keyed.request(
        "POST",
        "/api/model-providers",
        json={
            "name": "openai",
            "spec": {
                "provider": "openai",
                "endpoint": "https://api.openai.com",
                "models": ["gpt-4o-mini"],
                "auth": {"type": "None"},
            },
        },
    )
    wrong = openai.OpenAI(base_url=keyed.openai_base_url, api_key="not-k", max_retries=0)
    right = openai.OpenAI(base_url=keyed.openai_base_url, api_key="k", max_retries=0)

    with pytest.raises(openai.AuthenticationError) as denied:
        wrong.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert (denied.value.status_code, denied.value.body) == (401, "invalid API key")
    assert right.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES).choices[0].message.content


def test_rate_limit_is_rate_limit_error(llm, runagents_mock):
    runagents_mock.set_rate_limit(1)
    llm.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    with pytest.raises(openai.RateLimitError) as limited:
        llm.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert limited.value.response.headers["Retry-After"].isdigit()


def test_invalid_request_is_bad_request_error(llm):
    with pytest.raises(openai.BadRequestError) as invalid:
        llm.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, temperature=5)
    assert invalid.value.status_code == 400
    assert invalid.value.body == "temperature must be <= 2"


def test_transient_gateway_failure_is_retried_by_the_sdk(runagents_mock, gpt_4o_mini):
    runagents_mock.faults.add(method="POST", path="/v1/chat/completions", status=502, times=1)
    retrying = openai.OpenAI(base_url=runagents_mock.openai_base_url, api_key=runagents_mock.api_key, max_retries=1)

    completion = retrying.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    assert completion.choices[0].finish_reason == "stop"
    runagents_mock.assert_called("POST", "/v1/chat/completions", times=2)
