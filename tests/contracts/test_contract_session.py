"""The session every request of a run goes through: 429 retries and the safety rules."""

from __future__ import annotations

import pytest
from flask import Flask, jsonify

from contracts.session import ContractSession, UnsafeRequestError, retry_after_seconds
from mockserver.testkit.live_server import LiveServer


@pytest.fixture
def rate_limited_server():
    """Answers 429 to the first ``busy`` calls of /limited (with ``retry_after`` if set), then 200."""
    app = Flask("rate-limited")
    state = {"busy": 2, "calls": 0, "retry_after": "0"}

    @app.route("/limited", methods=["GET", "POST"])
    def limited():
        state["calls"] += 1
        if state["calls"] <= state["busy"]:
            headers = {"Retry-After": state["retry_after"]} if state["retry_after"] is not None else {}
            return jsonify(error="rate limit exceeded"), 429, headers
        return jsonify(ok=True)

    with LiveServer(app=app) as live:
        live.state = state
        yield live


def session(**kwargs) -> tuple[ContractSession, list[float]]:
    waits: list[float] = []
    options = {"read_only": False, "allow_control_api": False, **kwargs}
    return ContractSession(sleep=waits.append, **options), waits


def test_retries_after_429_as_long_as_the_server_asks(rate_limited_server):
    rate_limited_server.state["retry_after"] = "3"
    client, waits = session()
    response = client.post(rate_limited_server.url + "/limited", json={"a": 1})
    assert response.status_code == 200
    assert waits == [3.0, 3.0]
    assert client.rate_limited == 2 and client.waited_seconds == 6.0


def test_never_sleeps_longer_than_the_cap(rate_limited_server):
    rate_limited_server.state["retry_after"] = "3600"
    client, waits = session(max_wait=5)
    assert client.get(rate_limited_server.url + "/limited").status_code == 200
    assert waits == [5, 5]


def test_backs_off_without_retry_after(rate_limited_server):
    rate_limited_server.state["retry_after"] = None
    client, waits = session()
    assert client.get(rate_limited_server.url + "/limited").status_code == 200
    assert waits == [1.0, 2.0]


def test_gives_up_after_the_last_retry(rate_limited_server):
    rate_limited_server.state["busy"] = 100
    client, waits = session(max_retries=3)
    assert client.get(rate_limited_server.url + "/limited").status_code == 429  # documented: checked as is
    assert len(waits) == 3


def test_retry_after_in_seconds_or_as_an_http_date():
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:30 GMT", now=now) == 30.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:27:00 GMT", now=now) == 0.0  # past: no wait
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_read_only_refuses_every_write(rate_limited_server):
    client, _ = session(read_only=True)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        with pytest.raises(UnsafeRequestError, match="read-only"):
            client.request(method, rate_limited_server.url + "/limited")
    assert rate_limited_server.state["calls"] == 0  # refused before anything was sent


def test_refuses_the_control_api_unless_it_is_our_own_mock():
    with LiveServer() as live:
        client, _ = session()
        with pytest.raises(UnsafeRequestError, match="_mock"):
            client.post(live.url + "/_mock/reset")
        with pytest.raises(UnsafeRequestError, match="_mock"):
            client.get(live.url + "/prefix/_mock/state")
        allowed, _ = session(allow_control_api=True)  # the in-process mock is ours
        assert allowed.post(live.url + "/_mock/reset").status_code == 200
