"""Who may call what: loopback by default, API keys on every RunAgents route, the admin key
on every /_mock/ route, and /_mock/ gone with --no-admin."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from reliability_support import HTTP_TIMEOUT, ServedMock, json_error, live_mock

from mockserver.spec.document import Spec
from mockserver.web.cli import build_parser

SPEC = Spec.load()
# Every documented operation, with made-up path parameters.
API_ROUTES = sorted({(op.method, re.sub(r"{\w+}", "x", op.path)) for op in SPEC.operations.values() if not op.keyless})
# `security: []`: the agent runtime's calls, which the platform takes without a key.
KEYLESS_ROUTES = sorted({(op.method, re.sub(r"{\w+}", "x", op.path)) for op in SPEC.operations.values() if op.keyless})
BAD_AUTH = {
    "no header": {},
    "wrong key": {"Authorization": "Bearer not-a-key"},
    "empty bearer": {"Authorization": "Bearer "},
    "other scheme": {"Authorization": "Basic dXNlcjprZXk="},
    "key without scheme": {"Authorization": "user-key"},
    "key as prefix": {"Authorization": "Bearer user-key-and-more"},
    "prefix of key": {"Authorization": "Bearer user-ke"},
}


def control_routes(live) -> list[tuple[str, str]]:
    """Every /_mock/ operation the app serves, read from its pipeline (new ones are covered too)."""
    plans = live.app.extensions["runagents_mock"].pipeline.plans.values()
    return sorted((plan.op.method, plan.op.url_rule) for plan in plans if plan.op.path.startswith("/_mock/"))


def call(live, method: str, path: str, headers: dict) -> requests.Response:
    return requests.request(method, live.url + path, headers=headers, json={}, timeout=HTTP_TIMEOUT)


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def keyed():
    with live_mock({"api_keys": ["user-key", "second-key"]}) as live:
        yield live


@pytest.fixture(scope="module")
def separated():
    with live_mock({"api_keys": ["user-key"], "admin_key": "admin-key"}) as live:
        yield live


# --- binding -------------------------------------------------------------------------------


def test_default_bind_address_is_loopback():
    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on ``port``, from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.add(address)
    return found


def test_served_mock_listens_on_loopback_only():
    with ServedMock() as served:
        assert served.url.startswith("http://127.0.0.1:")
        port = int(served.url.rsplit(":", 1)[1])
        if not Path("/proc/net/tcp").exists():
            pytest.skip("no /proc/net/tcp to read listening sockets from")
        # 0100007F is 127.0.0.1 in /proc's byte order; 00000000 would be every interface.
        assert _listening_addresses(port) == {"0100007F"}


# --- API keys ------------------------------------------------------------------------------


@pytest.mark.parametrize("method,path", API_ROUTES)
def test_every_api_route_refuses_requests_without_a_valid_key(keyed, method, path):
    for label, headers in BAD_AUTH.items():
        response = call(keyed, method, path, headers)
        assert response.status_code == 401, (label, response.status_code, response.text[:200])
        assert json_error(response)
        # A refused caller learns nothing: the answer is the error and nothing else.
        assert set(response.json()) == {"error"}


@pytest.mark.parametrize("method,path", API_ROUTES)
def test_every_api_route_accepts_each_configured_key(keyed, method, path):
    for key in ("user-key", "second-key"):
        assert call(keyed, method, path, bearer(key)).status_code != 401


@pytest.mark.parametrize("method,path", KEYLESS_ROUTES)
def test_keyless_routes_answer_without_a_key(keyed, method, path):
    assert KEYLESS_ROUTES, "the spec marks the agent runtime's calls keyless"
    for headers in BAD_AUTH.values():
        response = call(keyed, method, path, headers)
        # Past auth: the body check (a checkpoint needs action_id, a tool result tool_call_id)
        # or the unknown run answers.
        assert response.json() in (
            {"error": "run x not found"},
            {"error": "action_id is required"},
            {"error": "tool_call_id is required"},
        )


def test_unknown_paths_need_a_key_too(keyed):
    # No key, no way to tell which endpoints exist.
    for path in ["/api/nope", "/admin", "/api/tools/x/y/z", "/_mock/nope"]:
        assert call(keyed, "GET", path, {}).status_code == 401, path


def test_refused_keys_are_not_echoed(keyed):
    response = call(keyed, "GET", "/api/tools", bearer("guess-123"))
    assert response.status_code == 401 and "guess-123" not in response.text


def test_control_api_takes_an_api_key_when_there_is_no_admin_key(keyed):
    for method, path in control_routes(keyed):
        for label, headers in BAD_AUTH.items():
            assert call(keyed, method, path, headers).status_code == 401, (method, path, label)
        assert call(keyed, method, path, bearer("user-key")).status_code != 401, (method, path)


# --- the admin key -------------------------------------------------------------------------


def test_admin_key_is_required_on_every_control_route(separated):
    for method, path in control_routes(separated):
        for headers in [*BAD_AUTH.values(), bearer("user-key")]:
            response = call(separated, method, path, headers)
            assert response.status_code == 401, (method, path, headers)
            assert json_error(response) == "missing or invalid admin key"
        assert call(separated, method, path, bearer("admin-key")).status_code != 401, (method, path)


@pytest.mark.parametrize("method,path", API_ROUTES)
def test_admin_key_does_not_open_api_routes(separated, method, path):
    assert call(separated, method, path, bearer("admin-key")).status_code == 401
    assert call(separated, method, path, bearer("user-key")).status_code != 401


def test_admin_key_alone_guards_only_the_control_api():
    with live_mock({"admin_key": "admin-key"}) as live:
        assert call(live, "GET", "/api/tools", bearer("anything")).status_code == 200
        assert call(live, "GET", "/api/tools", {}).status_code == 401  # a key is still needed
        for method, path in control_routes(live):
            assert call(live, method, path, bearer("anything")).status_code == 401, (method, path)
            assert call(live, method, path, bearer("admin-key")).status_code != 401, (method, path)


# --- /_mock/ turned off --------------------------------------------------------------------


def test_no_admin_turns_every_control_route_off():
    with live_mock() as with_admin:
        routes = control_routes(with_admin)
    assert len(routes) >= 10
    with live_mock({"admin_enabled": False}) as live:
        assert control_routes(live) == []
        for method, path in routes:
            response = call(live, method, path, bearer("any"))
            assert response.status_code in (404, 405), (method, path, response.status_code)
            json_error(response)
        assert call(live, "GET", "/api/tools", bearer("any")).status_code == 200


def test_serve_flags_wire_up_keys_and_no_admin():
    with ServedMock("--api-key", "user-key", "--admin-key", "admin-key") as served:
        base = served.url
        assert requests.get(base + "/api/tools", headers=bearer("user-key"), timeout=HTTP_TIMEOUT).status_code == 200
        assert requests.get(base + "/api/tools", headers=bearer("admin-key"), timeout=HTTP_TIMEOUT).status_code == 401
        assert requests.get(base + "/_mock/state", headers=bearer("user-key"), timeout=HTTP_TIMEOUT).status_code == 401
        assert requests.get(base + "/_mock/state", headers=bearer("admin-key"), timeout=HTTP_TIMEOUT).status_code == 200
    with ServedMock("--api-key", "user-key", "--no-admin") as served:
        assert (
            requests.get(served.url + "/_mock/state", headers=bearer("user-key"), timeout=HTTP_TIMEOUT).status_code
            == 404
        )
