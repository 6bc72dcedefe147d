"""convert --to sdk: the same zip as the Clarifai SDK's Dataset.export, offline."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from convert_helpers import jpeg_bytes, png_bytes, varied_inputs
from media_helpers import KEY, hosted_input, url_input
from media_server import MediaServer
from PIL import Image

from toolkit.convert import annotation_items, convert_archives
from toolkit.errors import MediaError
from toolkit.messages import Input

grpc = pytest.importorskip("clarifai_grpc.grpc.api.resources_pb2")
sdk_export = pytest.importorskip("clarifai.datasets.export.inputs_annotations")
requests = pytest.importorskip("requests")
FAST = {"backoff": 0.01, "max_backoff": 0.05, "seed": 7}


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Downloads retry after a short, seeded backoff (a private setting of the converters)."""
    import toolkit.convert._options as options

    monkeypatch.setattr(options, "_MEDIA_SINK_EXTRAS", FAST)


def _hosted_varied(server: MediaServer) -> list[Input]:
    """The varied inputs, with their media as hosted copies on the local server."""
    records = []
    for record in varied_inputs(8):
        data = record.data
        if data.HasField("image"):
            body = bytes(data.image.base64)
            data.image.ClearField("base64")
        elif data.HasField("text"):
            body = data.text.raw.encode()
            data.text.ClearField("raw")
        else:
            continue  # the SDK's video download is not part of this comparison
        kind = "image" if data.HasField("image") else "text"
        media = getattr(data, kind)
        media.hosted.prefix = server.origin
        media.hosted.suffix = f"{record.id}-file"
        media.hosted.sizes.extend(["orig", "small"])
        server.add(f"/orig/{record.id}-file", body)
        records.append(record)
    return records


def _sdk_export(records: list[Input], path: Path) -> None:
    """Clarifai's own export code, run on the same inputs against the local server."""
    session = requests.Session()
    session.headers.update({"Authorization": f"Key {KEY}"})
    official = [grpc.Input.FromString(r.SerializeToString()) for r in records]
    downloader = sdk_export.InputAnnotationDownloader(session, official, num_workers=4)
    downloader.download_archive(save_path=str(path), split="all")


def _read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def test_same_files_and_json_as_the_sdk(make_archive, tmp_path: Path) -> None:
    with MediaServer(key=KEY) as server:
        records = _hosted_varied(server)
        theirs_path = tmp_path / "sdk.zip"
        _sdk_export(records, theirs_path)
        ours_path = tmp_path / "ours.zip"
        report = convert_archives(
            [make_archive(records)],
            ours_path,
            to="sdk",
            media="download",
            pat=KEY,
            png=True,
        )
    theirs, ours = _read_zip(theirs_path), _read_zip(ours_path)
    assert sorted(ours) == sorted(theirs)
    assert any(name.endswith(".txt") for name in ours)
    for name, data in theirs.items():
        if name.endswith(".json"):
            assert json.loads(ours[name]) == json.loads(data), name
        elif name.endswith(".png"):
            assert np.array_equal(_pixels(ours[name]), _pixels(data)), name
        else:
            assert ours[name] == data, name
    assert report.annotation_files == sum(n.endswith(".json") for n in theirs)
    assert report.media is not None and report.media.written == len(records)
    # The items and key names are the SDK's (lowerCamelCase, boxes filled with zeros).
    items = json.loads(ours["all/annotations/in-000.json"])
    assert items[0]["metadata"]["i"] == 0.0
    assert items[1]["regionInfo"]["boundingBox"] == {
        "topRow": 0,
        "leftCol": 0.1,
        "bottomRow": 0.5,
        "rightCol": 0.75,
    }
    assert items[-2:] == [
        {"id": "cat", "name": "Cat", "value": 1.0, "appId": "app"},
        {"id": "dog", "name": "Dog"},  # a negative label: value 0 is left out, as protobuf does
    ]


def test_annotation_items_match_the_sdk_code_offline() -> None:
    """The SDK's own _save_annotation_to_archive input, built from MessageToDict."""
    from google.protobuf.json_format import MessageToDict

    for record in varied_inputs(10):
        official = grpc.Input.FromString(record.SerializeToString())
        data_dict = MessageToDict(official.data)
        expected = []
        if data_dict.get("metadata"):
            expected.append({"metadata": data_dict["metadata"]})
        expected.extend(data_dict.get("regions", []))
        expected.extend(data_dict.get("concepts", []))
        for annot in expected:
            if annot.get("regionInfo") and annot["regionInfo"].get("boundingBox"):
                for key in ("topRow", "leftCol", "bottomRow", "rightCol"):
                    annot["regionInfo"]["boundingBox"].setdefault(key, 0)
        assert annotation_items(record) == json.loads(json.dumps(expected))
    assert annotation_items(Input(id="bare")) is None


