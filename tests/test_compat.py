"""Wire compatibility with the real thing: clarifai-grpc's classes and the clarifai SDK reader."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from google.protobuf import json_format

from toolkit.archive import ArchiveReader, write_archive
from toolkit.unknown import find_unknown_fields

grpc = pytest.importorskip("clarifai_grpc.grpc.api.resources_pb2")


def _grpc_inputs() -> list:
    """Inputs built with Clarifai's own classes, with the fields a real export carries."""
    records = []
    for n in range(5):
        record = grpc.Input(id=f"in-{n}", dataset_ids=["ds"])
        record.created_at.seconds = 1_700_000_000 + n
        data = record.data
        data.image.base64 = bytes([n]) * 10
        data.image.image_info.width, data.image.image_info.height = 640, 480
        data.image.hosted.prefix = "https://data.clarifai.com"
        data.image.hosted.suffix = f"users/u/apps/a/inputs/image/{n}"
        data.image.hosted.sizes.extend(["orig", "small"])
        data.concepts.add(id="cat", name="Cat", value=1.0, app_id="app")
        data.concepts.add(id="dog", name="Dog", value=0.0)
        data.metadata.update({"frame": 12, "nested": {"a": [1, "b", True, None]}})
        emb = data.embeddings.add(num_dimensions=3)
        emb.vector.extend([0.1 * n, -2.5, 3.25])
        region = data.regions.add(id=f"r{n}", value=0.9, track_id="t")
        box = region.region_info.bounding_box
        box.top_row, box.left_col, box.bottom_row, box.right_col = 0.0, 0.1, 0.5, 0.75
        region.data.concepts.add(id="cat", name="Cat", value=1.0)
        poly = data.regions.add(id=f"p{n}")
        for row, col in ((0.1, 0.0), (0.2, 0.3), (0.5, 0.4)):
            poly.region_info.polygon.points.add(row=row, col=col)
        point = data.regions.add(id=f"k{n}").region_info.point
        point.row, point.col, point.visibility = 0.4, 0.0, grpc.Point.VISIBLE
        # Fields the hand-picked schema of old left out (JSON lost them).
        data.geo.geo_point.longitude = 1.5
        data.colors.add(raw_hex="#ffffff", value=0.5)
        record.status.code = 10000
        data.image.allow_duplicate_url = True
        data.image.image_info.mode = "RGB"
        text_region = data.regions.add(id=f"s{n}")
        text_region.region_info.span.char_start = 0
        text_region.region_info.span.char_end = 5
        text_region.region_info.span.raw_text = "hello"
        text_region.data.concepts.add(id="greeting", value=1.0)
        records.append(record)
    video = grpc.Input(id="vid")
    video.data.video.url = "https://example.com/v.mp4"
    video.data.video.video_info.fps = 29.97
    video.data.video.thumbnail_url = "https://example.com/v.jpg"
    frame = video.data.frames.add(id="f0")
    frame.frame_info.index, frame.frame_info.time = 3, 1500
    frame.data.regions.add(id="fr").data.concepts.add(id="car", value=1.0)
    records.append(video)
    text = grpc.Input(id="txt")
    text.data.text.raw = "hello"
    records.append(text)
    return records


def _write_with_grpc(path: Path, records: list) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", b"application/x.clarifai-data+protobuf", zipfile.ZIP_STORED)
        zf.writestr("all/", b"")  # a directory entry, as some zips carry
        batch = grpc.InputBatch(inputs=records[:3])
        zf.writestr("all/whatever-name_n3", batch.SerializeToString())
        batch = grpc.InputBatch(inputs=records[3:])
        zf.writestr("all/another_n4", batch.SerializeToString(), zipfile.ZIP_STORED)


def test_archive_written_by_grpc_reads_field_for_field(tmp_path: Path) -> None:
    records = _grpc_inputs()
    path = tmp_path / "grpc.zip"
    _write_with_grpc(path, records)
    with ArchiveReader(path) as reader:
        ours = list(reader.iter_inputs())
    assert [r.id for r in ours] == [r.id for r in records]
    for mine, theirs in zip(ours, records, strict=True):
        # Same bytes on the wire, unknown fields included.
        assert grpc.Input.FromString(mine.SerializeToString()) == theirs
        # Every field modelled: the same JSON as clarifai-grpc's, nothing left unknown.
        assert json_format.MessageToDict(
            mine, preserving_proto_field_name=True
        ) == json_format.MessageToDict(theirs, preserving_proto_field_name=True)
        assert find_unknown_fields(mine) == set()
    first = ours[0]
    assert first.data.regions[0].region_info.bounding_box.top_row == 0.0
    assert first.data.regions[2].region_info.point.col == 0.0
    assert first.data.concepts[1].value == 0.0
    assert first.data.metadata["frame"] == 12.0


