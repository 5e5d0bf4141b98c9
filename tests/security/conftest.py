"""Fixtures for the security tests (helpers shared with tests/reliability: tests/reliability_support.py)."""

from __future__ import annotations

import pytest

from reliability_support import Client, live_mock


@pytest.fixture(scope="module")
def live():
    with live_mock(threads=4) as server:
        yield server


@pytest.fixture
def client(live) -> Client:
    c = Client(live.url)
    c.reset()
    return c
