"""Hostile zips: lying headers, overlapping entries, odd methods, truncation, garbage."""

from __future__ import annotations

import io
import json
import struct
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from helpers import make_input
from security_helpers import (
    central_records,
    json_mimetype,
    patch_central,
    write_zip,
    zip_bytes,
)

from toolkit.archive import ArchiveReader, write_archive
from toolkit.errors import ArchiveError, LimitError, ToolkitError
from toolkit.limits import Limits
from toolkit.messages import InputBatch

GOOD = InputBatch(inputs=[make_input("a", concepts=[("cat", 1.0)])]).SerializeToString()
MiB = 1024 * 1024


def _read_all(path: Path) -> list[str]:
    with ArchiveReader(path) as reader:
        return [r.id for r in reader.iter_inputs()]


class TestLyingHeaders:
    def test_understated_size_is_bounded_and_caught_by_the_crc(self, tmp_path: Path) -> None:
        """The directory says 1000 bytes (so no ratio or size check fires) but the entry
        inflates to 64 MiB: zipfile stops at 1000 bytes and the CRC check fails."""
        body = b"\x0a\x00" * (32 * MiB)
        data = zip_bytes([("all/b_n1", body, zipfile.ZIP_DEFLATED)])
        path = tmp_path / "liar.zip"
        path.write_bytes(patch_central(data, "all/b_n1", file_size=1000))
        with ArchiveReader(path) as reader:
            entry = reader.entries[0]
            assert entry.size == 1000
            tracemalloc.start()
            try:
                with pytest.raises(ArchiveError, match="Bad CRC-32"):
                    reader.read_entry_bytes(entry)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        assert peak < 2 * MiB, f"decompression was not bounded: peak {peak} bytes"

    def test_overstated_size_reads_only_what_is_there(self, tmp_path: Path) -> None:
        data = zip_bytes([("all/b_n1", GOOD, zipfile.ZIP_DEFLATED)])
        path = tmp_path / "big-claim.zip"
        path.write_bytes(patch_central(data, "all/b_n1", file_size=len(GOOD) + 5000))
        assert _read_all(path) == ["a"]

    def test_overstated_size_over_the_limit_is_refused_up_front(self, tmp_path: Path) -> None:
        data = zip_bytes([("all/b_n1", GOOD)])
        path = tmp_path / "huge-claim.zip"
        path.write_bytes(patch_central(data, "all/b_n1", file_size=0xFFFFFFF0))
        with pytest.raises(LimitError, match="limits.max_ratio"):  # 4 GiB from 268 bytes
            ArchiveReader(path)
        with pytest.raises(LimitError, match="limits.max_batch_bytes"):
            ArchiveReader(path, limits=Limits(max_ratio=1e12))

    def test_wrong_crc(self, tmp_path: Path) -> None:
        data = zip_bytes([("all/b_n1", GOOD)])
        path = tmp_path / "crc.zip"
        path.write_bytes(patch_central(data, "all/b_n1", crc=12345))
        with pytest.raises(ArchiveError, match="'all/b_n1' is unreadable .*CRC"):
            _read_all(path)

    def test_entry_past_the_end_of_the_file(self, tmp_path: Path) -> None:
        data = zip_bytes([("all/b_n1", GOOD)])
        path = tmp_path / "past.zip"
        path.write_bytes(patch_central(data, "all/b_n1", compress_size=10 * MiB))
        with pytest.raises(ArchiveError):
            ArchiveReader(path)


class TestOverlappingEntries:
    """Non-recursive zip bombs make many entries read the same compressed bytes."""

    def test_two_entries_at_one_offset(self, tmp_path: Path) -> None:
        data = zip_bytes([("all/a_n1", GOOD), ("all/b_n1", GOOD)])
        first = struct.unpack_from("<L", data, central_records(data)[1][0] + 42)[0]
        path = tmp_path / "same.zip"
        path.write_bytes(patch_central(data, "all/b_n1", offset=first))
        with pytest.raises(ArchiveError, match="overlap inside the zip, a zip bomb trick"):
            ArchiveReader(path)

    def test_entry_covering_the_next(self, tmp_path: Path) -> None:
        data = zip_bytes([("all/a_n1", GOOD), ("all/b_n1", GOOD)])
        path = tmp_path / "quoted.zip"
        path.write_bytes(patch_central(data, "all/a_n1", compress_size=len(GOOD) + 60))
        with pytest.raises(ArchiveError, match="overlap"):
            ArchiveReader(path)

    def test_genuine_archives_do_not_overlap(self, sample_archive, sample_json_archive) -> None:
        for path in (sample_archive, sample_json_archive):
            assert len(_read_all(path)) == 31


