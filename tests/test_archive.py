"""The streaming reader and the atomic writer."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from helpers import make_input

from toolkit.archive import ArchiveReader, ArchiveWriter, encode_batch, write_archive
from toolkit.errors import ArchiveError, EmptyArchiveError, InputNotFoundError, OutputError
from toolkit.messages import Input, InputBatch


def _records(n: int) -> list[Input]:
    return [make_input(f"id-{i:03d}", concepts=[("c", 1.0)], vector=[i, 1.0]) for i in range(n)]


def test_roundtrip_keeps_order_and_batches(make_archive) -> None:
    records = _records(10)
    path = make_archive(records, batch_size=4)
    with ArchiveReader(path) as reader:
        assert reader.flavour == "protobuf"
        assert [e.name for e in reader.entries] == [
            "all/input-batch-000000_n4",
            "all/input-batch-000001_n4",
            "all/input-batch-000002_n2",
        ]
        assert [e.declared_count for e in reader.entries] == [4, 4, 2]
        assert reader.declared_count == 10
        assert reader.entries[0].split == "all"
        assert list(reader.iter_inputs()) == records


def test_json_flavour_snake_and_camel_case(tmp_path: Path) -> None:
    path = tmp_path / "json.zip"
    snake = b'{"inputs":[{"id":"a","data":{"concepts":[{"id":"cat","value":1}],'
    snake += b'"regions":[{"region_info":{"bounding_box":{"top_row":0.5}}}]}}]}'
    camel = b'{"inputs":[{"id":"b","data":{"regions":[{"regionInfo":{"boundingBox":'
    camel += b'{"leftCol":0.25}}}],"unknownField":1}}]}'
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", b"application/x.clarifai-data+json")
        zf.writestr("all/a_n1", snake, zipfile.ZIP_DEFLATED)
        zf.writestr("all/b_n1", camel)
    with ArchiveReader(path) as reader:
        assert reader.flavour == "json"
        a, b = reader.iter_inputs()
    assert a.data.regions[0].region_info.bounding_box.top_row == 0.5
    assert a.data.concepts[0].value == 1.0
    assert b.data.regions[0].region_info.bounding_box.left_col == 0.25


def test_json_writer_roundtrip(make_archive) -> None:
    records = _records(5)
    path = make_archive(records, flavour="json", batch_size=2)
    with ArchiveReader(path) as reader:
        assert reader.flavour == "json"
        assert reader.mimetype == "application/x.clarifai-data+json"
        assert list(reader.iter_inputs()) == records


def test_any_entry_name_deflated_and_directory_entries(tmp_path: Path) -> None:
    path = tmp_path / "odd.zip"
    batch = InputBatch(inputs=_records(3)).SerializeToString()
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", b"application/x.clarifai-data+protobuf")
        zf.writestr("train/", b"")
        zf.writestr("train/no-count-suffix", batch, zipfile.ZIP_DEFLATED)
        zf.writestr("top-level", InputBatch(inputs=_records(1)).SerializeToString())
    with ArchiveReader(path) as reader:
        assert [e.name for e in reader.entries] == ["train/no-count-suffix", "top-level"]
        assert reader.declared_count is None
        assert len(list(reader.iter_inputs())) == 4


def test_get_input_parses_each_entry_at_most_once(make_archive, monkeypatch) -> None:
    path = make_archive(_records(20), batch_size=5)
    with ArchiveReader(path) as reader:
        calls: list[str] = []
        original = reader.read_batch

        def counting(entry):
            calls.append(entry.name)
            return original(entry)

        monkeypatch.setattr(reader, "read_batch", counting)
        assert reader.get_input("id-007").id == "id-007"
        assert calls == [e.name for e in reader.entries[:2]]
        calls.clear()
        assert reader.get_input("id-002").id == "id-002"  # already located: one read
        assert calls == [reader.entries[0].name]
        calls.clear()
        assert reader.get_input("id-019").id == "id-019"  # scanning resumes after entry 1
        assert calls[0] == reader.entries[2].name
        calls.clear()
        with pytest.raises(InputNotFoundError, match="no input with id 'nope'"):
            reader.get_input("nope")
        assert calls == []  # every entry is indexed already


def test_writer_is_atomic_and_replaces_only_on_success(tmp_path: Path) -> None:
    dest = tmp_path / "out.zip"
    dest.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with ArchiveWriter(dest, batch_size=2) as writer:
            writer.add_many(_records(5))
            raise RuntimeError("boom")
    assert dest.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.zip"]
    write_archive(dest, _records(3))
    with ArchiveReader(dest) as reader:
        assert len(list(reader.iter_inputs())) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.zip"]


def test_writer_output_is_deterministic(tmp_path: Path) -> None:
    records = [make_input("m", metadata={f"k{i}": i for i in range(30)})]
    write_archive(tmp_path / "a.zip", records)
    write_archive(tmp_path / "b.zip", records)
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_writer_refuses_a_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a folder"):
        ArchiveWriter(tmp_path)


def test_add_serialized_matches_add(tmp_path: Path) -> None:
    records = _records(7)
    with ArchiveWriter(tmp_path / "a.zip", batch_size=3) as writer:
        for r in records:
            writer.add_serialized(r.SerializeToString())
    with ArchiveReader(tmp_path / "a.zip") as reader:
        assert list(reader.iter_inputs()) == records
    assert (
        InputBatch.FromString(encode_batch(r.SerializeToString() for r in records)).inputs[:]
        == records
    )


def test_empty_archive(tmp_path: Path) -> None:
    path = tmp_path / "empty.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", b"application/x.clarifai-data+protobuf")
    # Read as empty by default (the toolkit writes such archives with --allow-empty) ...
    with ArchiveReader(path) as reader:
        assert reader.entries == [] and list(reader.iter_inputs()) == []
    # ... refused on request.
    with pytest.raises(EmptyArchiveError, match="holds no inputs"):
        ArchiveReader(path, allow_empty=False)
    only_empty_batches = tmp_path / "empty2.zip"
    with zipfile.ZipFile(only_empty_batches, "w") as zf:
        zf.writestr("mimetype", b"application/x.clarifai-data+protobuf")
        zf.writestr("all/x_n0", b"")
    with ArchiveReader(only_empty_batches) as reader:
        assert list(reader.iter_inputs()) == []
    with (
        ArchiveReader(only_empty_batches, allow_empty=False) as reader,
        pytest.raises(EmptyArchiveError),
    ):
        list(reader.iter_inputs())
    # A zip without the mimetype entry (an SDK export that failed) is not an empty export.
    bare = tmp_path / "bare.zip"
    zipfile.ZipFile(bare, "w").close()
    with pytest.raises(ArchiveError, match="no 'mimetype' entry"):
        ArchiveReader(bare)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not a zip archive"),
        ({}, "no 'mimetype' entry"),
        ({"mimetype": b"application/zip"}, "unknown mimetype 'application/zip'"),
    ],
)
def test_bad_archives(tmp_path: Path, content, message) -> None:
    path = tmp_path / "bad.zip"
    if content is None:
        path.write_bytes(b"this is not a zip file at all")
    else:
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in content.items():
                zf.writestr(name, data)
            zf.writestr("all/x_n1", b"")
    with pytest.raises(ArchiveError, match=message):
        ArchiveReader(path)


def test_damaged_entry_is_named(tmp_path: Path) -> None:
    path = tmp_path / "damaged.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", b"application/x.clarifai-data+protobuf")
        zf.writestr("all/good_n1", InputBatch(inputs=_records(1)).SerializeToString())
        zf.writestr("all/bad_n1", b"\x0a\xff\xff\xff\x0f garbage")
    with ArchiveReader(path) as reader:
        it = reader.iter_inputs()
        assert next(it).id == "id-000"
        with pytest.raises(ArchiveError, match="entry 'all/bad_n1' is not a readable InputBatch"):
            next(it)


def test_truncated_archive(tmp_path: Path, make_archive) -> None:
    source = make_archive(_records(50), batch_size=10)
    data = source.read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArchiveError, match="not a zip archive"):
        ArchiveReader(cut)


def test_sample_archives_agree(sample_archive, sample_json_archive) -> None:
    with ArchiveReader(sample_archive) as a, ArchiveReader(sample_json_archive) as b:
        assert list(a.iter_inputs()) == list(b.iter_inputs())


def test_abort_lets_go_of_a_zip_an_interruption_left_mid_entry(tmp_path: Path) -> None:
    """A signal inside zipfile's entry writing leaves its writing handle open: close()
    refuses, and zipfile used to print "Exception ignored ... ValueError" when the object
    was collected at exit. abort() must leave nothing to close and no file behind."""
    import gc
    import sys

    out = tmp_path / "out.zip"
    writer = ArchiveWriter(out)
    handle = writer._zip.open("half-written", "w")
    handle.write(b"partial")
    unraisable: list[object] = []
    previous = sys.unraisablehook
    sys.unraisablehook = unraisable.append
    # As at exit after an interrupt: the zip and its handle are garbage together (the
    # handle is held by a cycle, as by a traceback's frames), and the zip, the older of
    # the two, is finalized first.
    handle.cycle = handle
    try:
        writer.abort()
        del writer, handle
        gc.collect()
    finally:
        sys.unraisablehook = previous
    assert unraisable == []
    assert list(tmp_path.iterdir()) == []
