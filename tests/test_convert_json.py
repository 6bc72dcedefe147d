"""convert --to json, jsonl and protobuf; what every format shares (sources, outputs)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from convert_helpers import varied_inputs, write_raw_archive
from google.protobuf import json_format

from toolkit.archive import ArchiveReader, write_archive
from toolkit.convert import FORMATS, ConvertReport, convert_archives
from toolkit.errors import ArchiveError, ConflictError, EmptyArchiveError, OutputError
from toolkit.messages import Input, InputBatch

grpc = pytest.importorskip("clarifai_grpc.grpc.api.resources_pb2")


def _with_unknown_fields(records: list[Input]) -> list[Input]:
    """The same inputs, the first two carrying fields no schema knows (a Clarifai newer
    than the pinned one): Data field 99, and Image field 42 on the first."""
    out = []
    for n, record in enumerate(records):
        copy = Input.FromString(record.SerializeToString())
        if n < 2:
            copy.data.MergeFromString(b"\x98\x06\x01")  # field 99, varint 1
        if n == 0:
            copy.data.image.MergeFromString(b"\xd2\x02\x01x")  # field 42, bytes "x"
        out.append(copy)
    return out


def _wire(message) -> bytes:
    return message.SerializeToString(deterministic=True)


# -- json ---------------------------------------------------------------------------------


def test_json_entries_parse_back_to_the_source_batches(make_archive, tmp_path: Path) -> None:
    records = varied_inputs(12)
    source = make_archive(records, batch_size=5)
    out = tmp_path / "out.zip"
    report = convert_archives([source], out, to="json", batch_size=5)
    assert (report.inputs, report.written, report.batches) == (12, 12, 3)
    with zipfile.ZipFile(out) as zf:
        infos = zf.infolist()
        assert infos[0].filename == "mimetype"
        assert zf.read("mimetype") == b"application/x.clarifai-data+json"
        names = [i.filename for i in infos[1:]]
        assert names == [
            "all/input-batch-000000_n5",
            "all/input-batch-000001_n5",
            "all/input-batch-000002_n2",
        ]
        for n, name in enumerate(names):
            text = zf.read(name)
            expected = InputBatch(inputs=records[5 * n : 5 * n + 5])
            ours = InputBatch()
            json_format.Parse(text, ours)
            assert _wire(ours) == _wire(expected)  # every field, floats bit-exact
            official = grpc.InputBatch()
            json_format.Parse(text, official)
            assert _wire(official) == _wire(expected)
            body = json.loads(text)
            assert "image_info" in json.dumps(body)  # proto field names, not imageInfo
            assert body == json_format.MessageToDict(expected, preserving_proto_field_name=True)
    with ArchiveReader(out) as reader:
        assert reader.flavour == "json"
        assert [_wire(r) for r in reader.iter_inputs()] == [_wire(r) for r in records]


def test_json_of_the_sample_equals_the_sample_json_archive(
    sample_archive, sample_json_archive, tmp_path: Path
) -> None:
    out = tmp_path / "sample.zip"
    convert_archives([sample_archive], out, to="json")
    with ArchiveReader(out) as ours, ArchiveReader(sample_json_archive) as theirs:
        assert [_wire(r) for r in ours.iter_inputs()] == [_wire(r) for r in theirs.iter_inputs()]
    again = tmp_path / "again.zip"
    convert_archives([sample_archive], again, to="json")
    assert again.read_bytes() == out.read_bytes()  # deterministic


def test_json_reports_unknown_fields(make_archive, tmp_path: Path) -> None:
    records = _with_unknown_fields(varied_inputs(4))
    source = make_archive(records)
    report = convert_archives([source], tmp_path / "o.zip", to="json")
    assert report.unknown_field_inputs == 2
    assert report.unknown_field_examples == ("in-000", "in-001")
    assert report.unknown_fields == ("Data field 99", "Image field 42")
    assert json.loads(json.dumps(report.to_dict()))["unknown_fields"] == [
        "Data field 99",
        "Image field 42",
    ]
    clean = convert_archives(
        [make_archive(varied_inputs(4), "c.zip")], tmp_path / "c-out.zip", to="json"
    )
    assert clean.unknown_field_inputs == 0 and clean.unknown_fields == ()


def test_fields_clarifai_defines_are_not_unknown(make_archive, tmp_path: Path) -> None:
    """geo, colors, status, allow_duplicate_url: Clarifai's own fields, modelled now."""
    records = []
    for record in varied_inputs(3):
        official = grpc.Input.FromString(record.SerializeToString())
        official.data.geo.geo_point.longitude = 1.5
        official.data.colors.add(raw_hex="#ffffff", value=0.5)
        official.status.code = 10000
        official.data.image.allow_duplicate_url = True
        records.append(Input.FromString(official.SerializeToString()))
    out = tmp_path / "o.jsonl"
    report = convert_archives([make_archive(records)], out, to="jsonl")
    assert report.unknown_field_inputs == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0]["status"] == {"code": "SUCCESS"}
    assert lines[0]["data"]["colors"] == [{"raw_hex": "#ffffff", "value": 0.5}]


