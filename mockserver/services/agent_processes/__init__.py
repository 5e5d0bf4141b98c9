"""Deployed source agents run as local processes (``serve --run-agents``, docs/runtime.md,
"Running agents"): ``models`` holds the rules (who may start code, limits, back-off, crash
state, bounded logs), ``supervisor`` the OS part (one guarded process per agent), ``runner``
ties them to the platform's agents."""
