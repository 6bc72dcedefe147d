"""Copying batch entries whole: ArchiveWriter.copy_entry, known CRCs, the stored-entry reader."""

from __future__ import annotations

import errno
import os
import zipfile
from pathlib import Path

import pytest
from helpers import make_input
from merge_helpers import read_inputs, sdk_ids, wire

import toolkit.archive as archive
from toolkit.archive import (
    PROTOBUF_MIMETYPE,
    ArchiveReader,
    ArchiveWriter,
    encode_batch,
    write_archive,
)
from toolkit.errors import ArchiveError


def _records(n: int, prefix: str = "i") -> list:
    return [
        make_input(f"{prefix}{k}", image_bytes=bytes([k % 256]) * (100 + k * 37 % 300))
        for k in range(n)
    ]


def _copy_all(source: Path, out: Path, *, split: str = "all") -> list[int]:
    """copy_entry every entry of ``source`` into ``out``; returns the counts."""
    counts = []
    with ArchiveReader(source) as reader, ArchiveWriter(out, split=split) as writer:
        for entry, batch in reader.iter_batches():
            writer.copy_entry(reader, entry, len(batch.inputs))
            counts.append(len(batch.inputs))
    return counts


def _check_zip(path: Path) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None  # every CRC-32 matches
        infos = zf.infolist()
    assert infos[0].filename == "mimetype" and infos[0].compress_type == zipfile.ZIP_STORED
    return infos[1:]


@pytest.mark.parametrize("compress", [False, True], ids=["stored", "deflated"])
def test_copy_entry_keeps_bytes_crc_and_method(tmp_path, compress):
    records = _records(10)
    source = tmp_path / "source.zip"
    write_archive(source, records, batch_size=4, split="train", compress=compress)
    out = tmp_path / "out.zip"
    assert _copy_all(source, out, split="all") == [4, 4, 2]
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(source) as zf:
        originals = [(i.CRC, i.compress_size, i.file_size) for i in zf.infolist()[1:]]
    copied = _check_zip(out)
    assert [i.filename for i in copied] == [
        "all/input-batch-000000_n4",
        "all/input-batch-000001_n4",
        "all/input-batch-000002_n2",
    ]
    assert [(i.CRC, i.compress_size, i.file_size) for i in copied] == originals
    assert {i.compress_type for i in copied} == {method}
    assert {i.flag_bits & 0x8 for i in copied} == {0}  # no data descriptor
    assert [wire(r) for r in read_inputs(out)] == [wire(r) for r in records]
    assert sdk_ids(out) == [r.id for r in records]