class TestMethodsAndFlags:
    @pytest.mark.parametrize(
        ("method", "name"), [(zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "LZMA")]
    )
    def test_unbounded_methods_are_refused(self, tmp_path: Path, method, name) -> None:
        """zipfile's bzip2 and LZMA readers inflate a whole read at once, whatever the
        declared size (a few KB of bzip2 can be gigabytes): refused before reading."""
        path = write_zip(tmp_path / "m.zip", [("all/b_n1", GOOD, method)])
        with pytest.raises(ArchiveError, match=f"compressed with {name}; .*re-zip"):
            ArchiveReader(path)

    def test_unknown_method(self, tmp_path: Path) -> None:
        data = zip_bytes([("all/b_n1", GOOD)])
        path = tmp_path / "m.zip"
        path.write_bytes(patch_central(data, "all/b_n1", method=99))
        with pytest.raises(ArchiveError, match="method 99"):
            ArchiveReader(path)

    def test_bzip2_mimetype(self, tmp_path: Path) -> None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("mimetype", b"application/x.clarifai-data+protobuf", zipfile.ZIP_BZIP2)
            zf.writestr("all/b_n1", GOOD)
        path = tmp_path / "m.zip"
        path.write_bytes(buf.getvalue())
        with pytest.raises(ArchiveError, match="bzip2"):
            ArchiveReader(path)

    def test_encrypted_entry(self, tmp_path: Path) -> None:
        data = zip_bytes([("all/b_n1", GOOD)])
        path = tmp_path / "enc.zip"
        path.write_bytes(patch_central(data, "all/b_n1", flags=1))
        with pytest.raises(ArchiveError, match="is encrypted"):
            ArchiveReader(path)


class TestNames:
    def test_long_count_suffix_is_no_count(self, tmp_path: Path) -> None:
        """A 5000-digit '_n' suffix would overflow int(): it is simply not a count."""
        path = write_zip(tmp_path / "n.zip", [("all/b_n" + "9" * 5000, GOOD)])
        with ArchiveReader(path) as reader:
            assert reader.entries[0].declared_count is None
            assert reader.declared_count is None
            assert [r.id for r in reader.iter_inputs()] == ["a"]

    @pytest.mark.parametrize(
        "name", ["../../etc/x_n1", "/abs/b_n1", "all/../../b_n1", "C:\\x\\b_n1", "a\x01b_n1"]
    )
    def test_hostile_entry_names_are_only_names(self, tmp_path: Path, name) -> None:
        """The reader never turns an entry name into a path; it reads the entry."""
        path = write_zip(tmp_path / "n.zip", [(name, GOOD)])
        before = sorted(p.name for p in tmp_path.iterdir())
        assert _read_all(path) == ["a"]
        assert sorted(p.name for p in tmp_path.iterdir()) == before

    def test_empty_entry_name(self, tmp_path: Path) -> None:
        """A name cut to nothing (a leading NUL): read as a nameless batch entry."""
        data = zip_bytes([("all/b_n1", GOOD)])
        pos = central_records(data)[1][0]
        out = bytearray(data)
        out[pos + 46] = 0  # the central directory name now starts with NUL
        path = tmp_path / "nameless.zip"
        path.write_bytes(bytes(out))
        with pytest.raises(ToolkitError):  # the local header's name no longer matches
            _read_all(path)

    def test_zip_version_from_the_future(self, tmp_path: Path) -> None:
        data = zip_bytes([("all/b_n1", GOOD)])
        path = tmp_path / "v.zip"
        out = bytearray(data)
        struct.pack_into("<H", out, central_records(data)[1][0] + 6, 148)  # version 14.8
        path.write_bytes(bytes(out))
        with pytest.raises(ArchiveError, match="not a zip archive .*zip file version 14.8"):
            ArchiveReader(path)


