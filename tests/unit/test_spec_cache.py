"""The parsed-document cache behind ``Spec.load``: the same document as YAML gives, keyed by content."""

from __future__ import annotations

import os
import shutil

import yaml

from mockserver.spec.document import ServedDocument, Spec, mock_spec_path


def _copy(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    doc = tmp_path / "mock-openapi.yaml"
    shutil.copyfile(mock_spec_path(), doc)
    return doc, tmp_path / "cache" / "runagents-mock" / "parsed-openapi"


def _touch(path, step: int) -> None:
    # A new mtime, so the per-process cache (keyed by path and mtime) reads the file again.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + step * 1_000_000_000))


def test_cached_document_is_what_yaml_gives(tmp_path, monkeypatch):
    doc, cache = _copy(tmp_path, monkeypatch)
    expected = yaml.safe_load(doc.read_text(encoding="utf-8"))

    first = Spec.load(doc)
    assert first.document == expected
    assert len(list(cache.iterdir())) == 1  # written on the first parse

    _touch(doc, 1)
    again = Spec.load(doc)
    assert again is not first  # read afresh, from the cache this time
    assert again.document == expected
    assert sorted(again.operations) == sorted(first.operations)


def test_unreadable_cache_falls_back_to_yaml(tmp_path, monkeypatch):
    doc, cache = _copy(tmp_path, monkeypatch)
    Spec.load(doc)
    (entry,) = cache.iterdir()
    entry.write_bytes(b"\x00not marshal")

    _touch(doc, 1)
    assert Spec.load(doc).document == yaml.safe_load(doc.read_text(encoding="utf-8"))
    assert entry.read_bytes() != b"\x00not marshal"  # and written again


def test_changed_document_is_parsed_again(tmp_path, monkeypatch):
    doc, cache = _copy(tmp_path, monkeypatch)
    Spec.load(doc)
    doc.write_text(doc.read_text(encoding="utf-8").replace("title:", "title: Changed", 1), encoding="utf-8")
    _touch(doc, 2)

    served = ServedDocument("runagents-mock", doc)
    assert served.document()["info"]["title"].startswith("Changed")
    assert len(list(cache.iterdir())) == 2  # one entry per content
