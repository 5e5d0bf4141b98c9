"""The platform's runtime path around a deployed agent, as HTTP: the tool proxy (egress), the
agent-scoped LLM gateway, the OAuth callback, invoke proxying and the resume worker.

These routes are the platform's data plane, not the control API: they stay on with
``--no-admin`` and take no API key (the URL names the agent, as the mesh identity would).
Domain rules live in ``services/policies`` and ``services/runtime``; this package is HTTP glue.
"""
