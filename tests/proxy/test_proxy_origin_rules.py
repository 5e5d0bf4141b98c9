"""The proxy answers only its own address and non-browser clients (basics/origin.py): a
rebound name (DNS rebinding) or a page on another origin gets a 403 and nothing is forwarded.
(The Chromium test with a real page is tests/browser/test_proxy_origin.py.)"""

from __future__ import annotations

import pytest
import requests
from proxy_support import proxy_in_process

from mockserver.basics.origin import OriginPolicy

POLICY = OriginPolicy(
    port=8093, allowed_hosts=frozenset({"proxy.internal"}), allowed_origins=frozenset({"http://localhost:3000"})
)


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8093", "localhost:8093", "[::1]:8093", "10.1.2.3:8093", "proxy.internal:8093", None]
)
def test_the_served_address_passes(host):
    assert POLICY.host_problem(host) is None


@pytest.mark.parametrize(
    "host", ["evil.example:8093", "127.0.0.1:8094", "localhost", "127.0.0.1:x", "[::1", "localhost.evil.example:8093"]
)
def test_other_hosts_are_refused(host):
    assert POLICY.host_problem(host), host


@pytest.mark.parametrize(
    "origin, fetch_site, ok",
    [
        (None, None, True),  # an SDK, curl
        ("http://127.0.0.1:8093", "same-origin", True),  # the server's own page
        ("http://localhost:3000", "cross-site", True),  # allowed explicitly
        ("http://127.0.0.1:9000", "same-site", False),  # another port is another origin
        ("null", "cross-site", False),  # sandboxed frame, file://
        ("https://evil.example", "cross-site", False),
        (None, "cross-site", False),  # an <img> or no-cors GET sends no Origin
    ],
)
def test_origins(origin, fetch_site, ok):
    assert (POLICY.origin_problem(origin, "127.0.0.1:8093", fetch_site) is None) is ok


def test_a_rebound_name_gets_a_403_and_nothing_is_forwarded():
    from contextlib import contextmanager

    from contract_kit_support import serve_mock

    with contextmanager(serve_mock)() as upstream, proxy_in_process(upstream.url, api_key="lent-key") as (live, app):
        port = live.url.rsplit(":", 1)[1]
        rebound = requests.post(
            live.url + "/api/tools",
            json={"name": "x", "base_url": "https://x.example.com"},
            headers={"Host": f"attacker.example:{port}"},
            timeout=10,
        )
        assert rebound.status_code == 403 and "attacker.example" in rebound.json()["error"], rebound.text
        foreign = requests.post(
            live.url + "/api/tools",
            json={"name": "x", "base_url": "https://x.example.com"},
            headers={"Origin": "https://evil.example"},
            timeout=10,
        )
        assert foreign.status_code == 403 and "another origin" in foreign.json()["error"], foreign.text
        assert app.findings.refused == 2 and app.findings.exchanges == 0
        tools = requests.get(upstream.url + "/api/tools", headers={"Authorization": "Bearer k"}, timeout=10).json()
        assert tools == [], tools
