"""What is wrong with one exchange, found by the mock's own checks.

Requests go through ``Operation.parse`` (the mock's request validation: the same messages a
client gets from the mock as 400s); responses through ``conformance.response_issues`` (what the
mock's strict mode, the pytest plugin and our tests check). Each problem becomes the
conformance reports' ``Deviation`` record.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.datastructures import Headers, MultiDict

from ..basics.errors import ApiError
from ..basics.redact import redact_payload
from ..spec.conformance import UNDOCUMENTED_PATH, response_issues
from ..spec.conformance_report import Deviation, body_excerpt
from ..spec.document import Operation, ResponseIssue, Spec
from ..spec.security import missing_credentials
from .exchange import Exchange
from .routing import Located

REQUEST, RESPONSE, UNDOCUMENTED, UPSTREAM, UNCHECKED = "request", "response", "undocumented", "upstream", "unchecked"


@dataclass
class Problem:
    side: str  # REQUEST (the client's), RESPONSE (the server's), UNDOCUMENTED, UPSTREAM, UNCHECKED
    operation: Operation | None
    deviation: Deviation
    key: tuple[Any, ...]  # the same problem seen again has the same key

    @property
    def name(self) -> str:
        """The operation as reports name it: ``createTool (POST /api/tools)``."""
        d = self.deviation
        return f"{self.operation.operation_id} ({d.operation})" if self.operation else d.operation

    def line(self) -> str:
        d = self.deviation
        status = f" -> {d.response_status}" if d.response_status else ""
        return f"[{self.side}] {self.name}{status}" + ("" if self.side == UNDOCUMENTED else f": {d.got}")


def exchange_problems(located: Located, exchange: Exchange, upstream: str) -> list[Problem]:
    """Every problem found in the exchange, against the document ``located`` says serves it."""
    spec, label = located.spec, located.label()
    operation, params = located.found if located.found else (None, {})
    problems: list[Problem] = []

    def _problem(*args: Any, **kwargs: Any) -> Problem:
        return _make_problem(label, *args, **kwargs)

    if exchange.upstream_error:
        problems.append(
            _problem(
                UPSTREAM,
                operation,
                exchange,
                upstream,
                "upstream_error",
                "Upstream failed",
                "an answer from the upstream",
                exchange.upstream_error,
            )
        )
    if operation is None:
        problems.append(
            _problem(
                UNDOCUMENTED,
                None,
                exchange,
                upstream,
                UNDOCUMENTED_PATH,
                "Path not in the spec",
                "an operation the spec documents",
                f"{exchange.method} {exchange.path}",
            )
        )
    else:
        message = _request_error(spec, operation, params, exchange)
        if message:
            problems.append(
                _problem(
                    REQUEST,
                    operation,
                    exchange,
                    upstream,
                    "request_validation",
                    "Request breaks the spec",
                    "a request the spec allows",
                    message,
                )
            )
    if exchange.request_body is None:
        size = exchange.request_headers.get("Content-Length", "?")
        problems.append(
            _problem(
                UNCHECKED,
                operation,
                exchange,
                upstream,
                "request_body_not_checked",
                "Request body not checked",
                "a body the proxy can check",
                f"a request body of {size} bytes, larger than the proxy keeps (--max-body-bytes): "
                "passed on, not checked",
            )
        )
    if exchange.answered_by != "proxy" and exchange.response_body is None:
        problems.append(
            _problem(
                UNCHECKED,
                operation,
                exchange,
                upstream,
                "body_not_checked",
                "Body not checked",
                "a body the proxy can check",
                f"a body of {exchange.response_size} bytes, larger than the proxy keeps "
                "(--max-body-bytes) or compressed in a way it does not read: passed on, "
                "not checked",
            )
        )
    if exchange.answered_by != "proxy":  # a 502 of the proxy's own is not the server's answer
        for issue in response_issues(
            spec, exchange.method, located.path, exchange.status, exchange.content_type, exchange.response_body
        ):
            if issue.check != UNDOCUMENTED_PATH:  # already reported from the request's side
                problems.append(_response_problem(label, operation, exchange, upstream, issue))
    return problems


def _request_error(spec: Spec, operation: Operation, params: dict[str, str], exchange: Exchange) -> str | None:
    headers = Headers(list(exchange.request_headers.items()))
    args = MultiDict(parse_qsl(exchange.query, keep_blank_values=True))
    missing = _missing_credentials(spec, operation, headers, args)
    if missing:
        return missing
    if exchange.request_body is None:
        return None  # larger than what is kept: passed on, not validated
    try:
        operation.parse(params, args, headers, exchange.request_body)
    except ApiError as exc:
        return exc.message
    return None


def _missing_credentials(spec: Spec, operation: Operation, headers: Headers, args: MultiDict[str, str]) -> str | None:
    """What the operation's security requirements ask for and the request lacks (spec/security.py)."""
    return missing_credentials(spec.document, operation.path, operation.method, headers, args)


