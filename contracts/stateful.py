"""Sequences of calls that follow the spec's OpenAPI links (createRun -> addRunEvent -> ...).

The state machine comes from schemathesis (``schema.as_state_machine()``): it starts from an
operation, feeds values from the response into the next operation through a link, and so on.
We override its documented extension points, to send through our session, put the name
prefix on, run our checks, and count which links were followed and how they were answered.

One addition: schemathesis starts a sequence only from operations its dependency analysis
thinks will succeed with generated data. ``createRun`` is not one (its ``X-End-User-ID``
header reads as a reference to a resource nothing creates), so the run -> events -> blocked
action -> approve flow was never entered although ``createRun`` answers 201. Every operation
a flow starts from (one with links out and none in) gets a start rule of the kit's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import hypothesis
from hypothesis.stateful import Bundle, rule
from schemathesis import GenerationMode, Response
from schemathesis.generation.meta import TestPhase
from schemathesis.generation.stateful.state_machine import APIStateMachine, StepInput, StepOutput

from mockserver.spec.security import key_header

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiCase  # Case[the OpenAPI operation]
    from schemathesis.specs.openapi.stateful import OpenAPIStateMachine

    from .api import SpecLink
    from .run import ContractRun


def state_machine_for(
    run: ContractRun, flow: str, operation_ids: list[str], seed_offset: int = 0
) -> type[APIStateMachine]:
    """A state machine over one flow's operations (see ``api.link_flows``)."""
    base = run.schema.include(operation_id=operation_ids).as_state_machine()
    key_name = (key_header(run.document) or (None, None))[1]

    class ContractStateMachine(base):  # type: ignore[misc, valid-type]
        following: str | None = None  # the link the current step follows
        linked_path: dict[str, str] | None = None  # the path values that link put in

        def setup(self) -> None:
            number = run.results.record_scenario(flow)
            # Names unique to the scenario, so it never meets an earlier scenario's resources.
            # Otherwise an idempotent create (a pending access request for the same subject and
            # tool answers 200, which has no links, instead of 201) makes the steps available
            # depend on history, and Hypothesis' replay of a failure goes a different way.
            self.name_prefix = f"{run.settings.name_prefix}s{number}-"

        def step(self, input: StepInput) -> StepOutput:
            # The link this step follows, if any: its answer is recorded in validate_response.
            self.following = input.transition.id if input.transition is not None and input.is_applied else None
            # The path values the link put in, to tell whether they are what is sent.
            self.linked_path = dict(input.case.path_parameters or {}) if input.transition is not None else None
            output: StepOutput = super().step(input)
            return output

        def before_call(self, case: OpenApiCase) -> None:
            run.prepare(case, self.name_prefix)

        def get_call_kwargs(self, case: OpenApiCase) -> dict[str, Any]:
            return {"session": run.session}

        def validate_response(
            self, response: Response, case: OpenApiCase, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            # A link value without the run's prefix (a name a server took from a body sent as
            # generated, invalid on purpose) is rewritten before sending (naming.py), so the
            # request names another resource; ensure_resource_availability would still read its
            # 404 as "the resource just created is gone". It says nothing about that resource.
            if self.following:
                run.results.record_link(self.following, 200 <= response.status_code < 300)
                self.following = None
            linked = self.linked_path
            replaced = linked is not None and any(case.path_parameters.get(k) != v for k, v in linked.items())
            skip: tuple[str, ...] = ("ensure_resource_availability",) if replaced else ()
            # A key a link put in the key header (UseKey: the key just minted) is one the server
            # handed out, valid; ignored_auth takes any key it did not set for generated, invalid
            # ones, so a 200 would read as auth not enforced. The run's own key is still checked.
            sent_key = case.headers.get(key_name) if key_name and case.headers else None
            if sent_key and sent_key != run.api_key:
                skip += ("ignored_auth",)
            run.check_response(case, response, flow=flow, recorder=self.recorder, skip=skip)

    for operation_id in flow_starts(run, operation_ids):
        operation = run.schema.find_operation_by_id(operation_id)
        if operation.label in getattr(base, "_root_labels", ()):
            continue  # schemathesis starts from it already
        setattr(ContractStateMachine, f"start_{operation_id}", _start_rule(operation))

    # Same seed, same scenarios.
    return hypothesis.seed(run.seed + seed_offset)(ContractStateMachine)


def uncovered_required(run: ContractRun, operation_ids: list[str]) -> list[SpecLink]:
    """The flow's required links (``x-required-link``) not yet followed with a 2xx answer."""
    return [
        link
        for link in run.links
        if link.required
        and link.source.operation_id in operation_ids
        and link.target.operation_id in operation_ids
        and not run.results.links_succeeded.get(link.transition_id)
    ]


# Directed rounds: after the flow's random walks, each required link still not covered gets
# up to this many more walks over only the operations on a path to it, so with any
# --max-examples a run covers what it must (or fails saying which link it could not).
DIRECTED_ROUNDS = 3
DIRECTED_SCENARIOS = 5  # per round; no round runs once the link is covered


def cover_required_links(run: ContractRun, flow: str, operation_ids: list[str]) -> None:
    for round_number in range(1, DIRECTED_ROUNDS + 1):
        missing = uncovered_required(run, operation_ids)
        if not missing:
            return
        for link in missing:
            if run.results.links_succeeded.get(link.transition_id):
                continue  # covered by an earlier directed walk of this round
            path = path_to(run, operation_ids, link)
            run.results.record_directed(flow, link.name)
            machine = state_machine_for(run, flow, path, seed_offset=round_number * 7919)
            # No shrinking: a deviation found here is reported as found (the flow's test fails).
            settings = hypothesis.settings(
                stateful_settings(run), max_examples=DIRECTED_SCENARIOS, phases=[hypothesis.Phase.generate]
            )
            machine.run(settings=settings)


def path_to(run: ContractRun, operation_ids: list[str], wanted: SpecLink) -> list[str]:
    """The operations of a shortest chain of links from a flow start to ``wanted``'s target."""
    inside = [
        link
        for link in run.links
        if link.source.operation_id in operation_ids and link.target.operation_id in operation_ids
    ]
    starts = flow_starts(run, operation_ids)
    queue: list[list[str]] = [[start] for start in starts]
    seen = set(starts)
    while queue:
        chain = queue.pop(0)
        if chain[-1] == wanted.source.operation_id:
            return chain + ([wanted.target.operation_id] if wanted.target.operation_id not in chain else [])
        for link in inside:
            if link.source.operation_id == chain[-1] and link.target.operation_id not in seen:
                seen.add(link.target.operation_id)
                queue.append(chain + [link.target.operation_id])
    return [wanted.source.operation_id, wanted.target.operation_id]


def flow_starts(run: ContractRun, operation_ids: list[str]) -> list[str]:
    """The flow's operations with links out and none in: where its sequences begin."""
    inside = [
        link
        for link in run.links
        if link.source.operation_id in operation_ids and link.target.operation_id in operation_ids
    ]
    targets = {link.target.operation_id for link in inside}
    return sorted({link.source.operation_id for link in inside} - targets)


def _start_rule(operation: Any) -> Any:
    """A rule sending ``operation`` with generated (valid) data as a sequence's first step; its
    answer feeds the links out of it like any step's."""
    cases = operation.as_strategy(GenerationMode.POSITIVE, phase=TestPhase.STATEFUL)

    @rule(target=Bundle("catch_all"), input=cases.map(StepInput.initial))
    def start(self: OpenAPIStateMachine, input: StepInput) -> StepOutput | None:
        self.recorder.record_case(case=input.case)
        return self._step(input)

    return start


def stateful_settings(run: ContractRun) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=run.settings.max_examples,  # scenarios per flow
        stateful_step_count=run.settings.stateful_steps,
        deadline=None,  # a server's response time is not a Hypothesis deadline
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.generate, hypothesis.Phase.shrink],
        print_blob=False,
    )