def test_json_split_and_several_sources_in_order(make_archive, tmp_path: Path) -> None:
    first = make_archive(varied_inputs(3), "a.zip")
    second = make_archive([Input(id="z-1"), Input(id="a-2")], "b.zip")
    out = tmp_path / "out.zip"
    report = convert_archives([first, second], out, to="json", split="train", batch_size=2)
    assert report.sources == (str(first), str(second)) and report.inputs == 5
    with ArchiveReader(out) as reader:
        assert [e.split for e in reader.entries] == ["train"] * 3
        assert [r.id for r in reader.iter_inputs()] == ["in-000", "in-001", "in-002", "z-1", "a-2"]


# -- jsonl --------------------------------------------------------------------------------


def test_jsonl_one_input_a_line(make_archive, tmp_path: Path) -> None:
    records = varied_inputs(7)
    source = make_archive(records, batch_size=3)
    out = tmp_path / "inputs.jsonl"
    report = convert_archives([source], out, to="jsonl")
    assert report.written == 7
    data = out.read_bytes()
    assert data.endswith(b"\n") and data.count(b"\n") == 7
    for line, record in zip(data.splitlines(), records, strict=True):
        assert json.loads(line) == json_format.MessageToDict(
            record, preserving_proto_field_name=True
        )
        official = grpc.Input()
        json_format.Parse(line, official)
        assert _wire(official) == _wire(record)
    assert "✓".encode() in data  # UTF-8, not \u escapes


def test_jsonl_to_a_stream(make_archive) -> None:
    import io

    stream = io.BytesIO()
    report = convert_archives([make_archive(varied_inputs(2))], stream, to="jsonl")
    assert report.output == "-"
    assert [json.loads(x)["id"] for x in stream.getvalue().splitlines()] == ["in-000", "in-001"]
    with pytest.raises(ValueError, match="needs an output path"):
        convert_archives([make_archive(varied_inputs(1), "x.zip")], io.BytesIO(), to="json")


# -- protobuf -----------------------------------------------------------------------------


def test_protobuf_rewrite_keeps_unknown_fields_and_reads_with_the_sdk(
    tmp_path: Path,
) -> None:
    sdk = pytest.importorskip("clarifai.datasets.export.inputs_annotations")
    records = _with_unknown_fields(varied_inputs(7))
    batches = [
        InputBatch(inputs=records[:4]).SerializeToString(),
        InputBatch(inputs=records[4:]).SerializeToString(),
    ]
    source = write_raw_archive(tmp_path / "odd-names.zip", batches, ["x/weird_n4", "x/other"])
    out = tmp_path / "rewritten.zip"
    report = convert_archives([source], out, to="protobuf", batch_size=3, split="train")
    assert report.written == 7 and report.unknown_field_inputs == 0  # not checked: kept
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert names == [
            "mimetype",
            "train/input-batch-000000_n3",
            "train/input-batch-000001_n3",
            "train/input-batch-000002_n1",
        ]
        got = [r for n in names[1:] for r in grpc.InputBatch.FromString(zf.read(n)).inputs]
    assert got == [grpc.Input.FromString(r.SerializeToString()) for r in records]
    # The unknown fields, byte for byte (clarifai-grpc keeps them as unknown too).
    assert got[0].data.SerializeToString().endswith(b"\x98\x06\x01")
    assert b"\xd2\x02\x01x" in got[0].data.image.SerializeToString()
    reader = sdk.DatasetExportReader(local_archive_path=str(out))
    try:
        assert len(reader) == 7 and reader.split_dir == "train"
        assert [r.id for r in reader] == [r.id for r in records]
    finally:
        reader.close()


def test_json_source_to_protobuf(sample_json_archive, sample_archive, tmp_path: Path) -> None:
    out = tmp_path / "p.zip"
    convert_archives([sample_json_archive], out, to="protobuf")
    with ArchiveReader(out) as ours, ArchiveReader(sample_archive) as theirs:
        assert ours.flavour == "protobuf"
        assert [_wire(r) for r in ours.iter_inputs()] == [_wire(r) for r in theirs.iter_inputs()]


# -- sources and outputs, every format --------------------------------------------------------


