"""Wire compatibility with the real thing: clarifai-grpc's classes and the clarifai SDK reader."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from google.protobuf import json_format

from toolkit.archive import ArchiveReader, write_archive

grpc = pytest.importorskip("clarifai_grpc.grpc.api.resources_pb2")


def _grpc_inputs() -> list:
    """Inputs built with Clarifai's own classes, touching every field we model and some we don't."""
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
        # Fields the toolkit does not model: they must survive as unknown fields.
        data.geo.geo_point.longitude = 1.5
        data.colors.add(raw_hex="#ffffff", value=0.5)
        record.status.code = 10000
        data.image.allow_duplicate_url = True
        records.append(record)
    video = grpc.Input(id="vid")
    video.data.video.url = "https://example.com/v.mp4"
    video.data.video.video_info.fps = 29.97
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
        modelled = json_format.MessageToDict(mine, preserving_proto_field_name=True)
        full = json_format.MessageToDict(theirs, preserving_proto_field_name=True)
        _assert_subset(modelled, full)
    first = ours[0]
    assert first.data.regions[0].region_info.bounding_box.top_row == 0.0
    assert first.data.regions[2].region_info.point.col == 0.0
    assert first.data.concepts[1].value == 0.0
    assert first.data.metadata["frame"] == 12.0


def _assert_subset(small: object, big: object) -> None:
    if isinstance(small, dict):
        assert isinstance(big, dict)
        for key, value in small.items():
            assert key in big, key
            _assert_subset(value, big[key])
    elif isinstance(small, list):
        assert isinstance(big, list) and len(small) == len(big)
        for a, b in zip(small, big, strict=True):
            _assert_subset(a, b)
    else:
        assert small == big


def test_rewrite_keeps_unknown_fields(tmp_path: Path) -> None:
    records = _grpc_inputs()
    source = tmp_path / "grpc.zip"
    _write_with_grpc(source, records)
    copy = tmp_path / "copy.zip"
    with ArchiveReader(source) as reader:
        write_archive(copy, reader.iter_inputs(), batch_size=2)
    with ArchiveReader(copy) as reader:
        again = [grpc.Input.FromString(r.SerializeToString()) for r in reader.iter_inputs()]
    assert again == records
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
