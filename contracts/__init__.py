"""Contract tests for the RunAgents platform API: check any server against ``openapi.yaml``.

Run it as ``runagents-contract [--base-url URL]`` (see ``contracts.cli``) or as a pytest suite
(``pytest --pyargs contracts --base-url URL``). Without a base URL it starts an in-process
runagents-mock and tests that. ``docs/contracts.md`` explains what is checked and why.

Where things live:

- ``settings``: what one run was asked to do (base URL, key, read-only, examples, seed).
- ``target``: the server under test, an in-process mock or a remote URL, and the preflight call.
- ``session``: the HTTP session every request goes through (safety rules, 429 retries).
- ``naming``: the ``contract-test-`` prefix put on everything a run creates.
- ``api``: the schemathesis schema built from the spec, and which operations a run skips.
- ``checks``: what each response is checked for, including the "no key, no access" probe.
- ``results`` / ``report``: what was seen, and the human-readable report of it.
- ``cleanup``: deleting what the run created, even when checks failed.
- ``run``: the object that ties one run together; ``pytest_plugin`` builds it from the options.
- ``test_operations`` / ``test_stateful``: the two tests (per operation, and link sequences).
"""