def test_rewrite_keeps_unknown_fields(tmp_path: Path) -> None:
    """Fields of a Clarifai newer than the pinned one (unknown to clarifai-grpc too)."""
    records = _grpc_inputs()
    records[0].data.MergeFromString(b"\x98\x06\x01")  # Data field 99
    records[1].data.image.image_info.MergeFromString(b"\xd2\x02\x01x")  # ImageInfo 42
    source = tmp_path / "grpc.zip"
    _write_with_grpc(source, records)
    copy = tmp_path / "copy.zip"
    with ArchiveReader(source) as reader:
        write_archive(copy, reader.iter_inputs(), batch_size=2)
    with ArchiveReader(copy) as reader:
        again = [grpc.Input.FromString(r.SerializeToString()) for r in reader.iter_inputs()]
    assert again == records
    # deterministic=True: protobuf writes map entries (Struct fields) in hash order otherwise,
    # which differs between runs.
    assert [r.SerializeToString(deterministic=True) for r in again] == [
        r.SerializeToString(deterministic=True) for r in records
    ]
    assert again[0].data.geo.geo_point.longitude == 1.5
    assert again[0].status.code == 10000


def test_our_archive_reads_with_grpc_classes_and_sdk_reader(tmp_path: Path) -> None:
    sdk = pytest.importorskip("clarifai.datasets.export.inputs_annotations")
    records = [grpc.Input.FromString(r.SerializeToString()) for r in _grpc_inputs()]
    path = tmp_path / "ours.zip"
    from toolkit.messages import Input

    write_archive(path, (Input.FromString(r.SerializeToString()) for r in records), batch_size=3)
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        assert infos[0].filename == "mimetype" and infos[0].compress_type == zipfile.ZIP_STORED
        names = [i.filename for i in infos[1:]]
        assert names == [
            "all/input-batch-000000_n3",
            "all/input-batch-000001_n3",
            "all/input-batch-000002_n1",
        ]
        parsed = [grpc.InputBatch.FromString(zf.read(n)) for n in names]
    assert [i for b in parsed for i in b.inputs] == records
    reader = sdk.DatasetExportReader(local_archive_path=str(path))
    try:
        assert len(reader) == len(records)
        assert list(reader) == records
        assert reader.split_dir == "all"
    finally:
        reader.close()


def test_sample_archives_read_by_sdk(sample_archive: Path, sample_hosted_archive: Path) -> None:
    sdk = pytest.importorskip("clarifai.datasets.export.inputs_annotations")
    for path in (sample_archive, sample_hosted_archive):
        reader = sdk.DatasetExportReader(local_archive_path=str(path))
        try:
            ids = [r.id for r in reader]
            assert len(reader) == len(ids) == 31
        finally:
            reader.close()


# -- every JSON view gives clarifai-grpc's JSON ---------------------------------------------


