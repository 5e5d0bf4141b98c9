"""One test per operation of the spec: generated requests, every response checked."""

from __future__ import annotations

from schemathesis import Case

from contracts.pytest_plugin import active_run

run = active_run()


@run.schema.parametrize()
def test_operation(case: Case) -> None:
    run.prepare(case)
    response = case.call(session=run.session)
    run.check_response(case, response)
