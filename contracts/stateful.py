"""Sequences of calls that follow the spec's OpenAPI links (createRun -> addRunEvent -> ...).

The state machine comes from schemathesis (``schema.as_state_machine()``): it starts from an
operation, feeds values from the response into the next operation through a link, and so on.
We only override its documented extension points, to send through our session, put the name
prefix on, run our checks, and count which links were followed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import hypothesis
from schemathesis import Case, Response
from schemathesis.generation.stateful.state_machine import APIStateMachine, StepInput, StepOutput

if TYPE_CHECKING:
    from .run import ContractRun


def state_machine_for(run: "ContractRun", flow: str, operation_ids: list[str]) -> type[APIStateMachine]:
    """A state machine over one flow's operations (see ``api.link_flows``)."""
    base = run.schema.include(operation_id=operation_ids).as_state_machine()

    class ContractStateMachine(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            number = run.results.record_scenario(flow)
            # Names unique to the scenario, so it never meets an earlier scenario's resources.
            # Otherwise an idempotent create (a pending access request for the same subject and
            # tool answers 200, which has no links, instead of 201) makes the steps available
            # depend on history, and Hypothesis' replay of a failure goes a different way.
            self.name_prefix = f"{run.settings.name_prefix}s{number}-"

        def step(self, input: StepInput) -> StepOutput:
            if input.transition is not None and input.is_applied:
                run.results.record_link(input.transition.id)
            # The path values the link put in, to tell whether they are what is sent.
            self.linked_path = dict(input.case.path_parameters or {}) if input.transition is not None else None
            return super().step(input)

        def before_call(self, case: Case) -> None:
            run.prepare(case, self.name_prefix)

        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"session": run.session}

        def validate_response(self, response: Response, case: Case, additional_checks: Any = None,
                              **kwargs: Any) -> None:
            # A link value without the run's prefix (a name a server took from a body sent as
            # generated, invalid on purpose) is rewritten before sending (naming.py), so the
            # request names another resource; ensure_resource_availability would still read its
            # 404 as "the resource just created is gone". It says nothing about that resource.
            linked = getattr(self, "linked_path", None)
            replaced = linked is not None and any(case.path_parameters.get(k) != v for k, v in linked.items())
            run.check_response(case, response, flow=flow, recorder=self.recorder,
                               skip=("ensure_resource_availability",) if replaced else ())

    # Same seed, same scenarios.
    return hypothesis.seed(run.seed)(ContractStateMachine)


def stateful_settings(run: "ContractRun") -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=run.settings.max_examples,  # scenarios per flow
        stateful_step_count=run.settings.stateful_steps,
        deadline=None,  # a server's response time is not a Hypothesis deadline
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.generate, hypothesis.Phase.shrink],
        print_blob=False,
    )