def _every_json_view(tmp_path: Path, archive: Path, ids: list[str]) -> dict[str, list]:
    """Each input as `inputs get`, `inputs list --json`, `convert --to jsonl|json` print it."""
    from click.testing import CliRunner

    from toolkit.cli import cli

    runner = CliRunner()
    views: dict[str, list] = {"get": []}
    for input_id in ids:
        result = runner.invoke(cli, ["inputs", "get", str(archive), input_id])
        assert result.exit_code == 0, result.output
        views["get"].append(json.loads(result.stdout))
    result = runner.invoke(cli, ["inputs", "list", str(archive), "--json", "--per-page", "1000"])
    assert result.exit_code == 0, result.output
    views["list"] = [json.loads(line) for line in result.stdout.splitlines()]
    out = tmp_path / "out.jsonl"
    result = runner.invoke(cli, ["convert", str(archive), "--to", "jsonl", "-o", str(out)])
    assert result.exit_code == 0, result.output
    views["jsonl"] = [json.loads(line) for line in out.read_text().splitlines()]
    out = tmp_path / "out.zip"
    result = runner.invoke(cli, ["convert", str(archive), "--to", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as zf:
        views["json"] = [
            item for name in zf.namelist()[1:] for item in json.loads(zf.read(name))["inputs"]
        ]
    return views


def test_every_json_view_is_clarifai_grpcs_json(tmp_path: Path) -> None:
    """Archives written with clarifai-grpc, every field Clarifai defines filled: the JSON
    views give exactly json_format.MessageToDict(preserving_proto_field_name=True)."""
    from schema_helpers import every_field_inputs

    records = _grpc_inputs() + every_field_inputs(grpc.Input)
    path = tmp_path / "grpc.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", b"application/x.clarifai-data+protobuf")
        for start in range(0, len(records), 40):
            batch = grpc.InputBatch(inputs=records[start : start + 40])
            zf.writestr(f"all/part-{start}_n{len(batch.inputs)}", batch.SerializeToString())
    want = [json_format.MessageToDict(r, preserving_proto_field_name=True) for r in records]
    video = next(w for w in want if w["id"] == "vid")
    assert video["data"]["video"]["thumbnail_url"] == "https://example.com/v.jpg"
    first = want[0]["data"]
    assert first["image"]["allow_duplicate_url"] is True
    assert first["image"]["image_info"]["mode"] == "RGB"
    assert first["regions"][3]["region_info"]["span"] == {"char_end": 5, "raw_text": "hello"}
    views = _every_json_view(tmp_path, path, [r.id for r in records])
    for name, got in views.items():
        assert len(got) == len(want), name
        for mine, theirs in zip(got, want, strict=True):
            assert mine == theirs, (name, theirs["id"])


def test_json_views_warn_about_fields_no_schema_knows(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from toolkit.cli import cli

    records = _grpc_inputs()[:3]
    records[0].data.MergeFromString(b"\x98\x06\x01")  # Data field 99
    records[1].data.image.MergeFromString(b"\xd2\x02\x01x")  # Image field 42
    path = tmp_path / "future.zip"
    _write_with_grpc(path, records)
    warning = (
        "Warning: 2 inputs (e.g. 'in-0', 'in-1') carry fields this schema does not know "
        "(Data field 99, Image field 42); JSON output leaves them out, protobuf output "
        "keeps them\n"
    )
    runner = CliRunner()
    result = runner.invoke(cli, ["inputs", "list", str(path), "--json"])
    assert result.exit_code == 0 and result.stderr == warning
    result = runner.invoke(cli, ["-q", "convert", str(path), "--to", "jsonl", "-o", "-"])
    assert result.exit_code == 0 and result.stderr == warning
    assert len(result.stdout.splitlines()) == 3
    result = runner.invoke(cli, ["inputs", "get", str(path), "in-0"])
    assert result.exit_code == 0
    assert result.stderr == (
        "Warning: 1 input (e.g. 'in-0') carries fields this schema does not know "
        "(Data field 99); JSON output leaves them out, protobuf output keeps them\n"
    )
    result = runner.invoke(cli, ["inputs", "get", str(path), "in-2"])
    assert result.exit_code == 0 and result.stderr == ""
    out = tmp_path / "p.zip"
    result = runner.invoke(cli, ["convert", str(path), "--to", "protobuf", "-o", str(out)])
    assert result.exit_code == 0 and "Warning" not in result.stderr


def test_catalog_views_warn_about_fields_no_schema_knows(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from toolkit.cli import cli

    records = _grpc_inputs()[:2]
    records[1].data.MergeFromString(b"\x98\x06\x01")  # Data field 99
    path = tmp_path / "future.zip"
    _write_with_grpc(path, records)
    runner = CliRunner()
    home = ["--home", str(tmp_path / "home")]
    result = runner.invoke(cli, [*home, "-q", "datasets", "add", str(path), "--dataset", "f"])
    assert result.exit_code == 0, result.output
    warning = (
        "Warning: 1 input (e.g. 'in-1') carries fields this schema does not know "
        "(Data field 99); JSON output leaves them out, protobuf output keeps them\n"
    )
    out = tmp_path / "f.jsonl"
    result = runner.invoke(cli, [*home, "datasets", "export", "f", "--to", "jsonl", "-o", str(out)])
    assert result.exit_code == 0 and result.stderr == warning
    result = runner.invoke(cli, [*home, "inputs", "get", "f", "in-1"])
    assert result.exit_code == 0 and result.stderr == warning
    assert json.loads(result.stdout) == json_format.MessageToDict(
        records[1], preserving_proto_field_name=True
    )