class TestJsonEdges:
    def test_largest_float32_as_protobuf_prints_it(self, tmp_path: Path) -> None:
        """protobuf's (and Go's) JSON printers write the largest float32 as 3.4028235e+38,
        which protobuf's Python parser refuses as out of range: it is read as written."""
        body = json.dumps(
            {
                "inputs": [
                    {
                        "id": "x",
                        "data": {
                            "embeddings": [{"vector": [3.4028235e38, -3.4028235e38, 1.5]}],
                            "metadata": {"big": 3.4028235e38},
                        },
                    }
                ]
            }
        ).encode()
        path = write_zip(tmp_path / "j.zip", [("all/b_n1", body)], mimetype=json_mimetype())
        with ArchiveReader(path) as reader:
            record = next(iter(reader))
        assert list(record.data.embeddings[0].vector) == [
            3.4028234663852886e38,
            -3.4028234663852886e38,
            1.5,
        ]
        assert record.data.metadata["big"] == pytest.approx(3.4028235e38, rel=1e-7)

    def test_float32_out_of_range_is_still_refused(self, tmp_path: Path) -> None:
        body = b'{"inputs":[{"id":"x","data":{"embeddings":[{"vector":[3.5e38]}]}}]}'
        path = write_zip(tmp_path / "j.zip", [("all/b_n1", body)], mimetype=json_mimetype())
        with pytest.raises(ArchiveError, match="Float value too large"):
            _read_all(path)

    @pytest.mark.parametrize(
        "body",
        [
            b'{"inputs":[{"id":"' + b"9" * 5000 + b'"}]}',
            b'{"inputs":[{"id":1e999}]}',
            b'{"inputs":[{"id":"\\ud800"}]}',
            b'{"inputs":[{"id":"a","id":"b"}]}',
            b'{"inputs":{"id":"a"}}',
            b'{"inputs":[{"data":{"image":{"base64":"!!"}}}]}',
            b'{"inputs":[{"data":{"embeddings":[{"vector":["x"]}]}}]}',
            b'{"inputs":[{"data":{"regions":[{"region_info":{"bounding_box":{"top_row":"NaN"}}}]}}]}',
            b"\xff\xfe{",
            b"[" * 100_000,
            b'{"inputs":[' + b"9" * 10_000 + b"]}",
        ],
    )
    def test_garbage_json_is_an_archive_error_or_read(self, tmp_path: Path, body) -> None:
        path = write_zip(tmp_path / "j.zip", [("all/b_n1", body)], mimetype=json_mimetype())
        try:
            _read_all(path)
        except ToolkitError:
            pass


def test_every_truncation_is_an_error_or_a_full_read(tmp_path: Path) -> None:
    """Cut a small archive at many offsets: each cut is read whole or refused cleanly."""
    source = tmp_path / "src.zip"
    write_archive(
        source, [make_input(f"i{n}", concepts=[("c", 1.0)]) for n in range(6)], batch_size=2
    )
    data = source.read_bytes()
    path = tmp_path / "cut.zip"
    outcomes = {"read": 0, "error": 0}
    for end in range(0, len(data), 3):
        path.write_bytes(data[:end])
        try:
            ids = _read_all(path)
        except ToolkitError:
            outcomes["error"] += 1
        else:
            assert ids == [f"i{n}" for n in range(6)]
            outcomes["read"] += 1
    assert outcomes["error"] > 0


def test_every_single_bit_flip_of_the_directory(tmp_path: Path) -> None:
    """Flip each bit of the central directory and end record: read or a clean error."""
    source = tmp_path / "src.zip"
    write_archive(source, [make_input(f"i{n}") for n in range(3)], batch_size=2, compress=True)
    data = source.read_bytes()
    start = data.find(b"PK\x01\x02")
    path = tmp_path / "flip.zip"
    for pos in range(start, len(data)):
        for bit in (0, 3, 7):
            flipped = bytearray(data)
            flipped[pos] ^= 1 << bit
            path.write_bytes(bytes(flipped))
            try:
                _read_all(path)
            except ToolkitError:
                pass
