"""The catalog's one pass over an archive reads counts and ids from the wire bytes, and
finds what protobuf finds."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import make_input

from toolkit import _native
from toolkit.archive import ArchiveReader, write_archive
from toolkit.catalog._scan import scan
from toolkit.metrics import compute_metrics


def _archive(path: Path) -> Path:
    records = [
        make_input(f"in-{n:03d}", concepts=[("cat", 1.0), ("dog", 0.0)][: 1 + n % 2])
        for n in range(300)
    ]
    write_archive(path, records, batch_size=64)
    return path


def test_scan_matches_protobuf(tmp_path: Path) -> None:
    path = _archive(tmp_path / "a.zip")
    found = scan(path)
    with ArchiveReader(path) as reader:
        records = [r for e in reader.entries for r in reader.read_batch(e).inputs]
    assert found.ids == [r.id for r in records]
    assert found.metrics == compute_metrics(records)
    assert list(found.entries) == [n // 64 for n in range(300)]


@pytest.mark.skipif(_native.SPEEDUPS is None, reason="the C reader is not built")
def test_scan_parses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _archive(tmp_path / "a.zip")

    def refuse(*_args: object) -> None:
        raise AssertionError("protobuf parsed an entry the C reader reads")

    monkeypatch.setattr(ArchiveReader, "parse_batch", refuse)
    assert len(scan(path).ids) == 300
