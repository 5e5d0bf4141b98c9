"""The version is written once (issue 21, habits): ``mockserver.__version__``, read by
pyproject.toml, named by the newest CHANGELOG.md entry (the release tag is ``v<version>``);
the licence pyproject.toml names is the one in LICENSE."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import mockserver

REPO = Path(__file__).resolve().parents[1]


def test_the_version_is_written_once_and_the_changelog_names_it():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "mockserver.__version__"}
    assert version("runagents-mock") == mockserver.__version__
    newest = re.search(r"^## \[([^\]]+)\]", (REPO / "CHANGELOG.md").read_text(encoding="utf-8"), re.M)
    assert newest and newest.group(1) == mockserver.__version__


def test_licence_file_matches_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == {"text": "MIT"}
    assert (REPO / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