def test_copy_entry_reads_the_local_header_not_the_directory(tmp_path):
    """A local header whose extra field the central directory lacks (zip64, forced)."""
    records = _records(5)
    data = encode_batch([wire(r) for r in records])
    source = tmp_path / "source.zip"
    with zipfile.ZipFile(source, "w") as zf:
        zf.writestr("mimetype", PROTOBUF_MIMETYPE)
        info = zipfile.ZipInfo("weird/name-without-count", date_time=(2020, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as stream:
            stream.write(data)
    with zipfile.ZipFile(source) as zf:
        (entry,) = zf.infolist()[1:]
        with open(source, "rb") as fp:
            fp.seek(entry.header_offset + 28)
            local_extra = int.from_bytes(fp.read(2), "little")
        assert local_extra > len(entry.extra)  # the two headers differ
    out = tmp_path / "out.zip"
    assert _copy_all(source, out) == [5]
    (copied,) = _check_zip(out)
    assert copied.filename == "all/input-batch-000000_n5"
    assert copied.compress_type == zipfile.ZIP_DEFLATED
    assert copied.date_time == (1980, 1, 1, 0, 0, 0)
    assert [wire(r) for r in read_inputs(out)] == [wire(r) for r in records]


def test_copied_and_encoded_batches_mix(tmp_path):
    a, b = _records(6, "a"), _records(3, "b")
    source = tmp_path / "source.zip"
    write_archive(source, a, batch_size=3, compress=True)
    out = tmp_path / "out.zip"
    with ArchiveReader(source) as reader, ArchiveWriter(out, batch_size=2) as writer:
        entries = list(reader.iter_batches())
        writer.add(b[0])  # pending: written before the copied entry
        writer.copy_entry(reader, entries[0][0], 3)
        writer.add_many(b[1:])
        writer.copy_entry(reader, entries[1][0], 3)
    infos = _check_zip(out)
    assert [(i.filename, i.compress_type) for i in infos] == [
        ("all/input-batch-000000_n1", zipfile.ZIP_STORED),
        ("all/input-batch-000001_n3", zipfile.ZIP_DEFLATED),
        ("all/input-batch-000002_n2", zipfile.ZIP_STORED),
        ("all/input-batch-000003_n3", zipfile.ZIP_DEFLATED),
    ]
    expected = [b[0], *a[:3], *b[1:], *a[3:]]
    assert [wire(r) for r in read_inputs(out)] == [wire(r) for r in expected]
    assert sdk_ids(out) == [r.id for r in expected]


def test_copy_entry_between_flavours(tmp_path):
    records = _records(4)
    source = tmp_path / "source.zip"
    write_archive(source, records, batch_size=4, flavour="json")
    out = tmp_path / "out.zip"
    assert _copy_all(source, out) == [4]
    assert [wire(r) for r in read_inputs(out)] == [wire(r) for r in records]
    json_out = tmp_path / "json-out.zip"
    protobuf = tmp_path / "protobuf.zip"
    write_archive(protobuf, records, batch_size=4)
    with ArchiveReader(protobuf) as reader, ArchiveWriter(json_out, flavour="json") as writer:
        for entry, batch in reader.iter_batches():
            writer.copy_entry(reader, entry, len(batch.inputs))
    with ArchiveReader(json_out) as reader:
        assert reader.flavour == "json"
        assert [wire(r) for r in reader.iter_inputs()] == [wire(r) for r in records]


def test_known_crc_gives_the_bytes_writestr_gives(tmp_path):
    records = _records(9)
    source = tmp_path / "source.zip"
    write_archive(source, records, batch_size=4)
    out = tmp_path / "out.zip"
    with ArchiveReader(source) as reader, ArchiveWriter(out, batch_size=4) as writer:
        for entry in reader.entries:
            data = reader.read_entry_bytes(entry)
            writer.add_encoded_batch(data, entry.declared_count or 0, crc=entry.crc)
    assert out.read_bytes() == source.read_bytes()


@pytest.mark.parametrize("how", ["kernel", "sendfile", "python"])
def test_copy_without_copy_file_range(tmp_path, monkeypatch, how):
    records = _records(7)
    source = tmp_path / "source.zip"
    write_archive(source, records, batch_size=3, compress=True)
    reference = tmp_path / "reference.zip"
    _copy_all(source, reference)
    if how == "python":
        monkeypatch.setattr(archive, "_KERNEL_COPY", False)
    elif how == "sendfile":

        def refuse(*args):
            raise OSError(errno.EXDEV, "Invalid cross-device link")

        monkeypatch.setattr(os, "copy_file_range", refuse, raising=False)
    out = tmp_path / "out.zip"
    _copy_all(source, out)
    assert out.read_bytes() == reference.read_bytes()
    _check_zip(out)


def test_zip64_sizes_and_offsets(tmp_path, monkeypatch):
    """With zip64's threshold made small, both the sources and the output need zip64."""
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 500)
    records = _records(12)
    stored, deflated = tmp_path / "stored.zip", tmp_path / "deflated.zip"
    write_archive(stored, records[:6], batch_size=3)
    write_archive(deflated, records[6:], batch_size=3, compress=True)
    out = tmp_path / "out.zip"
    with ArchiveWriter(out) as writer:
        for path in (stored, deflated):
            with ArchiveReader(path) as reader:
                for entry, batch in reader.iter_batches():
                    writer.copy_entry(reader, entry, len(batch.inputs))
                for entry in reader.entries:  # again, with a known CRC
                    data = reader.read_entry_bytes(entry)
                    writer.add_encoded_batch(data, entry.declared_count or 0, crc=entry.crc)
    monkeypatch.undo()
    infos = _check_zip(out)
    assert len(infos) == 8
    assert infos[-1].header_offset > 500
    assert any(info.file_size > 500 for info in infos)
    assert any(info.compress_type == zipfile.ZIP_DEFLATED for info in infos)
    with open(out, "rb") as fp:
        for info in infos:  # a local zip64 extra field where zipfile would write one
            fp.seek(info.header_offset + 28)
            extra = int.from_bytes(fp.read(2), "little")
            assert extra == (20 if info.file_size * 1.05 > 500 else 0), info
    with open(out, "rb") as fp:
        assert b"PK\x06\x06" in fp.read()  # a zip64 end of central directory
    expected = records[:6] + records[:6] + records[6:] + records[6:]
    assert [wire(r) for r in read_inputs(out)] == [wire(r) for r in expected]
    assert sdk_ids(out) == [r.id for r in expected]


class TestStoredReads:
    """Stored entries are read with one positioned read; anything odd goes through zipfile."""

    def test_same_bytes_as_zipfile(self, tmp_path):
        source = tmp_path / "source.zip"
        write_archive(source, _records(10), batch_size=4)
        with ArchiveReader(source) as reader, zipfile.ZipFile(source) as zf:
            for entry in reader.entries:
                assert reader.read_entry_bytes(entry) == zf.read(entry.name)

    def test_a_damaged_entry_is_reported_as_before(self, tmp_path):
        source = tmp_path / "source.zip"
        write_archive(source, _records(4), batch_size=4)
        with ArchiveReader(source) as reader:
            raw = reader.raw_entry(reader.entries[0])
        blob = bytearray(source.read_bytes())
        blob[raw.offset + 10] ^= 0xFF
        source.write_bytes(bytes(blob))
        with ArchiveReader(source) as reader:
            with pytest.raises(ArchiveError, match="Bad CRC-32"):
                reader.read_entry_bytes(reader.entries[0])

    def test_a_local_name_that_differs_is_reported_as_before(self, tmp_path):
        source = tmp_path / "source.zip"
        write_archive(source, _records(4), batch_size=4)
        blob = source.read_bytes()
        at = blob.index(b"all/input-batch-000000_n4")  # the local header's copy comes first
        source.write_bytes(blob[:at] + b"all/input-batch-999999_n4" + blob[at + 25 :])
        with ArchiveReader(source) as reader:
            with pytest.raises(ArchiveError, match="differ"):
                reader.read_entry_bytes(reader.entries[0])
