"""A first governed agent: a plain ``handler`` for the vendor runtime (SDK 1.4.x) that calls one
tool through the platform's tool proxy, so a policy can make that call wait for a human.

Standard library only, so the June deploy runs it at once (``INSTANT_RUNTIME``, no build).

The one rule that matters: when the tool answers an error, **return**, do not raise. The runtime
has already seen the answer (its ``urlopen`` hook keeps the body of every tool call); a
``403 APPROVAL_REQUIRED`` it has seen turns a normal return into the run's pause, and after the
approval it calls ``handler`` again with ``request["resume"]`` set. A handler that raises gives
the runtime's ``500`` instead, and the run fails.
"""

import json
import os
import urllib.error
import urllib.request


def handler(request):
    # TOOL_URL_<TOOL> is the tool proxy's URL for this agent (the platform injects it).
    url = os.environ["TOOL_URL_ECHO_TOOL"] + "/echo"
    body = json.dumps({"text": request["message"]}).encode()
    call = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(call, timeout=30) as answer:
            return {"response": "echo-tool said: " + answer.read().decode()}
    except urllib.error.HTTPError as exc:
        # The body was read by the runtime's hook already; the status is all we still have.
        return {"response": f"echo-tool answered {exc.code}"}
