"""openapi-v1.yaml: a valid OpenAPI 3.1 document, shipped in the package, sharing openapi.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mockserver.web.cli import build_parser
from mockserver.spec.document import default_spec_path, dereference

ROOT = Path(__file__).resolve().parents[2]


def test_v1_spec_is_valid_openapi_31_with_its_references_to_openapi_yaml():
    from openapi_spec_validator import validate

    document = yaml.safe_load((ROOT / "openapi-v1.yaml").read_text())
    validate(document, base_uri=(ROOT / "openapi-v1.yaml").as_uri())
    assert '"$ref":' not in json.dumps(dereference(document, ROOT))  # every reference resolves
    shared = [path for path, item in document["paths"].items() if item.get("$ref", "").startswith("openapi.yaml#")]
    assert "/tools" in shared and "/approvals/requests" in shared  # unchanged facts are not written twice


def test_packaged_v1_spec_is_the_root_one():
    assert default_spec_path("openapi-v1.yaml").read_text() == (ROOT / "openapi-v1.yaml").read_text()


def test_workspace_key_flag():
    args = build_parser().parse_args(["serve", "--workspace-key", "revops=ra_ws_abc", "--workspace-key", "b=k=1"])
    assert args.workspace_key == [("revops", "ra_ws_abc"), ("b", "k=1")]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--workspace-key", "ra_ws_abc"])
