"""The README's first fixture example (today's API, SDK 1.4.x) runs as written, in a downstream
pytest run; docs/pytest-plugin.md shows the same test and says where SeedError comes from."""

from __future__ import annotations

import re
from pathlib import Path

from sdk_versions import install_sdk

REPO_ROOT = Path(__file__).resolve().parents[2]


def first_python_block(markdown: str, after: str) -> str:
    return re.search(r"```python\n(.*?)```", markdown[markdown.index(after) :], re.S).group(1)


def test_the_readmes_june_example_passes(run_pytest, tmp_path):
    example = first_python_block((REPO_ROOT / "README.md").read_text(), "## In your tests")
    assert "/api/v1/approvals/requests/*/approve" in example
    assert example in (REPO_ROOT / "docs" / "pytest-plugin.md").read_text()
    (tmp_path / "test_example.py").write_text(example)
    result = run_pytest(
        "-q", str(tmp_path), cwd=tmp_path, env={"PYTHONPATH": str(install_sdk("1.4.2")), "HOME": str(tmp_path)}
    )
    assert result.returncode == 0 and result.outcomes() == {"passed": 1}, result.output


def test_the_plugin_docs_say_where_seed_error_comes_from():
    from mockserver.testkit.plugin import SeedError  # noqa: F401 - the import the docs show

    assert "from mockserver.testkit.plugin import SeedError" in (REPO_ROOT / "docs" / "pytest-plugin.md").read_text()
    assert "`SeedError`" in (REPO_ROOT / "README.md").read_text()