@pytest.mark.parametrize("to", ["json", "jsonl", "protobuf", "sdk", "coco"])
def test_repeated_id_across_archives_is_a_conflict(make_archive, tmp_path: Path, to) -> None:
    a = make_archive([Input(id="one"), Input(id="same")], "a.zip")
    b = make_archive([Input(id="same")], "b.zip")
    out = tmp_path / ("out" if to == "coco" else "out.zip")
    with pytest.raises(ConflictError, match=r"'same' is in both .*a\.zip and .*b\.zip.*merge"):
        convert_archives([a, b], out, to=to)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.zip", "b.zip"]


def test_repeated_id_in_one_archive(make_archive, tmp_path: Path) -> None:
    a = make_archive([Input(id="x"), Input(id="y"), Input(id="x")], "dup.zip", batch_size=2)
    with pytest.raises(ConflictError, match=r"dup\.zip: input id 'x' appears twice"):
        convert_archives([a], tmp_path / "o.jsonl", to="jsonl")


@pytest.mark.parametrize("to", sorted(FORMATS))
def test_no_output_when_a_later_entry_is_damaged(tmp_path: Path, to: str) -> None:
    good = InputBatch(inputs=varied_inputs(3)).SerializeToString()
    source = write_raw_archive(
        tmp_path / "damaged.zip", [good, good[:-3] + b"\xff\xff\xff"], ["all/a_n3", "all/b_n3"]
    )
    folder = FORMATS[to].output_kind == "folder"
    # A file a folder output of that format holds (so it may be replaced without --force).
    old_name = {"parquet": "part-00000.parquet", "yolo": "data.yaml", "voc": "report.json"}.get(
        to, "annotations.json"
    )
    out = tmp_path / (to if folder else f"out.{to}")
    if folder:
        out.mkdir()
        (out / old_name).write_text("old")
    else:
        out.write_bytes(b"old output")
    with pytest.raises(ArchiveError, match="entry 'all/b_n3'"):
        convert_archives(
            [source], out, to=to, media="embedded" if FORMATS[to].supports_media else "none"
        )
    # The old output is untouched and nothing else was left behind.
    if folder:
        assert sorted(p.name for p in out.iterdir()) == [old_name]
        assert (out / old_name).read_text() == "old"
    else:
        assert out.read_bytes() == b"old output"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["damaged.zip", out.name])


@pytest.mark.parametrize("to", sorted(FORMATS))
def test_refuses_to_write_onto_a_source(make_archive, tmp_path: Path, to: str) -> None:
    source = make_archive(varied_inputs(2))
    before = source.read_bytes()
    with pytest.raises(OutputError, match="source"):
        convert_archives([source], source, to=to)
    assert source.read_bytes() == before


def test_refuses_a_folder_holding_the_source_or_other_files(make_archive, tmp_path: Path) -> None:
    source = make_archive(varied_inputs(2))
    with pytest.raises(OutputError, match="holds the source archive"):
        convert_archives([source], tmp_path, to="coco")
    other = tmp_path / "mine"
    other.mkdir()
    (other / "thesis.txt").write_text("precious")
    with pytest.raises(
        OutputError, match=r"holds files a conversion did not write \('thesis.txt'\)"
    ):
        convert_archives([source], other, to="coco")
    assert (other / "thesis.txt").read_text() == "precious"
    convert_archives([source], other, to="coco", force=True)
    assert sorted(p.name for p in other.iterdir()) == ["annotations.json", "person_keypoints.json"]
    with pytest.raises(OutputError, match="is a folder"):
        convert_archives([source], other, to="jsonl")
    a_file = tmp_path / "x.txt"
    a_file.write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        convert_archives([source], a_file, to="coco")


def test_bad_sources(tmp_path: Path) -> None:
    not_zip = tmp_path / "a.zip"
    not_zip.write_bytes(b"not a zip")
    with pytest.raises(ArchiveError, match="not a zip archive"):
        convert_archives([not_zip], tmp_path / "o.jsonl", to="jsonl")
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("mimetype", b"application/x.clarifai-data+protobuf")
    with pytest.raises(EmptyArchiveError):
        convert_archives([empty], tmp_path / "o.jsonl", to="jsonl")
    only_empty = write_raw_archive(tmp_path / "e2.zip", [b""], ["all/x_n0"])
    with pytest.raises(EmptyArchiveError, match="holds no inputs"):
        convert_archives([only_empty], tmp_path / "o.jsonl", to="jsonl")
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"to": "yaml"}, "unknown format 'yaml'"),
        (
            {"to": "json", "media": "embedded"},
            "media applies to to='coco', 'yolo', 'voc' and 'sdk'",
        ),
        ({"to": "coco", "media": "all"}, "media must be one of"),
        ({"to": "coco", "png": True, "media": "embedded"}, "png applies to to='sdk'"),
        ({"to": "sdk", "video_frames": True}, "video_frames applies to to='coco'"),
        ({"to": "json", "split": "../up"}, "bad split name"),
        ({"to": "json", "split": "/abs"}, "bad split name"),
        ({"to": "json", "batch_size": 0}, "at least 1"),
    ],
)
def test_bad_options(make_archive, tmp_path: Path, options, message) -> None:
    source = make_archive(varied_inputs(1))
    with pytest.raises(ValueError, match=message):
        convert_archives([source], tmp_path / "o", **options)


