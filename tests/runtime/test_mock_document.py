"""mock-openapi.yaml: a valid OpenAPI document, shipped beside openapi.yaml, and the source of
the control API's routes."""

from __future__ import annotations

from pathlib import Path

import yaml
from openapi_spec_validator import validate

from mockserver import create_app
from mockserver.spec.document import Spec, default_spec_path, mock_spec_path

REPO = Path(__file__).resolve().parents[2]


def test_the_document_is_valid_openapi_and_shipped_like_openapi_yaml():
    validate(yaml.safe_load((REPO / "mock-openapi.yaml").read_text(encoding="utf-8")))
    assert mock_spec_path().parent == default_spec_path().parent
    # The installed package carries the repository's document (a link in an editable install,
    # a copy in a wheel).
    assert mock_spec_path().read_bytes() == (REPO / "mock-openapi.yaml").read_bytes()


def test_control_routes_are_exactly_the_documents_operations():
    app = create_app({})
    served = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("mock:")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {
        (op.url_rule, op.method)
        for op in Spec.load(mock_spec_path()).operations.values()
        if op.path.startswith("/_mock/")
    }
    assert served == documented


def test_runtime_operations_take_no_key():
    runtime = [op for op in Spec.load(mock_spec_path()).operations.values() if not op.path.startswith("/_mock/")]
    assert runtime and all(op.keyless for op in runtime)
