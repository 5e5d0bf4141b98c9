"""What a run saw: responses per operation, deviations with their reproductions, links followed.

Hypothesis replays and shrinks failing examples, so the same deviation is seen many times;
it is kept once per (operation, check, kind), with the smallest example seen (request and
answer bodies; a link sequence's step is not shrunk the way a single request is).
"""

from __future__ import annotations

import collections
import re
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from schemathesis import Response

from mockserver.spec.conformance_report import Deviation as DeviationRecord
from mockserver.spec.conformance_report import body_excerpt

from .checks import ContractViolation

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiCase  # Case[the OpenAPI operation]


@dataclass
class Deviation(DeviationRecord):
    """A deviation (the record shared with the validating proxy, which has no schemathesis),
    and how to build one from what schemathesis reports."""

    @classmethod
    def from_failure(cls, failure: Any, check: str, case: OpenApiCase, response: Response) -> Deviation:
        expected, got = expected_and_got(failure, check, response)
        own = getattr(failure, "exception", None)  # schemathesis wraps our checks' AssertionErrors
        if isinstance(own, ContractViolation) and own.probe is not None:
            return cls._from_probe(own, check, case, expected, got)
        request = response.request
        content_type = response.headers.get("content-type", [""])[0]
        try:
            curl = pasteable(case.as_curl_command(headers=dict(request.headers), verify=response.verify))
        except Exception:  # a reproduction is a nicety; never lose the deviation over it
            curl = ""
        return cls(
            operation=case.operation.label,
            check=check,
            title=own.title if isinstance(own, ContractViolation) else getattr(failure, "title", "Deviation"),
            expected=expected,
            got=got,
            request_method=str(request.method),
            request_url=str(request.url),
            request_body=body_excerpt(request.body, request.headers.get("Content-Type", "")),
            response_status=response.status_code,
            response_content_type=content_type,
            response_body=body_excerpt(response.content, content_type),
            curl=curl,
        )

    @classmethod
    def _from_probe(
        cls, violation: ContractViolation, check: str, case: OpenApiCase, expected: str, got: str
    ) -> Deviation:
        """The deviation as the probe saw it: its own request (e.g. without a key) and answer."""
        probe = violation.probe
        assert probe is not None
        request = probe.request
        content_type = probe.headers.get("Content-Type", "")
        body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else request.body
        curl = f"curl -X {request.method}"
        if body:
            curl += f" -H 'Content-Type: {request.headers.get('Content-Type', 'application/json')}'"
            curl += " -d " + shlex.quote(body)
        curl += f" {shlex.quote(str(request.url))}"
        return cls(
            operation=case.operation.label,
            check=check,
            title=violation.title,
            expected=expected,
            got=got,
            request_method=str(request.method),
            request_url=str(request.url),
            request_body=body_excerpt(body, request.headers.get("Content-Type", "")),
            response_status=probe.status_code,
            response_content_type=content_type,
            response_body=body_excerpt(probe.content, content_type),
            curl=curl,
        )


# schemathesis masks the key as "[Filtered]", which curl would send as is: the bearer key, and
# on /api/v1 the workspace key header (X-RunAgents-API-Key), masked the same way.
_AUTH_HEADER = re.compile(r"""-H (?:'authorization:[^']*'|"authorization:[^"]*")""", re.IGNORECASE)
_FILTERED_HEADER = re.compile(r"""-H (?:'([\w-]+): \[Filtered\]'|"([\w-]+): \[Filtered\]")""")


def pasteable(curl: str) -> str:
    """The curl line with the key read from the shell: the report never holds a key, and the
    line runs as is once ``RUNAGENTS_API_KEY`` is set."""
    curl = _AUTH_HEADER.sub('-H "Authorization: Bearer $RUNAGENTS_API_KEY"', curl)
    return _FILTERED_HEADER.sub(lambda m: f'-H "{m[1] or m[2]}: $RUNAGENTS_API_KEY"', curl)