def test_real_extensions_urls_and_reported_failures(make_archive, tmp_path: Path) -> None:
    with MediaServer(key=KEY) as server:
        server.add("/orig/jpg", jpeg_bytes())
        server.add("/plain.png", png_bytes(), key=None)
        server.add("/orig/gone", b"", fail=[404] * 20)
        records = [
            hosted_input("a-jpeg", server.origin, "jpg"),
            url_input("by-url", server.url("/plain.png")),
            hosted_input("gone", server.origin, "gone"),
            Input(id="nothing"),
        ]
        records[0].data.concepts.add(id="c", value=1.0)
        source = make_archive(records)
        out = tmp_path / "export.zip"
        with pytest.raises(MediaError, match=r"'gone': HTTP 404"):
            convert_archives([source], out, to="sdk", media="download", pat=KEY, retries=0)
        assert not out.exists()
        kept = tmp_path / ".export.zip.media"
        assert sorted(p.name for p in kept.iterdir()) == ["a-jpeg.jpg", "by-url.png"]
        hits = server.hits("/orig/jpg")
        report = convert_archives(
            [source],
            out,
            to="sdk",
            media="download",
            pat=KEY,
            retries=0,
            allow_missing=True,
            split="train",
        )
        assert server.hits("/orig/jpg") == hits  # reused from the failed run
    names = sorted(_read_zip(out))
    assert names == [
        "train/annotations/a-jpeg.json",
        "train/inputs/a-jpeg.jpg",
        "train/inputs/by-url.png",
    ]
    assert report.media is not None and list(report.media.failed) == ["gone"]
    assert report.media.skipped_ids == ["nothing"]
    assert not kept.exists()  # folded into the zip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive.zip", "export.zip"]


def test_rerun_replaces_instead_of_appending(make_archive, tmp_path: Path) -> None:
    source = make_archive(varied_inputs(4))
    out = tmp_path / "export.zip"
    convert_archives([source], out, to="sdk", media="embedded")
    first = _read_zip(out)
    convert_archives([source], out, to="sdk", media="embedded")
    again = _read_zip(out)
    assert again == first
    with zipfile.ZipFile(out) as zf:
        assert len(zf.namelist()) == len(set(zf.namelist()))
    # Original bytes with their real extension; text as .txt; --png re-encodes.
    assert first["all/inputs/in-000.png"] == bytes(varied_inputs(1)[0].data.image.base64)
    assert first["all/inputs/in-003.txt"] == "text number 3 ✓".encode()
    convert_archives([source], out, to="sdk", media="embedded", png=True)
    assert sorted(n for n in _read_zip(out) if "inputs/" in n) == [
        "all/inputs/in-000.png",
        "all/inputs/in-001.png",
        "all/inputs/in-002.png",
        "all/inputs/in-003.txt",
    ]


def test_annotations_only_without_media(sample_archive, tmp_path: Path) -> None:
    out = tmp_path / "export.zip"
    report = convert_archives([sample_archive], out, to="sdk")
    names = sorted(_read_zip(out))
    assert len(names) == 31 and all(n.startswith("all/annotations/") for n in names)
    assert report.media is None and report.annotation_files == 31


def test_data_utils_style_reader_gets_the_boxes(sample_archive, tmp_path: Path) -> None:
    """What Clarifai's data-utils does with the layout: .png inputs, boxes from JSON by stem."""
    out = tmp_path / "export.zip"
    convert_archives([sample_archive], out, to="sdk", media="embedded", png=True)
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(folder)
    root = folder / "all"
    images = sorted((root / "inputs").iterdir())
    boxes = 0
    for image_path in images:
        if image_path.suffix != ".png":
            continue
        with Image.open(image_path) as image:
            width, height = image.size
        items = json.loads((root / "annotations" / (image_path.stem + ".json")).read_text())
        for annot in items:
            if "regionInfo" in annot and "boundingBox" in annot["regionInfo"]:
                b = annot["regionInfo"]["boundingBox"]
                x, w = b["leftCol"] * width, (b["rightCol"] - b["leftCol"]) * width
                assert 0 <= x and w > 0 and annot["data"]["concepts"][0]["name"]
                boxes += 1
    assert boxes == 37
