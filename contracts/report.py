"""The report a person reads at the end of a run (JUnit XML for CI comes from pytest).

Layout: one line per operation, one block per link flow, then every deviation with the
request that caused it, then errors that are not deviations, cleanup, and the verdict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockserver.spec.conformance_report import render_deviation

from .api import SpecLink, link_flows
from .results import Deviation

if TYPE_CHECKING:
    from .run import ContractRun

FLOW_PREFIX = "flow "  # how the plugin names the errors of a stateful test: "flow createRun"
REQUIRED_MISSING = "AssertionError: required link(s) not covered"  # test_stateful.py's failure


def flow_error_key(flow: str) -> str:
    return FLOW_PREFIX + flow


def render_report(run: ContractRun) -> str:
    settings, results = run.settings, run.results
    deviations = list(results.deviations.values())
    lines = [
        f"RunAgents contract report: {run.target.describe()}",
        f"  seed {run.seed} (rerun with --seed {run.seed}), {settings.max_examples} example(s) per operation"
        + (", read-only" if settings.read_only else f", names prefixed {settings.name_prefix!r}"),
        "",
        "Operations",
    ]
    for op in sorted(run.operations.values(), key=lambda o: (o.path, o.method)):
        verdict, note = _operation_verdict(run, op.operation_id, op.label)
        lines.append(f"  {verdict:<9} {op.operation_id:<24} {op.method:<6} {op.path:<42} {note}".rstrip())
    lines += ["", *_flow_lines(run), ""]

    if deviations:
        lines.append(f"Deviations ({len(deviations)})")
        lines += [_render_deviation(number, d, run) for number, d in enumerate(deviations, 1)]
        lines.append("")
    errors = _unexplained_errors(run)
    if errors:
        lines.append("Errors (not deviations: the test could not finish)")
        lines += [f"  {where}: {message}" for where, message in errors.items()]
        lines.append("")

    if run.session.rate_limited:
        lines.append(
            f"Rate limiting: {run.session.rate_limited} request(s) answered 429 and were retried "
            f"after {run.session.waited_seconds:.1f} s of waiting in total"
        )
    if run.cleanup_result is not None:
        lines.append(f"Cleanup: {run.cleanup_result.summary()}")
    elif settings.read_only:
        lines.append("Cleanup: not needed (read-only run)")

    cleanup_failed = run.cleanup_result is not None and bool(run.cleanup_result.problems)
    required = uncovered_required_links(run)
    if deviations or errors or cleanup_failed or required:
        operations = len({d.operation for d in deviations})
        lines.append(
            f"Result: FAILED, {len(deviations)} deviation(s) in {operations} operation(s)"
            + (f", {len(errors)} error(s)" if errors else "")
            + (
                f", {len(required)} required link(s) not covered: " + ", ".join(link.name for link in required)
                if required
                else ""
            )
            + (", cleanup incomplete" if cleanup_failed else "")
        )
    else:
        tested = len(run.operations) - len(run.skipped)
        if settings.read_only:
            lines.append(f"Result: PASSED, {tested} operation(s) conform to the spec (links not followed: read-only)")
        else:
            states = [link_state(run, link) for link in run.links]
            covered, open_links = states.count("covered"), states.count("failed") + states.count("not covered")
            lines.append(
                f"Result: PASSED, {tested} operation(s) conform to the spec; {covered} link(s) covered, "
                f"every required one among them"
                + (f"; {open_links} optional link(s) not covered" if open_links else "")
            )
    return "\n".join(lines)


def _operation_verdict(run: ContractRun, operation_id: str, label: str) -> tuple[str, str]:
    results = run.results
    tally = results.tallies.get(label)
    seen = ""
    if tally:
        statuses = ", ".join(f"{code}x{n}" if n > 1 else str(code) for code, n in sorted(tally.statuses.items()))
        seen = f"{tally.requests} request(s): {statuses}"
    if operation_id in run.skipped:
        return "skipped", run.skipped[operation_id]
    if results.deviations_for(label):
        return "DEVIATION", seen
    if label in results.errors:
        return "ERROR", results.errors[label]
    if not tally:
        return "not run", ""
    return "ok", seen


def link_state(run: ContractRun, link: SpecLink) -> str:
    """``skipped`` (its target is not sent this run), ``covered`` (followed, answered 2xx at least
    once), ``failed`` (followed, never answered 2xx) or ``not covered`` (never followed)."""
    if link.target.operation_id in run.skipped or link.source.operation_id in run.skipped:
        return "skipped"
    if run.results.links_succeeded.get(link.transition_id):
        return "covered"
    return "failed" if run.results.links_followed.get(link.transition_id) else "not covered"


def uncovered_required_links(run: ContractRun) -> list[SpecLink]:
    if run.settings.read_only:
        return []
    return [link for link in run.links if link.required and link_state(run, link) in ("failed", "not covered")]


def _flow_lines(run: ContractRun) -> list[str]:
    results = run.results
    if run.settings.read_only:
        return ["Link sequences: skipped (read-only run)"]
    lines = [
        "Link sequences (one stateful test per flow; each link: times followed, times answered 2xx; "
        "* = required, x-required-link)"
    ]
    uncovered = 0
    for flow, operations in sorted(link_flows(run.links).items()):
        flow_links = [link for link in run.links if link.source.operation_id in operations]
        states = {link: link_state(run, link) for link in flow_links}
        found = [d for d in results.deviations.values() if f"{flow} sequence" in d.seen_in]
        error = results.errors.get(flow_error_key(flow))
        missing = [link for link, state in states.items() if state in ("failed", "not covered")]
        if all(op in run.skipped for op in operations):
            verdict = "skipped"
        elif found:
            verdict = f"DEVIATION ({len(found)} kind(s), listed below)"
        elif error and not error.startswith(REQUIRED_MISSING):
            verdict = f"ERROR: {error}"
        elif missing:
            required = [link for link in missing if link.required]
            verdict = f"NOT COVERED: {len(missing)} link(s)" + (f", {len(required)} required" if required else "")
        else:
            verdict = "ok, every link covered"
        lines.append(f"  {flow}: {results.scenarios.get(flow, 0)} scenario(s), {verdict}")
        if results.directed.get(flow):
            lines.append(
                f"    (setup: directed walks, over only the operations leading to it, for required "
                f"link(s) the random walks missed: {', '.join(results.directed[flow])})"
            )
        for link, state in states.items():
            followed = results.links_followed.get(link.transition_id, 0)
            succeeded = results.links_succeeded.get(link.transition_id, 0)
            shown = {
                "skipped": "skipped",
                "not covered": "NOT COVERED",
                "failed": f"FAILED x{followed}, never 2xx",
            }.get(state, f"x{followed}, {succeeded} ok")
            uncovered += state in ("failed", "not covered")
            lines.append(
                f"    {shown:<22} {'*' if link.required else ' '} "
                f"{link.source.operation_id} -> {link.target.operation_id} ({link.name})"
            )
    if uncovered:
        lines.append(
            f"  {uncovered} link(s) not covered (never followed, or never answered 2xx): sequences are "
            "random walks; a larger --max-examples explores more (a deviation also ends its flow's "
            "exploration early). Required ones (*) fail the run."
        )
    return lines


def _unexplained_errors(run: ContractRun) -> dict[str, str]:
    """Test failures with no deviation to explain them (connection errors, refused requests...)."""
    results = run.results
    explained_flows = {
        flow_error_key(where.removesuffix(" sequence")) for d in results.deviations.values() for where in d.seen_in
    }
    errors = {}
    for where, message in results.errors.items():
        if where in run.by_label:
            if not results.deviations_for(where):
                errors[where] = message
        elif where not in explained_flows and not message.startswith(REQUIRED_MISSING):
            errors[where] = message  # (an uncovered required link is the Result line's)
    return errors


def _render_deviation(number: int, d: Deviation, run: ContractRun) -> str:
    op = run.by_label.get(d.operation)
    return render_deviation(number, d, f"{op.operation_id} ({d.operation})" if op else d.operation)
