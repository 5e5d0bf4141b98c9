"""One test per operation of the spec: generated requests, every response checked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts.pytest_plugin import active_run

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiCase  # Case[the OpenAPI operation]

run = active_run()


@run.schema.parametrize()
def test_operation(case: OpenApiCase) -> None:
    run.prepare(case)
    response = case.call(session=run.session)
    run.check_response(case, response)
