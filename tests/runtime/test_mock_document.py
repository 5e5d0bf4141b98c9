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


def test_every_operation_of_the_document_is_served_by_the_pipeline():
    """Control and runtime operations alike: each has a handler, dispatched by the one pipeline."""
    pipeline = create_app({}).extensions["runagents_mock"].pipeline
    served = {
        (plan.op.path, plan.op.method, plan.kind) for plan in pipeline.plans.values() if plan.surface.name == "mock"
    }
    documented = {
        (op.path, op.method, "control" if op.path.startswith("/_mock/") else "runtime")
        for op in Spec.load(mock_spec_path()).operations.values()
    }
    assert served == documented
    off = create_app({"admin_enabled": False}).extensions["runagents_mock"].pipeline
    assert {plan.kind for plan in off.plans.values() if plan.surface.name == "mock"} == {"runtime"}


def test_runtime_operations_take_no_key():
    runtime = [op for op in Spec.load(mock_spec_path()).operations.values() if not op.path.startswith("/_mock/")]
    assert runtime and all(op.keyless for op in runtime)
