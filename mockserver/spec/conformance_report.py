"""The report formats of the conformance tools, with no test machinery behind them.

``runagents-contract`` (schemathesis) and ``runagents-mock proxy`` (live traffic) describe a
deviation the same way: the ``Deviation`` record, shown by ``render_deviation`` in the text
report; the proxy also writes the same records as JSON or JUnit XML (``write_report``).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BODY_LIMIT = 600  # characters of a request/response body shown in a report


def body_excerpt(raw: bytes | str | None, content_type: str = "") -> str:
    """A body as one short line: JSON compacted, anything longer than BODY_LIMIT cut."""
    if raw is None:
        return ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if "json" in content_type:
        try:  # one compact line, whatever the server's formatting
            text = json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
        except (ValueError, RecursionError):
            pass
    return text if len(text) <= BODY_LIMIT else text[:BODY_LIMIT] + f"... ({len(text)} characters)"


@dataclass
class Deviation:
    operation: str  # "POST /api/tools" (the method and the spec's path template)
    check: str  # e.g. "response_schema_conformance"
    title: str  # what kind of deviation, e.g. "Response violates schema"
    expected: str
    got: str
    request_method: str
    request_url: str
    request_body: str
    response_status: int
    response_content_type: str
    response_body: str
    curl: str
    # Every place this deviation showed up: "generated requests", "createRun sequence"...
    seen_in: list[str] = field(default_factory=list)


def render_deviation(number: int, d: Deviation, name: str) -> str:
    """The text report's block for one deviation; ``name`` heads it (e.g. "createTool (POST /api/tools)")."""
    text = [
        f"{number}. {name}: {d.title}",
        f"   seen in:   {'; '.join(d.seen_in)}",
        f"   check:     {d.check}",
        f"   expected:  {d.expected}",
        f"   got:       {d.got}",
        f"   request:   {d.request_method} {d.request_url}",
    ]
    if d.request_body:
        text.append(f"              {d.request_body}")
    if d.response_status:
        text.append(f"   response:  {d.response_status} {d.response_content_type or '(no Content-Type)'}")
    if d.response_body:
        text.append(f"              {d.response_body}")
    if d.curl:
        text.append(f"   reproduce: {d.curl.splitlines()[0]}")
    return "\n".join(text)


@dataclass
class TestCase:
    """One JUnit test case: an operation, passed or failed by its deviations."""

    name: str
    classname: str
    failures: Sequence[Deviation] = ()


def junit_xml(suites: dict[str, Sequence[TestCase]]) -> bytes:
    """JUnit XML with one <testsuite> per entry of ``suites``; a deviation is a <failure>."""
    root = ET.Element("testsuites")
    for suite_name, cases in suites.items():
        failed = sum(1 for case in cases if case.failures)
        suite = ET.SubElement(
            root, "testsuite", name=suite_name, tests=str(len(cases)), failures=str(failed), errors="0", skipped="0"
        )
        for case in cases:
            element = ET.SubElement(suite, "testcase", name=case.name, classname=case.classname)
            if case.failures:
                failure = ET.SubElement(
                    element, "failure", message="; ".join(f"{d.title}: {d.got}" for d in case.failures)[:2000]
                )
                failure.text = "\n\n".join(render_deviation(n, d, case.name) for n, d in enumerate(case.failures, 1))
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)  # bytes for any encoding but "unicode"
    return document


def deviation_dict(d: Deviation) -> dict[str, Any]:
    return asdict(d)


def report_format(path: Path) -> str:
    """The format a report file gets from its name: .xml JUnit, .json JSON, anything else text."""
    suffix = path.suffix.lower()
    return {".xml": "junit", ".json": "json"}.get(suffix, "text")


def write_report(path: Path, text: str, data: dict[str, Any], suites: dict[str, Sequence[TestCase]]) -> str:
    """Write the report in the format its file name asks for; answers that format."""
    kind = report_format(path)
    if kind == "junit":
        path.write_bytes(junit_xml(suites))
    elif kind == "json":
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    else:
        path.write_text(text + "\n", encoding="utf-8")
    return kind
