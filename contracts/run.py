"""One contract run: the target, the session, the schema, and what was seen, in one place.

The pytest plugin builds it from the options when the first suite module is imported
(``@schema.parametrize()`` needs the schema at import time) and closes it at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from schemathesis import Response
from schemathesis.checks import CheckResult

from mockserver.basics.jsonhttp import json_or_none
from mockserver.spec.security import auth_headers

from .api import (
    SpecLink,
    SpecOperation,
    build_schema,
    load_document,
    skipped_operations,
    spec_links,
    spec_operations,
)
from .checks import AuthVerdicts, checks_for_run
from .cleanup import Cleaner, CleanupResult, CreatedResources
from .naming import apply_name_prefix
from .results import Results
from .session import ContractSession
from .settings import APIS, RunSettings
from .target import Target

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiCase, OpenApiSchema  # Case[the OpenAPI operation]

    from mockserver.spec.document import Spec


class ContractRun:
    def __init__(self, settings: RunSettings):
        self.settings = settings.resolved()
        self.document = load_document(self.settings.spec_path, self.api)
        self.auth_headers = auth_headers(self.document, self.api_key)
        self.operations: dict[str, SpecOperation] = {op.operation_id: op for op in spec_operations(self.document)}
        self.by_label: dict[str, SpecOperation] = {op.label: op for op in self.operations.values()}
        self.links: list[SpecLink] = spec_links(self.document)
        self.results = Results()
        self.created = CreatedResources()
        self.auth_verdicts: AuthVerdicts = {}
        self.cleanup_result: CleanupResult | None = None
        self._last_check_results: list[CheckResult] = []

        self.target = Target.start(self.settings.base_url, self.api_key, APIS[self.api][1])
        try:
            self.session = ContractSession(read_only=self.settings.read_only, allow_control_api=self.target.in_process)
            self.target.preflight(self.session, self._preflight_path(), self.auth_headers)
            self.skipped = skipped_operations(
                self.document, read_only=self.settings.read_only, in_process=self.target.in_process
            )
            self.schema: OpenApiSchema = build_schema(
                self.document,
                base_url=self.target.base_url,
                api_key=self.api_key,
                seed=self.seed,
                max_examples=self.settings.max_examples,
                skipped=self.skipped,
                negative=self.settings.negative,
                read_only=self.settings.read_only,
            )
            self.schema.hook(self._after_validate_hook())
            self.checks = checks_for_run(
                self.session, self._documented_401_problems, self.auth_verdicts, self.settings.excluded_checks
            )
        except BaseException:
            self.target.stop()
            raise

    @property
    def api_key(self) -> str:
        assert self.settings.api_key is not None  # resolved() always sets it
        return self.settings.api_key

    @property
    def api(self) -> str:
        assert self.settings.api is not None  # resolved() always sets it
        return self.settings.api

    @property
    def seed(self) -> int:
        assert self.settings.seed is not None  # resolved() always sets it
        return self.settings.seed

    # --- what the tests call --------------------------------------------------------------

    def prepare(self, case: OpenApiCase, name_prefix: str | None = None) -> None:
        """Called right before a request is sent: every name in it gets the run's prefix
        (or ``name_prefix``, which must start with it)."""
        apply_name_prefix(case, name_prefix or self.settings.name_prefix)

    def check_response(
        self, case: OpenApiCase, response: Response, flow: str = "", recorder: Any = None, skip: tuple[str, ...] = ()
    ) -> None:
        """Run every check on ``response``; record what was seen; raise on deviations.

        ``flow`` names the link flow of a stateful sequence; "" for the per-operation test.
        """
        self.results.record_response(case, response)
        operation = self.by_label.get(case.operation.label)
        if operation is not None:
            self.created.record(operation.operation_id, response.status_code, json_or_none(response.content))
        self._last_check_results = []
        try:
            # The key as an explicit header tells ignored_auth the key is meant to be valid; the
            # session makes its probes (and use_after_free's) follow the kit's safety rules.
            checks = [c for c in self.checks if c.__name__ not in skip] if skip else self.checks
            case.validate_response(
                response,
                checks=checks,
                recorder=recorder,
                headers={"Authorization": f"Bearer {self.api_key}"},
                transport_kwargs={"session": self.session},
            )
        finally:
            failures = [(r.name, r.failure) for r in self._last_check_results if r.failure is not None]
            if failures:
                self.results.record_failures(failures, case, response, flow)

    def clean_up(self) -> CleanupResult | None:
        if self.settings.read_only:
            return None
        cleaner = Cleaner(
            self.session, self.target.base_url, self.operations, self.settings.name_prefix, self.auth_headers
        )
        self.cleanup_result = cleaner.run(self.created)
        return self.cleanup_result

    def close(self) -> None:
        self.session.close()
        self.target.stop()

    # --- helpers --------------------------------------------------------------------------

    def _preflight_path(self) -> str:
        for op in self.operations.values():
            if op.method == "GET" and "{" not in op.path:
                return op.path
        raise ValueError("the spec has no GET operation without path parameters to check the key with")

    def _after_validate_hook(self) -> Callable[..., None]:
        # schemathesis hands every check's outcome, with the check's name, to this hook; it is
        # how a failure is tied to the check that found it. Registered on our schema only.
        def after_validate(context: Any, case: OpenApiCase, response: Response, results: list[CheckResult]) -> None:
            self._last_check_results = list(results)

        return after_validate

    @cached_property
    def _validating_spec(self) -> Spec:
        """The spec as runagents-mock compiles it: validates the unauthenticated probe's 401."""
        from mockserver.spec.document import Spec

        return Spec(self.document)

    def _documented_401_problems(self, case: OpenApiCase, status: int, content_type: str, body: bytes) -> list[str]:
        operation = self.by_label.get(case.operation.label)
        if operation is None:
            return []
        spec_operation = self._validating_spec.operations[operation.operation_id]
        return self._validating_spec.response_errors(spec_operation, status, content_type, body)
