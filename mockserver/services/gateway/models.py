"""The OpenAI-compatible LLM gateway: model routing and deterministic completions."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ...basics.errors import ApiError
from ..state import Field, Persistent, mapping

if TYPE_CHECKING:
    from ..ports import PlatformPort

# The WSGI environ key under which the runtime's LLM path (/_llm/<namespace>/<agent>/...) names
# the calling agent to the gateway: set by the platform, so a client cannot claim an agent.
LLM_AGENT_KEY = "runagents.llm_agent"


def count_tokens(text: str) -> int:
    """A stable stand-in for a tokenizer: about four characters a token, at least one."""
    return max(1, (len(text) + 3) // 4) if text else 0


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: keep the text ones
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _replies_problem(replies: Any, state: Mapping[str, Any]) -> str | None:
    if not isinstance(replies, Mapping) or not all(isinstance(v, str) for v in replies.values()):
        return 'gateway.replies must map a model name (or "*") to a reply text'
    return None


def _usage(listed: Any) -> dict[tuple[str, str, str], int]:
    return {(str(u["agent_namespace"]), str(u["agent_name"]), str(u["model"])): int(u["tokens"]) for u in listed}


class GatewayBackend(Persistent):
    STATE = (
        mapping("replies", check=_replies_problem),
        Field(
            "usage",
            shape="list",
            restore=_usage,
            default=dict,
            dump=lambda usage: [
                {"agent_namespace": ns, "agent_name": name, "model": model, "tokens": n}
                for (ns, name, model), n in usage.items()
            ],
        ),
    )

    def __init__(self, platform: PlatformPort) -> None:
        self.platform = platform
        self.replies: dict[str, str] = {}  # model -> configured reply text ("*" for any model)
        # (agent namespace, agent name, model) -> tokens served: what /api/v1/model-spend prices.
        # Calls no agent made (a key's own /chat/completions) count under the agent "".
        self.usage: dict[tuple[str, str, str], int] = {}

    def reply_text(self, model: str, messages: list[Mapping[str, Any]]) -> str:
        configured = self.replies.get(model, self.replies.get("*"))
        if configured is not None:
            return configured
        last_user = next((_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
        return f"[mock {model}] {last_user}".rstrip()

    def complete(self, body: Mapping[str, Any], agent: tuple[str, str] = ("", "")) -> dict[str, Any]:
        """The whole completion; ``stream`` callers get it cut into chunks by ``chunks``.
        ``agent``: (namespace, name) of the agent whose gateway URL was called."""
        model = body["model"]
        if self.platform.providers.provider_for_model(model) is None:
            raise ApiError(404, f'no provider found for model "{model}"')
        messages = body["messages"]
        words = self.reply_text(model, messages).split(" ")
        finish = "stop"
        limit = body.get("max_tokens")
        if limit:
            # One pass with a running total: the reply's length is the client's to choose.
            total = 0
            for index, word in enumerate(words):
                total += count_tokens(word)
                if total > limit:
                    words, finish = words[:index], "length"
                    break
        content = " ".join(words)
        prompt = sum(count_tokens(_text(m.get("content"))) + 3 for m in messages)
        completion = count_tokens(content)
        with self.platform.lock:
            key = (*agent, model)
            self.usage[key] = self.usage.get(key, 0) + prompt + completion
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(self.platform.clock.now()),
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }

    @staticmethod
    def chunks(completion: Mapping[str, Any], include_usage: bool) -> Iterator[str]:
        """Server-sent events as OpenAI sends them, ending with ``data: [DONE]``."""
        base = {
            "id": completion["id"],
            "object": "chat.completion.chunk",
            "created": completion["created"],
            "model": completion["model"],
        }
        choice = completion["choices"][0]

        def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
            chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
            return f"data: {json.dumps(chunk)}\n\n"

        yield event({"role": "assistant", "content": ""})
        words = choice["message"]["content"].split(" ") if choice["message"]["content"] else []
        for i, word in enumerate(words):
            yield event({"content": word if i == 0 else " " + word})
        yield event({}, choice["finish_reason"])
        if include_usage:
            yield f"data: {json.dumps({**base, 'choices': [], 'usage': completion['usage']})}\n\n"
        yield "data: [DONE]\n\n"

    def upgrade(self, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """A state saved before usage was per agent counts its tokens under the agent ""."""
        if "tokens" not in data:
            return data
        usage = list(data.get("usage", []))
        usage += [
            {"agent_namespace": "", "agent_name": "", "model": str(model), "tokens": int(n)}
            for model, n in data["tokens"].items()
        ]
        merged: dict[tuple[str, str, str], int] = {}
        for key, n in ((k, v) for u in usage for k, v in _usage([u]).items()):
            merged[key] = merged.get(key, 0) + n
        return {
            **data,
            "usage": [
                {"agent_namespace": ns, "agent_name": name, "model": model, "tokens": n}
                for (ns, name, model), n in merged.items()
            ],
        }
