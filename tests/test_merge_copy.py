"""merge/remove/filter copy whole source batches without re-encoding or a second CRC pass."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from helpers import make_input
from merge_helpers import leftovers, read_inputs, sdk_ids, wire

import toolkit._rewrite as rewrite
from toolkit.archive import ArchiveWriter, write_archive
from toolkit.errors import ArchiveError
from toolkit.merge import merge_archives
from toolkit.subset import remove_inputs


def _records(n: int, prefix: str) -> list:
    return [
        make_input(f"{prefix}{k}", image_bytes=bytes([k % 256]) * (50 + k * 37 % 300))
        for k in range(n)
    ]


@pytest.fixture(name="calls")
def _calls(monkeypatch) -> dict[str, int]:
    """Count the whole-entry copies and the batches written with a known CRC."""
    calls = {"copy_entry": 0, "known_crc": 0, "encoded": 0}
    copy_entry = ArchiveWriter.copy_entry
    add_encoded_batch = ArchiveWriter.add_encoded_batch

    def counting_copy(self, reader, entry, count):
        calls["copy_entry"] += 1
        copy_entry(self, reader, entry, count)

    def counting_add(self, data, count, *, crc=None):
        calls["encoded" if crc is None else "known_crc"] += 1
        add_encoded_batch(self, data, count, crc=crc)

    monkeypatch.setattr(ArchiveWriter, "copy_entry", counting_copy)
    monkeypatch.setattr(ArchiveWriter, "add_encoded_batch", counting_add)
    return calls


def _infos(path: Path) -> list[tuple[str, int]]:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        return [(i.filename, i.compress_type) for i in zf.infolist()]


def _archive(tmp_path: Path, name: str, records: list, *, batch_size: int, compress: bool):
    path = tmp_path / name
    write_archive(path, records, batch_size=batch_size, compress=compress)
    return path


def test_merge_copies_whole_entries_and_encodes_the_rest(tmp_path, calls):
    a, b = _records(10, "a"), _records(6, "b")
    pa = _archive(tmp_path, "a.zip", a, batch_size=4, compress=True)
    pb = _archive(tmp_path, "b.zip", b, batch_size=4, compress=False)
    out = tmp_path / "out.zip"
    report = merge_archives([pa, pb], out, batch_size=4)
    assert report.added == 16
    stored, deflated = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
    assert _infos(out) == [
        ("mimetype", stored),
        ("all/input-batch-000000_n4", deflated),  # copied from a.zip
        ("all/input-batch-000001_n4", deflated),
        ("all/input-batch-000002_n2", stored),  # a's last 2 (each source starts a batch)
        ("all/input-batch-000003_n4", stored),  # b's first batch, with its CRC
        ("all/input-batch-000004_n2", stored),
    ]
    assert calls == {"copy_entry": 2, "known_crc": 1, "encoded": 2}
    assert [wire(r) for r in read_inputs(out)] == [wire(r) for r in a + b]
    assert sdk_ids(out) == [r.id for r in a + b]


def test_a_single_source_comes_out_byte_identical(tmp_path, calls):
    source = _archive(tmp_path, "a.zip", _records(9, "a"), batch_size=4, compress=False)
    out = tmp_path / "out.zip"
    merge_archives([source], out, batch_size=4)
    assert out.read_bytes() == source.read_bytes()
    assert calls["known_crc"] == 2


@pytest.mark.parametrize("compress", [False, True])
def test_batches_that_do_not_fit_are_encoded(tmp_path, calls, compress):
    a = _records(10, "a")
    source = _archive(tmp_path, "a.zip", a, batch_size=4, compress=compress)
    out = tmp_path / "out.zip"
    merge_archives([source], out, batch_size=3)
    assert calls == {"copy_entry": 0, "known_crc": 0, "encoded": 4}
    assert {method for name, method in _infos(out)} == {zipfile.ZIP_STORED}
    assert [wire(r) for r in read_inputs(out)] == [wire(r) for r in a]


def test_batch_size_none_copies_every_entry(tmp_path, calls):
    a = _records(7, "a")
    source = _archive(tmp_path, "a.zip", a, batch_size=3, compress=True)
    out = tmp_path / "out.zip"
    merge_archives([source], out, batch_size=None)
    assert calls == {"copy_entry": 3, "known_crc": 0, "encoded": 0}
    assert [name for name, _ in _infos(out)][1:] == [
        "all/input-batch-000000_n3",
        "all/input-batch-000001_n3",
        "all/input-batch-000002_n1",
    ]
    assert [wire(r) for r in read_inputs(out)] == [wire(r) for r in a]


def test_repeated_ids_copy_the_batches_left_whole(tmp_path, calls, monkeypatch):
    monkeypatch.setattr(rewrite, "_BACKGROUND_WRITES", False)  # the first pass stops at once
    a, b = _records(8, "a"), _records(8, "b")
    b[5] = make_input("a1", image_bytes=b"different")
    pa = _archive(tmp_path, "a.zip", a, batch_size=4, compress=True)
    pb = _archive(tmp_path, "b.zip", b, batch_size=4, compress=True)
    out = tmp_path / "out.zip"
    report = merge_archives([pa, pb], out, batch_size=4, on_conflict="rename")
    assert [(r.id, r.new_id) for r in report.renamed] == [("a1", "a1~2")]
    ids = [r.id for r in read_inputs(out)]
    assert ids == [r.id for r in a] + ["b0", "b1", "b2", "b3", "b4", "a1~2", "b6", "b7"]
    # a's two batches and b's first, in the first pass (dropped at the repeated id) and
    # in the last; b's second batch holds the renamed input.
    assert calls["copy_entry"] == 6
    assert sdk_ids(out) == ids


def test_a_streamed_source_is_copied_from_its_spilled_copy(tmp_path, calls):
    a = _records(8, "a")
    source = _archive(tmp_path, "a.zip", a, batch_size=4, compress=True)
    out = io.BytesIO()
    merge_archives([io.BytesIO(source.read_bytes())], out, batch_size=4)
    assert calls["copy_entry"] == 2
    path = tmp_path / "out.zip"
    path.write_bytes(out.getvalue())
    assert [wire(r) for r in read_inputs(path)] == [wire(r) for r in a]
    assert leftovers(tmp_path) == []


def test_a_damaged_entry_still_fails_the_merge(tmp_path):
    source = _archive(tmp_path, "a.zip", _records(8, "a"), batch_size=4, compress=False)
    blob = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as zf:
        info = zf.infolist()[2]
    blob[info.header_offset + 30 + len(info.filename) + 5] ^= 0xFF
    source.write_bytes(bytes(blob))
    out = tmp_path / "out.zip"
    with pytest.raises(ArchiveError, match="Bad CRC-32"):
        merge_archives([source], out, batch_size=4)
    assert not out.exists() and leftovers(tmp_path) == []


def test_remove_copies_the_batches_it_leaves_whole(tmp_path, calls):
    a = _records(12, "a")
    source = _archive(tmp_path, "a.zip", a, batch_size=4, compress=True)
    out = tmp_path / "out.zip"
    report = remove_inputs(source, out, ["a9"], batch_size=4)
    assert report.removed == ("a9",)
    # The batches before the gap are copied; from there on the batches are made anew.
    assert calls == {"copy_entry": 2, "known_crc": 0, "encoded": 1}
    kept = [r for r in a if r.id != "a9"]
    assert [wire(r) for r in read_inputs(out)] == [wire(r) for r in kept]
    assert sdk_ids(out) == [r.id for r in kept]
