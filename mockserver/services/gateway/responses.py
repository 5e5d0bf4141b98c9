"""HTTP glue for /v1/chat/completions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Response

from ..handlers import Handlers, Reply
from .models import LLM_AGENT_KEY

if TYPE_CHECKING:
    from ...spec.document import ApiRequest
    from ..platform import Platform

handlers = Handlers()


@handlers.operation("createChatCompletion")
def create_chat_completion(platform: Platform, req: ApiRequest) -> Reply:
    environ = getattr(req.headers, "environ", {})  # werkzeug's headers keep the WSGI environ
    completion = platform.gateway.complete(req.body, environ.get(LLM_AGENT_KEY, ("", "")))
    if not req.body.get("stream"):
        return 200, completion
    include_usage = bool((req.body.get("stream_options") or {}).get("include_usage"))
    return Response(
        platform.gateway.chunks(completion, include_usage),
        status=200,
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache"},
    )
