"""The copying machinery under merge/remove/filter/split: frames, batching, the writer thread."""

from __future__ import annotations

import pytest
from helpers import make_input
from merge_helpers import entry_names, leftovers, read_inputs, wire

import toolkit._rewrite as rewrite
from toolkit.archive import ArchiveWriter, encode_batch, write_archive
from toolkit.errors import OutputError
from toolkit.merge import merge_archives
from toolkit.messages import InputBatch


def _records(n: int, prefix: str = "i") -> list:
    return [
        make_input(f"{prefix}{k}", image_bytes=bytes([k % 256]) * (k * 37 % 300)) for k in range(n)
    ]


def test_frame_offsets():
    parts = [wire(r) for r in _records(5)] + [b"x" * 200]  # a 2-byte length too
    data = encode_batch(parts)
    offsets = rewrite.frame_offsets(data)
    assert offsets is not None and len(offsets) == len(parts) + 1
    assert [data[offsets[i] : offsets[i + 1]] for i in range(len(parts))] == [
        encode_batch([p]) for p in parts
    ]
    assert rewrite.frame_offsets(b"") == [0]
    assert rewrite.frame_offsets(data + b"\x10\x01") is None  # an unknown batch field
    assert rewrite.frame_offsets(data[:-1]) is None  # truncated
    assert rewrite.frame_offsets(b"\x0a\xff") is None  # a varint that runs out


def test_unknown_batch_fields_are_dropped_when_rechunked(tmp_path):
    records = _records(4)
    data = encode_batch([wire(r) for r in records]) + b"\x10\x01"
    assert len(InputBatch.FromString(data).inputs) == 4
    src = tmp_path / "src.zip"
    with ArchiveWriter(src) as writer:
        writer.add_encoded_batch(data, 4)
    out = tmp_path / "out.zip"
    merge_archives([src], out, batch_size=3)
    assert [wire(r) for r in read_inputs(out)] == [wire(r) for r in records]


@pytest.mark.parametrize("background", [True, False])
def test_same_bytes_with_or_without_the_writer_thread(
    make_archive, tmp_path, monkeypatch, background
):
    a = make_archive(_records(300, "a"), "a.zip", batch_size=128)
    b = make_archive(_records(50, "b") + _records(3, "a"), "b.zip", batch_size=7)
    reference = tmp_path / "reference.zip"
    monkeypatch.setattr(rewrite, "_BACKGROUND_WRITES", False)
    merge_archives([a, b], reference, on_conflict="rename", batch_size=64)
    monkeypatch.setattr(rewrite, "_BACKGROUND_WRITES", background)
    out = tmp_path / "out.zip"
    merge_archives([a, b], out, on_conflict="rename", batch_size=64)
    assert out.read_bytes() == reference.read_bytes()
    assert len(entry_names(out)) == 1 + 6  # 300 + 50 in batches of 64, source by source


@pytest.mark.parametrize(
    ("method", "batch_size", "compress"),
    [
        ("add_encoded_batch", 3, False),  # re-chunked
        ("add_encoded_batch", 4, False),  # stored source entries written whole
        ("copy_entry", 4, True),  # deflated source entries copied whole
    ],
)
def test_a_failure_in_the_writer_thread_reaches_the_caller(
    tmp_path, monkeypatch, method, batch_size, compress
):
    a = tmp_path / "a.zip"
    write_archive(a, _records(40), batch_size=4, compress=compress)
    calls = 0
    original = getattr(ArchiveWriter, method)

    def failing(self, *args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OutputError(f"{self.path}: write failed (No space left on device)")
        original(self, *args, **kwargs)

    monkeypatch.setattr(ArchiveWriter, method, failing)
    out = tmp_path / "out.zip"
    with pytest.raises(OutputError, match="No space left"):
        merge_archives([a], out, batch_size=batch_size)
    assert not out.exists() and leftovers(tmp_path) == []
    assert calls >= 3


def test_background_writer_close_and_abort(tmp_path):
    records = _records(3)
    data = encode_batch([wire(r) for r in records])
    done = rewrite.BackgroundWriter(ArchiveWriter(tmp_path / "done.zip"))
    done.add_encoded_batch(data, 3)
    done.close()
    assert [wire(r) for r in read_inputs(tmp_path / "done.zip")] == [wire(r) for r in records]
    with pytest.raises(ValueError, match="closed"):
        done.add_encoded_batch(data, 3)
    dropped = rewrite.BackgroundWriter(ArchiveWriter(tmp_path / "dropped.zip"))
    dropped.add_encoded_batch(data, 3)
    dropped.abort()
    dropped.abort()
    assert not (tmp_path / "dropped.zip").exists() and leftovers(tmp_path) == []
    json_writer = ArchiveWriter(tmp_path / "j.zip", flavour="json")
    with pytest.raises(ValueError, match="protobuf"):
        rewrite.BackgroundWriter(json_writer)
    json_writer.abort()
    assert leftovers(tmp_path) == []