def test_report_to_dict_is_json(make_archive, tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    report = convert_archives(
        [make_archive(varied_inputs(5))], tmp_path / "coco", to="coco", report_path=report_path
    )
    assert isinstance(report, ConvertReport)
    saved = json.loads(report_path.read_text())
    assert saved == json.loads(json.dumps(report.to_dict()))
    assert saved["format"] == "coco" and saved["skipped_inputs"] == {"text": 1, "video": 1}


def test_sources_are_never_modified(make_archive, tmp_path: Path) -> None:
    source = make_archive(varied_inputs(6))
    before = source.read_bytes()
    for to in sorted(FORMATS):
        out = tmp_path / f"out-{to}"
        convert_archives(
            [source], out, to=to, media="embedded" if to in ("coco", "sdk") else "none"
        )
    assert source.read_bytes() == before


@pytest.mark.parametrize("to", sorted(FORMATS))
def test_memory_does_not_grow_with_the_archive(
    make_archive, tmp_path: Path, to: str, monkeypatch
) -> None:
    """Peak Python memory for 10x the inputs stays about the same (one batch at a time)."""
    import tracemalloc

    # Parquet gathers a row group (up to 16k rows or 32 MiB) before writing it, and up to
    # 16 batch entries for the C reader to read in one call: bounded, but more than these
    # archives hold. Groups of 20 rows and single entries show that nothing else grows.
    monkeypatch.setattr("toolkit.tabular.parquet._GROUP_ROWS", 20)
    monkeypatch.setattr("toolkit.convert._parquet_impl.GROUP_ENTRIES", 1)

    import numpy as np

    def records(n: int) -> list[Input]:
        out = []
        for i in range(n):
            record = Input(id=f"m-{i:05d}")
            record.data.image.url = f"https://example.com/{i}.jpg"
            record.data.image.image_info.width = record.data.image.image_info.height = 100
            record.data.embeddings.add(vector=np.full(512, i, np.float32), num_dimensions=512)
            region = record.data.regions.add(id=f"r{i}")
            region.region_info.bounding_box.bottom_row = 0.5
            region.data.concepts.add(id="c", value=1.0)
            out.append(record)
        return out

    peaks = []
    for n in (60, 600):
        source = make_archive(records(n), f"mem-{n}.zip", batch_size=20)
        tracemalloc.start()
        convert_archives([source], tmp_path / f"out-{to}-{n}", to=to, batch_size=20)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # 10x the inputs: the id set grows a little, nothing else; an sdk zip has one entry
    # per input, and zipfile keeps each entry's directory record (under 1 KB) until closing.
    allowance = 200_000 + (540 * 1000 if to == "sdk" else 0)
    assert peaks[1] < 1.5 * peaks[0] + allowance, peaks


def test_write_archive_helper_is_the_same_as_protobuf_convert(make_archive, tmp_path: Path) -> None:
    records = varied_inputs(5)
    a = tmp_path / "a.zip"
    write_archive(a, records, batch_size=2)
    b = tmp_path / "b.zip"
    convert_archives(
        [make_archive(records, "src.zip", batch_size=4)], b, to="protobuf", batch_size=2
    )
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("to", sorted(FORMATS))
def test_interrupted_run_leaves_nothing(make_archive, tmp_path: Path, to: str) -> None:
    """Ctrl-C (or SIGTERM, which the CLI turns into it) half way: no output, no temp files."""
    source = make_archive(varied_inputs(30), batch_size=5)
    out = tmp_path / "out" / ("coco" if to == "coco" else f"o.{to}")
    out.parent.mkdir()
    calls = []

    def progress(n: int) -> None:
        calls.append(n)
        if len(calls) == 3:
            raise KeyboardInterrupt

    media = "embedded" if to in ("coco", "sdk") else "none"
    with pytest.raises(KeyboardInterrupt):
        convert_archives([source], out, to=to, media=media, progress=progress)
    assert list(out.parent.iterdir()) == []


@pytest.mark.parametrize("to", ["jsonl", "sdk"])
def test_unknown_fields_reported_for_jsonl_and_sdk(make_archive, tmp_path: Path, to) -> None:
    source = make_archive(_with_unknown_fields(varied_inputs(3)))
    report = convert_archives([source], tmp_path / f"o.{to}", to=to)
    assert report.unknown_field_inputs == 2
    assert report.unknown_fields == ("Data field 99", "Image field 42")
