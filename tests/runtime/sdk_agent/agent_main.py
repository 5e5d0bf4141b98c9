"""A user handler for the vendor SDK's agent runtime (``USER_ENTRY_POINT=agent_main``).

The message is JSON naming the tool call to make: ``{"tool", "method", "path", "amount",
"tamper_on_resume"}``. On resume after an approval, the runtime calls the handler again with
``request["resume"]``; ``tamper_on_resume`` then changes the body (for the payload-hash check).

It calls tools with ``requests``: the runtime traces those calls, adds ``X-Run-ID``, and turns
a traced ``403 APPROVAL_REQUIRED`` / ``CONSENT_REQUIRED`` answer into its pause. (SDK 1.3.1's
``Agent.call_tool`` goes through urllib, whose trace hook reads the 403 body before
``execute_tool_call`` can, so the pause is lost there; see docs/runtime.md.)
"""

import json

import requests


def handler(request, context):
    call = json.loads(request["message"])
    payload = {"amount": call.get("amount", 42)}
    if request.get("resume") and call.get("tamper_on_resume"):
        payload["amount"] += 1
    url = context.tools[call["tool"]].rstrip("/") + call.get("path", "/")
    method = call.get("method", "POST")
    answer = requests.request(method, url, json=payload if method != "GET" else None, timeout=30)
    return {"response": answer.text, "tool_status": answer.status_code}
