"""Issue 26.2: the report tells, for each link, how often it was followed and whether it was
answered 2xx; a link never followed is "NOT COVERED", never ok; and a link our documents mark
``x-required-link: true`` that the run did not cover fails it (exit 1), naming the link.

Both runs use a trimmed copy of openapi.yaml (one collection each), in-process: seconds, not minutes."""

from __future__ import annotations

import copy

import yaml
from contract_kit_support import REPO, SEED, run_kit

from mockserver.spec.document import Spec


def _trimmed(tmp_path, paths: list[str], required: set[str], optional: set[str] = frozenset()) -> str:
    """The document with only ``paths``; links named in ``required`` marked required, the
    others in it unmarked."""
    # The mock's parse of openapi.yaml (cached): not parsed again at collection in every xdist worker.
    document = copy.deepcopy(Spec.load(REPO / "openapi.yaml").document)
    document["paths"] = {path: document["paths"][path] for path in paths}
    for item in document["paths"].values():
        for operation in item.values():
            for response in operation.get("responses", {}).values() if isinstance(operation, dict) else ():
                for name, link in (response.get("links") or {}).items():
                    link.pop("x-required-link", None)
                    if name in required:
                        link["x-required-link"] = True
    target = tmp_path / "trimmed.yaml"
    target.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return str(target)


def test_a_required_link_the_run_could_not_follow_fails_it(tmp_path):
    # A binding needs an existing policy, which generated bodies never name: createPolicyBinding
    # answers 404, so its links are never followed.
    spec = _trimmed(tmp_path, ["/api/policy-bindings", "/api/policy-bindings/{name}"], {"GetCreatedBinding"})
    run = run_kit("--spec", spec, "--max-examples", "1", "--seed", SEED, "--positive-only")
    assert run.exit_code == 1, run.report + run.stderr
    assert "NOT COVERED: 2 link(s), 1 required" in run.report, run.report
    assert "directed walks" in run.report and "GetCreatedBinding" in run.report  # it was tried, and said so
    assert "NOT COVERED            * createPolicyBinding -> getPolicyBinding (GetCreatedBinding)" in run.report
    assert "NOT COVERED              createPolicyBinding -> deletePolicyBinding (DeleteCreatedBinding)" in run.report
    assert (
        "Result: FAILED, 0 deviation(s) in 0 operation(s), 1 required link(s) not covered: GetCreatedBinding"
        in run.report
    ), run.report
    assert "Errors" not in run.report  # the uncovered link is the verdict's, not an error of the kit


def test_required_links_are_covered_with_any_example_count(tmp_path):
    # One example per operation: the random walks alone may miss a link; the directed walks
    # cover every required one, and the report says they were needed.
    spec = _trimmed(
        tmp_path,
        ["/api/tools", "/api/tools/{name}", "/api/tools/{name}/test"],
        {"GetCreatedTool", "DeleteCreatedTool", "TestCreatedTool"},
    )
    run = run_kit("--spec", spec, "--max-examples", "1", "--seed", SEED, "--positive-only")
    assert run.exit_code == 0, run.report + run.stderr
    for name, target in (
        ("GetCreatedTool", "getTool"),
        ("DeleteCreatedTool", "deleteTool"),
        ("TestCreatedTool", "testTool"),
    ):
        line = next((l for l in run.report.splitlines() if f"({name})" in l), "")
        assert line.lstrip().startswith("x") and f"* createTool -> {target}" in line, run.report
        followed, ok = line.split()[0:2]
        assert int(followed.strip("x,")) >= int(ok) >= 1, line
    assert "link(s) covered, every required one among them" in run.report, run.report


def test_a_key_a_link_hands_over_is_not_taken_for_invalid_auth(tmp_path):
    # UseKey sends the key createWorkspaceApiKey just minted, in X-RunAgents-API-Key:
    # schemathesis' ignored_auth reads any key it did not set as generated ("likely invalid")
    # and would report the server's 200 as auth not enforced. The kit knows the key is the link's.
    document = yaml.safe_load((REPO / "openapi-v1.yaml").read_text(encoding="utf-8"))
    document["paths"] = {path: document["paths"][path] for path in ("/auth/api-keys", "/settings/auth")}
    links = document["paths"]["/auth/api-keys"]["post"]["responses"]["201"]["links"]
    document["paths"]["/auth/api-keys"]["post"]["responses"]["201"]["links"] = {
        "UseKey": {**links["UseKey"], "x-required-link": True}
    }
    spec = tmp_path / "keys.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    run = run_kit("--api", "v1", "--spec", str(spec), "--max-examples", "10", "--seed", SEED)
    assert run.exit_code == 0, run.report + run.stderr
    line = next((l for l in run.report.splitlines() if l.endswith("(UseKey)")), "")
    followed, succeeded, ok, required = line.split()[0:4]
    assert ok == "ok" and required == "*" and int(succeeded) >= 1, run.report
