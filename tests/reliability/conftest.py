"""Fixtures for the reliability tests: a real served mock per module, reset before each test."""

from reliability_support import client, live  # noqa: F401  (fixtures)