def expected_and_got(failure: Any, check: str, response: Response) -> tuple[str, str]:
    """Two short lines for the report, from what the schemathesis failure carries."""
    own = getattr(failure, "exception", None)
    if isinstance(own, ContractViolation):
        return own.expected, own.got
    status = response.status_code
    content_type = response.headers.get("content-type", ["(none)"])[0]
    if hasattr(failure, "defined_status_codes"):
        return f"one of the documented statuses {', '.join(failure.defined_status_codes)}", f"{status}"
    if hasattr(failure, "defined_content_types"):
        return f"content type {' or '.join(failure.defined_content_types)}", content_type
    if hasattr(failure, "media_types"):
        return f"content type {' or '.join(failure.media_types)}", "no Content-Type header"
    if hasattr(failure, "instance_path"):  # a JSON Schema violation in the body or a header
        part = "headers" if check == "response_headers_conformance" else "a body"
        where = "/".join(map(str, failure.instance_path)) or "<root>"
        return (
            f"{part} matching the documented schema for {status}",
            f"at {where}: {getattr(failure, 'validation_message', '') or failure.message.splitlines()[0]}",
        )
    if hasattr(failure, "allowed_statuses"):  # e.g. positive_data_acceptance, when asked for
        return f"one of {', '.join(map(str, failure.allowed_statuses))}", f"{status}"
    if type(failure).__name__ == "MalformedJson":
        return "a JSON body", f"{content_type} body that is not JSON"
    if type(failure).__name__ in ("ServerError", "ContentTypeServerError"):
        return "no 5xx (other than a 5xx the spec documents for this operation)", f"{status}"
    message = str(getattr(failure, "message", "") or failure)
    return getattr(failure, "title", "conformance"), message.splitlines()[0] if message else f"{status}"


def _size(deviation: Deviation) -> int:
    return len(deviation.request_body) + len(deviation.response_body)


@dataclass
class OperationTally:
    requests: int = 0
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)


class Results:
    def __init__(self) -> None:
        self.tallies: dict[str, OperationTally] = collections.defaultdict(OperationTally)
        # (operation, check, title) -> the latest example of that deviation
        self.deviations: dict[tuple[str, str, str], Deviation] = {}
        self.errors: dict[str, str] = {}  # test-level errors that are not deviations, by test
        self.links_followed: collections.Counter[str] = collections.Counter()  # by transition id
        self.links_succeeded: collections.Counter[str] = collections.Counter()  # answered 2xx
        self.scenarios: collections.Counter[str] = collections.Counter()  # by flow
        # flow -> the required links that got directed walks of their own (stateful.cover_required_links)
        self.directed: dict[str, list[str]] = collections.defaultdict(list)

    def record_response(self, case: OpenApiCase, response: Response) -> None:
        tally = self.tallies[case.operation.label]
        tally.requests += 1
        tally.statuses[response.status_code] += 1

    def record_failures(
        self, failures: list[tuple[str, Any]], case: OpenApiCase, response: Response, flow: str = ""
    ) -> None:
        """``flow``: the link flow whose sequence sent the request; "" for per-operation requests."""
        where = f"{flow} sequence" if flow else "generated requests"
        for check, failure in failures:
            deviation = Deviation.from_failure(failure, check, case, response)
            key = (deviation.operation, deviation.check, deviation.title)
            previous = self.deviations.get(key)
            if previous is not None and _size(previous) <= _size(deviation):
                deviation = previous  # the smaller example stays: the one a reader can follow
            deviation.seen_in = previous.seen_in if previous else []
            if where not in deviation.seen_in:
                deviation.seen_in.append(where)
            self.deviations[key] = deviation

    def record_scenario(self, flow: str) -> int:
        """Count one more scenario of ``flow``; returns its number in the whole run."""
        self.scenarios[flow] += 1
        return sum(self.scenarios.values())

    def record_directed(self, flow: str, link_name: str) -> None:
        if link_name not in self.directed[flow]:
            self.directed[flow].append(link_name)

    def record_link(self, transition_id: str, succeeded: bool) -> None:
        """``transition_id`` as schemathesis names it: "POST /runs -> [201] AddEventToRun -> POST ...";
        ``succeeded``: the step along it was answered 2xx."""
        self.links_followed[transition_id] += 1
        if succeeded:
            self.links_succeeded[transition_id] += 1

    def deviations_for(self, operation: str) -> list[Deviation]:
        return [d for d in self.deviations.values() if d.operation == operation]
