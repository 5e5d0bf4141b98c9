"""Fixtures for the reliability tests: a real served mock, reset before each test."""

from __future__ import annotations

import pytest

from reliability_support import Client, live_mock


@pytest.fixture(scope="module")
def live():
    # One server per module (starting waitress per test would cost more than the tests).
    with live_mock(threads=8) as server:
        yield server


@pytest.fixture
def client(live) -> Client:
    c = Client(live.url)
    c.reset()
    return c
