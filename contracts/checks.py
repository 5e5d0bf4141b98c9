"""What every response is checked for.

Five schemathesis built-ins, and one probe of our own:

- ``no_server_error``: no 5xx. A 5xx the spec documents for the operation (invokeAgent's 502
  when the agent is not running) is allowed, except 500, which is how bugs show up.
- ``status_code_conformance``: the status is one the operation documents.
- ``content_type_conformance``: the Content-Type is one documented for that status (JSON,
  except the chat stream).
- ``response_schema_conformance``: the body matches the documented schema.
- ``response_headers_conformance``: documented headers (Retry-After on 429) match theirs.
- ``auth_enforced``: the same request without ``Authorization`` gets a documented 401.

The checks are passed to ``validate_response`` explicitly instead of being registered with
``@schemathesis.check``: registration is process-wide and would switch them on for every other
schemathesis test running in the same process.
"""

from __future__ import annotations

from typing import Callable

import requests
import schemathesis.checks
from schemathesis import Case, CheckContext, CheckFunction, Response

from .session import ContractSession

BUILTIN_CHECKS = (
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)
AUTH_HEADERS = ("Authorization", "X-RunAgents-API-Key")


class ContractViolation(AssertionError):
    """A deviation found by one of our own checks, with what was expected and what came back.

    ``probe`` is the extra request the check sent (when it sent one): that request, not the
    generated one, is what the report shows and how the deviation is reproduced.
    """

    def __init__(self, title: str, expected: str, got: str, probe: requests.Response | None = None):
        super().__init__(f"{title}\nexpected: {expected}\ngot: {got}")
        self.title = title
        self.expected = expected
        self.got = got
        self.probe = probe


def builtin_check(name: str) -> CheckFunction:
    try:
        return getattr(schemathesis.checks, name)
    except AttributeError:
        raise ValueError(f"schemathesis has no check named {name!r}") from None


def no_server_error(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    status = response.status_code
    if status != 500 and str(status) in case.operation.responses.status_codes:
        return None  # a failure mode the spec documents, e.g. 502 "failed to reach agent"
    return builtin_check("not_a_server_error")(ctx, response, case)


# Verdict of the unauthenticated probe, per operation: None when it passed, else the violation.
AuthVerdicts = dict[str, "ContractViolation | None"]
# (case, status, content type, body) -> how that answer breaks the spec; [] when it conforms.
SpecProblems = Callable[[Case, int, str, bytes], list[str]]


def make_auth_check(session: ContractSession, documented_401: SpecProblems,
                    verdicts: AuthVerdicts) -> CheckFunction:
    """The ``auth_enforced`` check: resend the request just made, minus its key.

    The probe runs once per operation (``verdicts`` remembers the outcome) so a run against a
    rate-limited account does not double its requests. A remembered violation is raised again
    for every later request of that operation, which keeps Hypothesis' replays consistent.
    """

    def auth_enforced(ctx: CheckContext, response: Response, case: Case) -> bool | None:
        label = case.operation.label
        if getattr(case.operation.definition, "raw", {}).get("security") == []:
            return None  # documented as keyless (the agent runtime's calls)
        if label not in verdicts:
            verdicts[label] = _probe_without_key(session, response, case, documented_401)
        violation = verdicts[label]
        if violation is not None:
            # A fresh exception each time: re-raising one object keeps growing its traceback.
            raise ContractViolation(violation.title, violation.expected, violation.got, violation.probe)
        return None

    return auth_enforced


def _probe_without_key(session: ContractSession, response: Response, case: Case,
                       documented_401: SpecProblems) -> ContractViolation | None:
    probe = response.request.copy()
    for header in AUTH_HEADERS:
        probe.headers.pop(header, None)
    answer = session.send(probe, timeout=30)
    content_type = answer.headers.get("Content-Type", "")
    expected = "401 with the documented JSON error body when the request has no Authorization header"
    got = f"{answer.status_code} {content_type or '(no Content-Type)'}"  # the report shows the body
    if answer.status_code != 401:
        return ContractViolation("Request without an API key was not refused", expected, got, answer)
    problems = documented_401(case, answer.status_code, content_type, answer.content)
    if problems:
        return ContractViolation("401 answer does not match the spec", expected,
                                 f"{got} ({'; '.join(problems)})", answer)
    return None


def checks_for_run(session: ContractSession, documented_401: SpecProblems,
                   verdicts: AuthVerdicts, extra: tuple[str, ...] = ()) -> list[CheckFunction]:
    return [no_server_error, *map(builtin_check, BUILTIN_CHECKS), *map(builtin_check, extra),
            make_auth_check(session, documented_401, verdicts)]
