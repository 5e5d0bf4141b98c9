"""``runagents-contract``: check a server against openapi.yaml and report every deviation.

It runs the contract suite (``test_operations.py``, ``test_stateful.py``) with pytest, in this
process, isolated from the caller's pytest setup: no ini file, no auto-loaded plugins, no
cache. The report is printed by ``contracts.pytest_plugin``; JUnit XML comes from pytest's
own ``--junitxml``.

Exit codes: 0 every operation conforms, 1 deviations (or cleanup left something behind),
2 the run could not be done (bad arguments, unreachable server, key refused).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .settings import DEFAULT_MAX_EXAMPLES

SUITE_DIR = Path(__file__).resolve().parent
SUITE_MODULES = ("contracts.test_operations", "contracts.test_stateful")
# Plugins the suite needs, loaded explicitly because auto-loading is off.
PLUGINS = ("contracts.pytest_plugin", "schemathesis.pytest.plugin", "_hypothesis_pytestplugin")


def _base_url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError("use a full URL such as https://api.runagents.io")
    return text.rstrip("/")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _version() -> str:
    from mockserver import __version__

    try:
        schemathesis = f" (schemathesis {version('schemathesis')})"
    except PackageNotFoundError:  # the [contract] extra is not installed: --version still answers
        schemathesis = ""
    return f"runagents-contract {__version__}{schemathesis}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runagents-contract",
        description="Check a RunAgents API server against openapi.yaml. Without --base-url, an "
        "in-process runagents-mock is started and checked.",
        epilog="exit codes: 0 every operation conforms; 1 deviations found (or cleanup left "
        "something behind); 2 the run could not be done (bad arguments, unreachable "
        "server, key refused, the kit's extras not installed).",
    )
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument("--base-url", type=_base_url, metavar="URL", help="server to test")
    parser.add_argument(
        "--api-key",
        metavar="KEY",
        help="API key (default: $RUNAGENTS_API_KEY); on v1 a workspace key (ra_ws_...) is "
        "sent as X-RunAgents-API-Key, any other as Authorization: Bearer. Optional "
        "against the mock: runagents-mock takes any non-empty key unless started "
        "with --api-key",
    )
    parser.add_argument(
        "--api",
        choices=("2026-02", "v1"),
        help="which API to check: 2026-02 (openapi.yaml) or v1 (openapi-v1.yaml, /api/v1); "
        "default: v1 when --base-url ends in /api/v1 or /workspaces/<ws>",
    )
    parser.add_argument(
        "--read-only", action="store_true", help="only GET operations: nothing is created, changed or deleted"
    )
    parser.add_argument(
        "--max-examples",
        type=_positive,
        default=DEFAULT_MAX_EXAMPLES,
        metavar="N",
        help=f"generated requests per operation (default {DEFAULT_MAX_EXAMPLES})",
    )
    parser.add_argument("--report", type=Path, metavar="FILE", help="also write JUnit XML here (for CI)")
    parser.add_argument("--seed", type=int, metavar="N", help="rerun exactly the same requests")
    parser.add_argument(
        "--name-prefix", metavar="PREFIX", help="prefix of every name the run creates (default contract-test-)"
    )
    parser.add_argument("--spec", type=Path, metavar="PATH", help="another openapi.yaml to check against")
    parser.add_argument(
        "--positive-only",
        action="store_true",
        help="send only data the spec allows (no invalid input, no unexpected methods)",
    )
    parser.add_argument(
        "--exclude-check",
        action="append",
        default=[],
        metavar="NAME",
        help="leave out this schemathesis check, e.g. ignored_auth (repeatable)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show pytest's own output and tracebacks as well as the report"
    )
    return parser


def pytest_arguments(args: argparse.Namespace) -> list[str]:
    argv = [
        str(SUITE_DIR),
        "--rootdir",
        str(SUITE_DIR),
        "-c",
        os.devnull,
        "--disable-plugin-autoload",
        "-p",
        "no:cacheprovider",
    ]
    for plugin in PLUGINS:
        argv += ["-p", plugin]
    argv += ["-v", "--tb=short"] if args.verbose else ["-p", "no:terminal"]
    argv += ["--max-examples", str(args.max_examples)]
    for flag, value in (
        ("--base-url", args.base_url),
        ("--api-key", args.api_key),
        ("--seed", args.seed),
        ("--name-prefix", args.name_prefix),
        ("--spec", args.spec),
        ("--api", args.api),
    ):
        if value is not None:
            argv += [flag, str(value)]
    for flag, on in (("--read-only", args.read_only), ("--positive-only", args.positive_only)):
        if on:
            argv.append(flag)
    for check in args.exclude_check:
        argv += ["--exclude-check", check]
    if args.report:
        argv += [f"--junitxml={args.report}", "-o", "junit_suite_name=runagents-contract"]
    return argv


def _forget_suite_modules() -> None:
    # The test modules build their schema at import time from the active run; a second call
    # of main() in the same process must import them afresh, not reuse the first run's.
    for name in SUITE_MODULES:
        sys.modules.pop(name, None)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        import pytest
        import schemathesis  # noqa: F401  (only checking it is there)
    except ImportError as exc:
        print(
            f"runagents-contract: {exc.name} is missing; install the kit with "
            "pip install '.[contract]' in a clone of runagents-mock",
            file=sys.stderr,
        )
        return 2

    # Hypothesis keeps caches in ./.hypothesis; the kit may run from anywhere, so not there.
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "runagents-contract-hypothesis")
    _forget_suite_modules()
    code = pytest.main(pytest_arguments(args))
    if code == pytest.ExitCode.OK:
        return 0
    if code == pytest.ExitCode.TESTS_FAILED:
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