_RESPONSE_TITLES = {
    "status_code_conformance": "Undocumented status code",
    "content_type_conformance": "Undocumented Content-Type",
    "response_schema_conformance": "Response violates schema",
    "error_shape_conformance": "Error body is not the documented shape",
}


def _response_problem(
    label: str | None, operation: Operation | None, exchange: Exchange, upstream: str, issue: ResponseIssue
) -> Problem:
    status = issue.status
    if issue.check == "status_code_conformance" and operation is not None:
        expected = f"one of the documented statuses {', '.join(operation.responses)}"
        got = str(status)
    elif issue.check == "content_type_conformance" and operation is not None:
        expected = f"content type {' or '.join(operation.responses.get(str(status), {})) or '(none)'}"
        got = issue.message
    elif issue.check == "response_schema_conformance":
        expected = f"a body matching the documented schema for {status}"
        got = f"at {issue.where}: {issue.message}"
    else:
        expected = 'the documented error body {"error": "..."} as application/json'
        got = issue.message
    return _make_problem(
        label,
        RESPONSE,
        operation,
        exchange,
        upstream,
        issue.check,
        _RESPONSE_TITLES.get(issue.check, "Response breaks the spec"),
        expected,
        got,
        key_detail=(status, issue.where or issue.message),
    )


def _make_problem(
    label: str | None,
    side: str,
    operation: Operation | None,
    exchange: Exchange,
    upstream: str,
    check: str,
    title: str,
    expected: str,
    got: str,
    key_detail: Any = None,
) -> Problem:
    label = label or f"{exchange.method} {exchange.path}"
    request_body = _shown(exchange.request_body, exchange.request_headers.get("Content-Type", ""))
    deviation = Deviation(
        operation=label,
        check=check,
        title=title,
        expected=expected,
        got=got,
        request_method=exchange.method,
        request_url=upstream + exchange.shown_target,
        request_body=request_body,
        response_status=exchange.status,
        response_content_type=exchange.content_type,
        response_body=_shown(exchange.response_body, exchange.content_type),
        curl=_curl(exchange, upstream, request_body),
        seen_in=[f"answered by {exchange.answered_by}"],
    )
    return Problem(side, operation, deviation, (side, label, check, key_detail if key_detail is not None else got))


def _shown(body: bytes | None, content_type: str) -> str:
    """A body for a report: secrets redacted the way the journal redacts them, cut short."""
    if body is None:
        return "(not kept: larger than the proxy keeps)"
    if not body:
        return ""
    return body_excerpt(redact_payload(body, content_type), content_type)


def _curl(exchange: Exchange, upstream: str, shown_body: str) -> str:
    """A pasteable reproduction; the key comes from $RUNAGENTS_API_KEY, never from the traffic."""
    parts = ["curl", "-X", exchange.method, "-H", '"Authorization: Bearer $RUNAGENTS_API_KEY"']
    if shown_body and exchange.request_body is not None:
        parts += [
            "-H",
            shlex.quote(f"Content-Type: {exchange.request_headers.get('Content-Type', 'application/json')}"),
            "-d",
            shlex.quote(shown_body),
        ]
    parts.append(shlex.quote(upstream + exchange.shown_target))
    return " ".join(parts)
