"""What every response is checked for.

Every check schemathesis has (what ``st run --checks all`` runs), with one replaced and one
added:

- ``no_server_error`` stands in for ``not_a_server_error``: no 5xx, except a 5xx the spec
  documents for the operation (invokeAgent's 502 when the agent is not running); a 500 is
  always a deviation. ``schemathesis.toml`` tells the bare CLI the same.
- ``auth_enforced``: the same request without ``Authorization`` gets the documented 401 (its
  body too, which schemathesis' ``ignored_auth`` does not look at).

The rest (status codes, content types, schemas of bodies, headers and server-sent events,
invalid data refused, valid data accepted, ``Allow`` on 405, auth, use after delete, created
resources readable...) are schemathesis' own; ``--exclude-check NAME`` leaves one out.

The checks are passed to ``validate_response`` explicitly instead of being registered with
``@schemathesis.check``: registration is process-wide and would switch them on for every other
schemathesis test running in the same process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import requests
from schemathesis import CheckContext, CheckFunction, Response
from schemathesis.checks import CHECKS, load_all_checks

from .session import ContractSession

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiCase  # Case[the OpenAPI operation]

# Ours replaces it (see no_server_error).
REPLACED_CHECKS = ("not_a_server_error",)
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


def builtin_check_names() -> list[str]:
    """Every check schemathesis registers, in its own order (what ``--checks all`` means)."""
    load_all_checks()
    return CHECKS.get_all_names()


def builtin_check(name: str) -> CheckFunction:
    if name not in builtin_check_names():
        raise ValueError(f"schemathesis has no check named {name!r}; it has: " + ", ".join(builtin_check_names()))
    check = CHECKS.get_one(name)
    if isinstance(check, type):  # a class-based check (none of schemathesis' own is one)
        raise ValueError(f"check {name!r} is class-based; runagents-contract runs function checks only")
    return check


def no_server_error(ctx: CheckContext, response: Response, case: OpenApiCase) -> bool | None:
    status = response.status_code
    if status != 500 and str(status) in case.operation.responses.status_codes:
        return None  # a failure mode the spec documents, e.g. 502 "failed to reach agent"
    return builtin_check("not_a_server_error")(ctx, response, case)


# Verdict of the unauthenticated probe, per operation: None when it passed, else the violation.
AuthVerdicts = dict[str, "ContractViolation | None"]
# (case, status, content type, body) -> how that answer breaks the spec; [] when it conforms.
SpecProblems = Callable[["OpenApiCase", int, str, bytes], list[str]]


def make_auth_check(session: ContractSession, documented_401: SpecProblems, verdicts: AuthVerdicts) -> CheckFunction:
    """The ``auth_enforced`` check: resend the request just made, minus its key.

    The probe runs once per operation (``verdicts`` remembers the outcome) so a run against a
    rate-limited account does not double its requests. A remembered violation is raised again
    for every later request of that operation, which keeps Hypothesis' replays consistent.
    """

    def auth_enforced(ctx: CheckContext, response: Response, case: OpenApiCase) -> bool | None:
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


def _probe_without_key(
    session: ContractSession, response: Response, case: OpenApiCase, documented_401: SpecProblems
) -> ContractViolation | None:
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
        return ContractViolation(
            "401 answer does not match the spec", expected, f"{got} ({'; '.join(problems)})", answer
        )
    return None


def checks_for_run(
    session: ContractSession, documented_401: SpecProblems, verdicts: AuthVerdicts, excluded: tuple[str, ...] = ()
) -> list[CheckFunction]:
    for name in excluded:
        builtin_check(name)  # an unknown name is an error, not a silent no-op
    names = [name for name in builtin_check_names() if name not in excluded and name not in REPLACED_CHECKS]
    own = [] if "not_a_server_error" in excluded else [no_server_error]
    return [*own, *map(builtin_check, names), make_auth_check(session, documented_401, verdicts)]
