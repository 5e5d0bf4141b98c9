"""The test tooling: the pytest plugin (``runagents_mock`` fixture) and ``LiveServer``."""
