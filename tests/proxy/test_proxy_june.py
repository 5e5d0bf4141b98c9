"""The proxy in front of the mock, driven by the June SDK (runagents 1.4.2) on a named
workspace: every call is located in openapi-v1.yaml the way the mock serves it, checked, and
recorded into that workspace; and a session that checked nothing never passes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from contextlib import contextmanager

import requests
import yaml
from contract_kit_support import serve_mock
from proxy_support import proxy_process

KEY = "proxy-june-key-0123"


def test_june_sdk_traffic_is_checked_recorded_and_loads_back(run_sdk142, tmp_path):
    record, har, report_json, report_xml = (tmp_path / n for n in ("june.yaml", "june.har", "r.json", "r.xml"))
    with contextmanager(serve_mock)() as upstream:
        with proxy_process(
            upstream.url,
            "--record",
            str(record),
            "--har",
            str(har),
            "--report",
            str(report_json),
            "--report",
            str(report_xml),
        ) as proxy:
            sdk = run_sdk142(proxy.url + "/api/v1/workspaces/revops", KEY, "full")
        assert sdk["tools"] == ["echo-tool", "stripe-api"], sdk

        report = json.loads(report_json.read_text())
        summary = report["summary"]
        assert proxy.exit_code == 0, proxy.output
        assert summary["undocumented"] == 0 and "[undocumented]" not in proxy.output, proxy.output
        assert summary["checked"] == summary["exchanges"] > 20, summary
        assert report["response_problems"] == [], report["response_problems"]
        paths = {op["path"] for op in report["operations"]}
        assert "/api/v1/workspaces/{workspace}/tools" in paths and "/api/v1/workspaces/{workspace}/deploy" in paths, (
            paths
        )
        verdict = ET.parse(report_xml).getroot().find("testsuite[@name='runagents-proxy session']/testcase")
        assert verdict is not None and verdict.find("failure") is None
        assert f"{summary['checked']} checked, 0 undocumented" in verdict.get("name"), verdict.get("name")

        entries = json.loads(har.read_text())["log"]["entries"]
        assert len(entries) == summary["exchanges"]
        assert all("/api/v1/workspaces/revops/" in e["request"]["url"] for e in entries)

        fixture = yaml.safe_load(record.read_text())
        revops = fixture["workspaces"]["revops"]
        assert {t["name"] for t in revops["tools"]} >= {"stripe-api", "echo-tool"}, revops
        assert "billing-agent" in {a["agent_name"] for a in revops["agents"]}, revops
        assert {r["status"] for r in revops["access_requests"]} == {"APPROVED", "REJECTED"}, revops
        approved = next(r for r in revops["access_requests"] if r["status"] == "APPROVED")
        assert approved["scope"] == "agent_user_ttl" and approved["duration"] == "2h", approved
        assert not {k for k in fixture if k != "workspaces"}, fixture  # nothing went to the default workspace

    with contextmanager(serve_mock)("--seed", str(record)) as fresh:
        auth = {"Authorization": f"Bearer {KEY}"}
        tools = requests.get(fresh.url + "/api/v1/workspaces/revops/tools", headers=auth, timeout=10).json()
        assert {t["name"] for t in tools} >= {"stripe-api", "echo-tool"}, tools
        assert requests.get(fresh.url + "/api/v1/tools", headers=auth, timeout=10).json() == []
        loaded = requests.get(
            fresh.url + f"/api/v1/workspaces/revops/approvals/requests/{approved['id']}", headers=auth, timeout=10
        ).json()
        assert (loaded["status"], loaded.get("scope")) == ("APPROVED", "agent_user_ttl"), loaded


def _session(upstream: str, tmp_path, name: str, *flags: str, calls) -> tuple[int, dict, str]:
    report = tmp_path / f"{name}.json"
    with proxy_process(upstream, "--report", str(report), *flags) as proxy:
        calls(proxy.url)
    return proxy.exit_code, json.loads(report.read_text()), proxy.output


def test_a_session_that_checked_nothing_or_met_undocumented_calls_fails(tmp_path):
    auth = {"Authorization": f"Bearer {KEY}"}
    with contextmanager(serve_mock)() as upstream:
        requests.post(upstream.url + "/api/starter-kit", headers=auth, timeout=10)

        def nothing_checkable(base: str) -> None:
            requests.get(base + "/api/v1/nothing-here", headers=auth, timeout=10)  # undocumented
            requests.get(base + "/api/tools", headers=auth, timeout=10)  # an answer larger than kept

        code, report, output = _session(
            upstream.url, tmp_path, "none", "--max-body-bytes", "50", "--allow-undocumented", calls=nothing_checkable
        )
        assert code == 1, output
        assert (
            report["summary"] | {"exchanges": 2, "checked": 0, "undocumented": 1, "unchecked": 1} == report["summary"]
        )
        assert not report["passed"] and "no response was checked" in report["failures"], report["failures"]
        assert "Result: FAILED, no response was checked" in output, output

        def one_undocumented(base: str) -> None:
            requests.get(base + "/api/tools", headers=auth, timeout=10)
            requests.get(base + "/api/v1/workspaces/acme/nothing-here", headers=auth, timeout=10)

        code, report, output = _session(upstream.url, tmp_path, "strict", calls=one_undocumented)
        assert code == 1 and report["summary"]["checked"] == 1 and report["summary"]["undocumented"] == 1, output
        assert "--allow-undocumented" in report["failures"][0], report["failures"]
        code, report, output = _session(
            upstream.url, tmp_path, "allowed", "--allow-undocumented", calls=one_undocumented
        )
        assert code == 0 and report["passed"], output
