"""Fixtures for the security tests (helpers shared with tests/reliability: tests/reliability_support.py)."""

from reliability_support import client, live  # noqa: F401  (fixtures)
