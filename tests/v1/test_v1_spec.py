"""openapi-v1.yaml: a valid, self-contained OpenAPI 3.1 document, shipped in the package, bundled from
spec-src/api-v1.yaml, which shares what did not change with openapi.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mockserver.spec import bundle
from mockserver.spec.document import default_spec_path, dereference
from mockserver.web.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def test_v1_spec_is_valid_openapi_31_on_its_own():
    from openapi_spec_validator import validate

    document = yaml.safe_load((ROOT / "openapi-v1.yaml").read_text())
    validate(document)  # no base URI: a tool reading this one file can resolve every reference
    assert '"$ref":' not in json.dumps(dereference(document))  # every reference is local and resolves


def test_v1_spec_is_the_bundle_of_its_source_which_shares_openapi_yaml():
    source_path = ROOT / "spec-src" / "api-v1.yaml"
    assert (ROOT / "openapi-v1.yaml").read_text() == bundle.render(bundle.bundle(source_path)), (
        "openapi-v1.yaml is out of date: run python -m mockserver.spec.bundle"
    )
    source = yaml.safe_load(source_path.read_text())
    shared = [path for path, item in source["paths"].items() if item.get("$ref", "").startswith("../openapi.yaml#")]
    assert "/tools" in shared and "/approvals/requests" in shared  # unchanged facts are written once


def test_packaged_v1_spec_is_the_root_one():
    assert default_spec_path("openapi-v1.yaml").read_text() == (ROOT / "openapi-v1.yaml").read_text()


def test_workspace_key_flag():
    args = build_parser().parse_args(["serve", "--workspace-key", "revops=ra_ws_abc", "--workspace-key", "b=k=1"])
    assert args.workspace_key == [("revops", "ra_ws_abc"), ("b", "k=1")]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--workspace-key", "ra_ws_abc"])
