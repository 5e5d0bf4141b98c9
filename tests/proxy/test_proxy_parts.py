"""The proxy's parts on their own: bounded bodies, the record's redaction, the HAR's, flags."""

from __future__ import annotations

import gzip
import json

import pytest

from mockserver.proxy.config import MockRoute
from mockserver.proxy.exchange import Exchange, KeptBody, decoded
from mockserver.proxy.har import har_entry
from mockserver.proxy.recorder import recorded_body
from mockserver.spec.document import Spec
from mockserver.web.cli import main


def test_kept_body_drops_what_grows_past_its_bound():
    kept = KeptBody(limit=10)
    kept.add(b"12345")
    assert kept.value == b"12345"
    kept.add(b"678901")
    assert kept.value is None and kept.size == 11


def test_compressed_bodies_are_read_for_checking_within_the_bound():
    body = json.dumps({"name": "x"}).encode()
    assert decoded(gzip.compress(body), "gzip", limit=1000) == body
    assert decoded(gzip.compress(b"x" * 5000), "gzip", limit=1000) is None  # a zip bomb stays small
    assert decoded(b"not gzip", "gzip", limit=1000) is None
    assert decoded(b"raw", "br", limit=1000) is None and decoded(b"raw", "", limit=1000) == b"raw"


def test_the_record_drops_credentials_and_keeps_secret_references():
    spec = Spec.load()
    tool = recorded_body(
        spec.operations["createTool"].body_schema,
        {"name": "t", "base_url": "https://u:pw@t.example.com", "credentials": {"api_key": "sk"}},
    )
    assert tool == {"name": "t", "base_url": "https://***@t.example.com"}
    auth = {
        "type": "APIKey",
        "apiKeyConfig": {
            "in": "Header",
            "name": "Authorization",
            "valuePrefix": "Bearer ",
            "secretRef": {"name": "openai-key"},
        },
    }
    provider = recorded_body(
        spec.operations["createModelProvider"].body_schema, {"name": "p", "spec": {"provider": "openai", "auth": auth}}
    )
    assert provider["spec"]["auth"] == auth
    event = recorded_body(
        spec.operations["addRunEvent"].body_schema, {"type": "TOOL_REQUEST", "data": {"token": "abc", "text": "hi"}}
    )
    assert event == {"type": "TOOL_REQUEST", "data": {"token": "***", "text": "hi"}}


def test_the_har_redacts_keys_wherever_they_are():
    exchange = Exchange(
        "POST",
        "/api/tools",
        "api_key=sk_q&limit=5",
        {"Authorization": "Bearer sk_h", "X-Api-Key": "sk_x", "Content-Type": "application/json"},
        json.dumps({"name": "t", "credentials": {"api_key": "sk_b"}}).encode(),
        0.0,
        status=201,
        response_headers=[("Content-Type", "application/json"), ("Set-Cookie", "s=sk_c")],
        response_body=b'{"name": "t"}',
        response_size=13,
    )
    entry = har_entry(exchange, "https://api.example.com")
    text = json.dumps(entry)
    assert not [secret for secret in ("sk_q", "sk_h", "sk_x", "sk_b", "sk_c") if secret in text]
    assert {"name": "api_key", "value": "***"} in entry["request"]["queryString"]
    assert {"name": "limit", "value": "5"} in entry["request"]["queryString"]


def test_mock_routes_parse_and_match():
    route = MockRoute.parse("post /api/tools*")
    assert route.matches("POST", "/api/tools/x") and not route.matches("GET", "/api/tools")
    assert MockRoute.parse("* /runs/*").matches("PATCH", "/runs/1")
    with pytest.raises(ValueError, match="--mock takes 'METHOD PATH-GLOB'"):
        MockRoute.parse("/api/tools")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--upstream", "ftp://x"], "use a full URL such as https://api.runagents.io"),
        (["--upstream", "http://x", "--mock", "api"], "--mock takes 'METHOD PATH-GLOB'"),
        (["--upstream", "http://x", "--timeout", "0"], "must be greater than 0"),
    ],
)
def test_bad_flags_are_refused_with_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["proxy", *argv])
    assert stopped.value.code == 2 and message in capsys.readouterr().err


def test_spec_replaces_the_document_mounted_where_it_is_or_is_added(tmp_path):
    import yaml

    from mockserver.proxy.routing import build_surfaces, locate
    from mockserver.spec.document import default_spec_path

    february = yaml.safe_load(default_spec_path().read_text(encoding="utf-8"))
    copy = tmp_path / "team-copy.yaml"
    copy.write_text(yaml.safe_dump(february), encoding="utf-8")
    other = dict(february, servers=[{"url": "http://localhost:8092/internal"}])
    added = tmp_path / "internal.yaml"
    added.write_text(yaml.safe_dump(other), encoding="utf-8")

    surfaces = build_surfaces([copy, added])
    assert [(s.name, s.document) for s in surfaces] == [
        ("2026-02", "team-copy.yaml"),
        ("v1", "openapi-v1.yaml"),
        ("internal", "internal.yaml"),
    ]
    assert locate(surfaces, "GET", "/api/tools").surface.document == "team-copy.yaml"
    assert locate(surfaces, "GET", "/api/v1/tools").label() == "GET /api/v1/tools"
    found = locate(surfaces, "GET", "/internal/api/tools")
    assert found.surface.document == "internal.yaml" and found.label() == "GET /internal/api/tools"
