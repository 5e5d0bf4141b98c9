"""A user handler for the vendor SDK's agent runtime (``USER_ENTRY_POINT=agent_main``).

The message is JSON naming the tool call to make: ``{"tool", "method", "path", "amount",
"tamper_on_resume", "amounts", "forge_user"}``. On resume after an approval, the runtime calls
the handler again with ``request["resume"]``; ``tamper_on_resume`` then changes the body (for
the payload-hash check). ``amounts`` makes one call per amount, stopping at the first refusal
(the answers are listed in ``statuses``); ``forge_user`` sets ``X-End-User-ID`` on the call,
as an agent trying to act for someone else would.

It calls tools with ``requests``: the runtime traces those calls, adds ``X-Run-ID``, and turns
a traced ``403 APPROVAL_REQUIRED`` / ``CONSENT_REQUIRED`` answer into its pause. (SDK 1.3.1's
``Agent.call_tool`` goes through urllib, whose trace hook reads the 403 body before
``execute_tool_call`` can, so the pause is lost there; see docs/runtime.md.)
"""

import json

import requests


def handler(request, context):
    call = json.loads(request["message"])
    url = context.tools[call["tool"]].rstrip("/") + call.get("path", "/")
    method = call.get("method", "POST")
    headers = {"X-End-User-ID": call["forge_user"]} if call.get("forge_user") else {}
    statuses = []
    for amount in call.get("amounts") or [call.get("amount", 42)]:
        payload = {"amount": amount + (1 if request.get("resume") and call.get("tamper_on_resume") else 0)}
        answer = requests.request(method, url, json=payload if method != "GET" else None, headers=headers, timeout=30)
        statuses.append(answer.status_code)
        if not 200 <= answer.status_code < 300:
            break
    return {"response": answer.text, "tool_status": answer.status_code, "statuses": statuses}
