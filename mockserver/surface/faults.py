"""Injected faults: rules that delay requests or answer them with an error (``/_mock/faults``)."""

from __future__ import annotations

import fnmatch
import itertools
import threading
from collections.abc import Mapping
from typing import Any

from ..basics.errors import ApiError
from ..spec.document import Spec, mock_spec_path

# Marks an injected error answer, so spec checkers can tell it from a real deviation.
FAULT_HEADER = "X-Mock-Fault"


class Faults:
    """Rules that delay requests, or answer them with an error, matched by method and path glob."""

    def __init__(self) -> None:
        self.rules: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # Every request is matched against every rule: the table stays small.
    MAX_RULES = 256

    def add(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        rule = _validated_fault(spec)
        with self._lock:
            if len(self.rules) >= self.MAX_RULES:
                raise ApiError(409, f"limit of {self.MAX_RULES} fault rules reached; DELETE /_mock/faults first")
            rule["id"] = next(self._ids)
            self.rules.append(rule)
        return dict(rule)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def match(self, method: str, path: str) -> dict[str, Any] | None:
        """The first live rule for this request, counted as used."""
        if not self.rules:
            return None
        with self._lock:
            for rule in self.rules:
                if rule["method"] not in ("*", method) or not fnmatch.fnmatchcase(path, rule["path"]):
                    continue
                if rule["times"] is not None:
                    if rule["times"] <= 0:
                        continue
                    rule["times"] -= 1
                rule["hits"] += 1
                return dict(rule)
        return None


def _validated_fault(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A rule from a request (HTTP, or the pytest plugin's ``faults.add``), checked against
    ``FaultRequest`` in mock-openapi.yaml."""
    message = Spec.load(mock_spec_path()).component_validator("FaultRequest").first_error(spec)
    if message:
        raise ApiError(400, message)
    return {
        "method": str(spec.get("method", "*")).upper(),
        "path": spec.get("path", "*"),
        "status": spec.get("status"),
        "latency_ms": spec.get("latency_ms", 0),
        "error": str(spec.get("error", "injected fault")),
        "times": spec.get("times"),
        "hits": 0,
    }
