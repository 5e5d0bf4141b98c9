"""Fixtures for the security tests. The helpers live in tests/reliability/reliability_support.py
(shared by both folders); this puts that folder on the import path."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reliability"))

from reliability_support import Client, live_mock  # noqa: E402


@pytest.fixture(scope="module")
def live():
    with live_mock(threads=4) as server:
        yield server


@pytest.fixture
def client(live) -> Client:
    c = Client(live.url)
    c.reset()
    return c
