"""What a proxy session saw: per-operation tallies, problems by side, and the reports.

Each distinct problem is kept once (with its first example and a count), and at most
``max_kept`` of them per side, so a long session's memory stays bounded; every occurrence
is still printed as one line when it happens.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..spec.conformance_report import Deviation, TestCase, deviation_dict, render_deviation
from .exchange import Exchange
from .validation import REQUEST, RESPONSE, UNCHECKED, UNDOCUMENTED, UPSTREAM, Problem

SIDES = (REQUEST, RESPONSE, UNDOCUMENTED, UPSTREAM, UNCHECKED)
_HEADINGS = {
    REQUEST: "Request problems (the client sent what the spec does not allow)",
    RESPONSE: "Response problems (the server answered what the spec does not say)",
    UNDOCUMENTED: "Undocumented paths (passed on, not blocked)",
    UPSTREAM: "Upstream errors (the proxy answered or fell back to the mock)",
    UNCHECKED: "Not checked (bodies larger than --max-body-bytes, or compressed in a way the proxy does not read)",
}


@dataclass
class Tally:
    operation_id: str
    method: str
    path: str
    requests: int = 0
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)


@dataclass
class Seen:
    problem: Problem
    count: int = 1


class Findings:
    def __init__(self, describe_target: str, spec_name: str, emit: Callable[[str], None] = print, max_kept: int = 500):
        self.describe_target = describe_target
        self.spec_name = spec_name
        self.emit = emit
        self.max_kept = max_kept
        self.lock = threading.Lock()
        self.exchanges = 0
        self.answered_by: collections.Counter[str] = collections.Counter()
        self.tallies: dict[str, Tally] = {}  # by operation label ("POST /api/tools")
        self.seen: dict[str, dict[tuple[Any, ...], Seen]] = {side: {} for side in SIDES}
        self.counts: collections.Counter[str] = collections.Counter()  # occurrences by side
        self.dropped: collections.Counter[str] = collections.Counter()  # distinct ones not kept
        # Exchange counts behind the verdict: a response is "checked" when its operation is
        # documented, the server (not the proxy) answered, and its body was at hand.
        self.checked = 0
        self.undocumented = 0
        self.unchecked = 0
        self.refused = 0  # requests the proxy refused itself (a page on another origin, a foreign Host)
        self.allow_undocumented = False

    def add(self, exchange: Exchange, problems: list[Problem], operation_label: tuple[str, str, str] | None) -> None:
        with self.lock:
            self.exchanges += 1
            self.answered_by[exchange.answered_by] += 1
            sides = {problem.side for problem in problems}
            if UNDOCUMENTED in sides:
                self.undocumented += 1
            elif UNCHECKED in sides:
                self.unchecked += 1
            elif exchange.answered_by != "proxy":
                self.checked += 1
            if operation_label is not None:
                operation_id, method, path = operation_label
                tally = self.tallies.setdefault(f"{method} {path}", Tally(operation_id, method, path))
                tally.requests += 1
                tally.statuses[exchange.status] += 1
            for problem in problems:
                self.counts[problem.side] += 1
                kept = self.seen[problem.side]
                if problem.key in kept:
                    kept[problem.key].count += 1
                elif len(kept) < self.max_kept:
                    kept[problem.key] = Seen(problem)
                else:
                    self.dropped[problem.side] += 1
        for problem in problems:
            self.emit(problem.line())

    def refuse(self, request: str, reason: str) -> None:
        with self.lock:
            self.refused += 1
        self.emit(f"[refused] {request}: {reason}")

    @property
    def response_problems(self) -> int:
        return self.counts[RESPONSE]

    def failures(self) -> list[str]:
        """Why the session fails (empty: it passes). A response that broke the spec, an
        undocumented call (unless --allow-undocumented), or nothing checked at all."""
        why = []
        if self.counts[RESPONSE]:
            why.append(f"{self.counts[RESPONSE]} response problem(s)")
        if self.undocumented and not self.allow_undocumented:
            why.append(f"{self.undocumented} undocumented call(s) (accept them with --allow-undocumented)")
        if not self.checked:
            why.append("no response was checked")
        return why

    @property
    def passed(self) -> bool:
        return not self.failures()

    def summary(self) -> str:
        """The counts every report carries."""
        accepted = " (accepted)" if self.allow_undocumented and self.undocumented else ""
        return (
            f"{self.exchanges} exchange(s): {self.checked} checked, {self.undocumented} undocumented{accepted}, "
            f"{self.unchecked} not checked; {self.counts[REQUEST]} request problem(s)"
            + (f"; {self.refused} refused (another origin or Host)" if self.refused else "")
        )

    def counts_data(self) -> dict[str, int]:
        return {
            "exchanges": self.exchanges,
            "checked": self.checked,
            "undocumented": self.undocumented,
            "unchecked": self.unchecked,
            "refused": self.refused,
            "response_problems": self.counts[RESPONSE],
            "request_problems": self.counts[REQUEST],
        }

    # --- the reports --------------------------------------------------------------------

    def _listed(self, side: str) -> list[Seen]:
        return list(self.seen[side].values())

    def _deviation(self, seen: Seen) -> Deviation:
        d = seen.problem.deviation
        d.seen_in = [f"{seen.count} exchange(s)", *[s for s in d.seen_in if "exchange(s)" not in s]]
        return d

    def text(self) -> str:
        with self.lock:
            answered = ", ".join(f"{who} {n}" for who, n in sorted(self.answered_by.items())) or "none"
            lines = [
                f"RunAgents proxy report: {self.describe_target}",
                f"  checked against {self.spec_name}; {self.exchanges} exchange(s), answered by: {answered}",
                "",
                "Operations",
            ]
            deviating = {s.problem.deviation.operation for s in self._listed(RESPONSE)}
            refused = {s.problem.deviation.operation for s in self._listed(REQUEST)}
            for label, tally in sorted(self.tallies.items(), key=lambda kv: (kv[1].path, kv[1].method)):
                verdict = "DEVIATION" if label in deviating else ("REQUEST" if label in refused else "ok")
                statuses = ", ".join(
                    f"{code}x{n}" if n > 1 else str(code) for code, n in sorted(tally.statuses.items())
                )
                lines.append(
                    f"  {verdict:<9} {tally.operation_id:<24} {tally.method:<6} {tally.path:<42} "
                    f"{tally.requests} request(s): {statuses}".rstrip()
                )
            if not self.tallies:
                lines.append("  (no documented operation was called)")
            for side in SIDES:
                listed = self._listed(side)
                if not listed:
                    continue
                lines += ["", f"{_HEADINGS[side]}: {self.counts[side]} in {len(listed)} kind(s)"]
                if side in (REQUEST, RESPONSE):
                    lines += [render_deviation(n, self._deviation(s), s.problem.name) for n, s in enumerate(listed, 1)]
                else:
                    lines += [
                        f"  {s.count}x {s.problem.name}"
                        + (f" -> {s.problem.deviation.response_status}" if s.problem.deviation.response_status else "")
                        + ("" if side == UNDOCUMENTED else f": {s.problem.deviation.got}")
                        for s in listed
                    ]
                if self.dropped[side]:
                    lines.append(f"  ... and {self.dropped[side]} more kind(s), not kept")
            lines.append("")
            failures = self.failures()
            if failures:
                lines.append(f"Result: FAILED, {'; '.join(failures)}. {self.summary()}")
            else:
                lines.append(f"Result: PASSED, every checked response conforms to the spec. {self.summary()}")
            return "\n".join(lines)

    def data(self) -> dict[str, Any]:
        with self.lock:
            return {
                "target": self.describe_target,
                "spec": self.spec_name,
                "exchanges": self.exchanges,
                "answered_by": dict(self.answered_by),
                "passed": not self.failures(),
                "failures": self.failures(),
                "summary": self.counts_data(),
                "allow_undocumented": self.allow_undocumented,
                "operations": [
                    {
                        "operation_id": t.operation_id,
                        "method": t.method,
                        "path": t.path,
                        "requests": t.requests,
                        "statuses": {str(k): v for k, v in sorted(t.statuses.items())},
                    }
                    for t in self.tallies.values()
                ],
                **{
                    f"{side}_problems": [
                        {
                            "operation_id": s.problem.operation.operation_id if s.problem.operation else None,
                            "count": s.count,
                            **deviation_dict(s.problem.deviation),
                        }
                        for s in self._listed(side)
                    ]
                    for side in SIDES
                },
                "counts": {side: self.counts[side] for side in SIDES},
            }

    def junit_suites(self) -> dict[str, list[TestCase]]:
        """Responses: a case per operation seen, failed by its response problems; requests: a
        case per operation the client called, failed by its request problems or as undocumented."""
        with self.lock:
            by_side: dict[str, dict[str, list[Deviation]]] = {side: collections.defaultdict(list) for side in SIDES}
            for side in SIDES:
                for s in self._listed(side):
                    by_side[side][s.problem.name].append(self._deviation(s))
            names = {f"{t.operation_id} ({label})": label for label, t in self.tallies.items()}
            responses = [
                TestCase(name, "runagents-proxy.responses", by_side[RESPONSE].get(name, []))
                for name in sorted(set(names) | set(by_side[RESPONSE]))
            ]
            requests = [
                TestCase(name, "runagents-proxy.requests", by_side[REQUEST].get(name, []))
                for name in sorted(set(names) | set(by_side[REQUEST]))
            ]
            requests += [
                TestCase(f"{name} (undocumented)", "runagents-proxy.requests", found)
                for name, found in sorted(by_side[UNDOCUMENTED].items())
            ]
            responses += [
                TestCase(f"{name} (not checked)", "runagents-proxy.responses", found)
                for name, found in sorted(by_side[UNCHECKED].items())
            ]
            # The session's verdict, with the counts in its name, failed for the reasons the text gives.
            verdict = TestCase(
                f"session: {self.summary()}",
                "runagents-proxy.session",
                [_verdict_deviation(reason) for reason in self.failures()],
            )
            return {
                "runagents-proxy session": [verdict],
                "runagents-proxy responses": responses,
                "runagents-proxy requests": requests,
            }


def _verdict_deviation(reason: str) -> Deviation:
    return Deviation(
        operation="session",
        check="session_verdict",
        title="Session not passed",
        expected="checked responses that conform, no undocumented call",
        got=reason,
        request_method="",
        request_url="",
        request_body="",
        response_status=0,
        response_content_type="",
        response_body="",
        curl="",
    )
