"""Sequences of calls along the spec's OpenAPI links, one test per flow, every response checked."""

from __future__ import annotations

import pytest

from contracts.api import link_flows
from contracts.pytest_plugin import active_run
from contracts.stateful import cover_required_links, state_machine_for, stateful_settings, uncovered_required

run = active_run()
FLOWS = link_flows(run.links)


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_linked_sequences(flow: str) -> None:
    if run.settings.read_only:
        pytest.skip("read-only run: link sequences start by creating resources")
    operations = [op for op in FLOWS[flow] if op not in run.skipped]
    if not any(link.source.operation_id in operations and link.target.operation_id in operations for link in run.links):
        pytest.skip(
            "every link of this flow touches an operation this run does not send: "
            + ", ".join(sorted(set(FLOWS[flow]) - set(operations)))
        )
    state_machine_for(run, flow, operations).run(settings=stateful_settings(run))
    cover_required_links(run, flow, operations)
    missing = uncovered_required(run, operations)
    assert not missing, "required link(s) not covered: " + ", ".join(link.name for link in missing)
