"""convert --to yolo and --to voc, read back by readers written here (not the toolkit's
code), and by Datumaro's importers where Datumaro is installed."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from convert_helpers import png_bytes, varied_inputs
from PIL import Image

from toolkit.cli import cli
from toolkit.convert import convert_archives
from toolkit.errors import ArchiveError
from toolkit.messages import Input, Point
from toolkit.split import split_archive

approx = pytest.approx
HOSTILE = ['quote " back \\ amp & <tag>', "new\nline\ttab", "ctl \x01\x1f end", "é ✓ 😀 \u2028"]


# -- independent readers ------------------------------------------------------------------


def read_yolo(folder: Path) -> dict:
    """An Ultralytics-style reader: data.yaml, then labels/<split>/<stem>.txt beside
    images/<split>/<stem>.<ext> (as Ultralytics maps an image path to its label path)."""
    data = yaml.safe_load((folder / "data.yaml").read_text(encoding="ascii"))
    splits: dict[str, dict[str, list[tuple[int, list[float]]]]] = {}
    for label_dir in sorted((folder / "labels").iterdir()):
        rows_by_stem = {}
        for label in sorted(label_dir.glob("*.txt")):
            rows = []
            for line in label.read_text().splitlines():
                parts = line.split()
                values = [float(v) for v in parts[1:]]
                assert all(0.0 <= v <= 1.0 for v in values), line
                rows.append((int(parts[0]), values))
            rows_by_stem[label.stem] = rows
        splits[label_dir.name] = rows_by_stem
    return {"yaml": data, "splits": splits}


def read_voc(folder: Path) -> dict:
    """A Pascal VOC reader: ImageSets/Main/<split>.txt, then Annotations/<stem>.xml."""
    out: dict[str, dict[str, dict]] = {}
    for listing in sorted((folder / "ImageSets" / "Main").glob("*.txt")):
        split = {}
        for stem in listing.read_text(encoding="utf-8").splitlines():
            root = ET.parse(folder / "Annotations" / f"{stem}.xml").getroot()
            size = root.find("size")
            objects = []
            for obj in root.iter("object"):
                box = obj.find("bndbox")
                objects.append(
                    {
                        "name": obj.findtext("name"),
                        "truncated": int(obj.findtext("truncated")),
                        "difficult": int(obj.findtext("difficult")),
                        "box": tuple(
                            int(box.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")
                        ),
                    }
                )
            split[stem] = {
                "input_id": root.findtext("source/input_id"),
                "filename": root.findtext("filename"),
                "size": tuple(int(size.findtext(k)) for k in ("width", "height", "depth")),
                "objects": objects,
            }
        out[listing.stem] = split
    return out


# -- inputs -------------------------------------------------------------------------------


def _hand_input(input_id: str = "hand", *, info: bool = True) -> Input:
    """A 200 x 100 image: a box, a polygon, a box reaching past the image, a point."""
    record = Input(id=input_id)
    data = record.data
    data.image.base64 = png_bytes((200, 100))
    if info:
        data.image.image_info.width, data.image.image_info.height = 200, 100
    data.concepts.add(id="scene", name="Scene", value=1.0)  # input-level: no class
    box = data.regions.add(id="box")
    b = box.region_info.bounding_box
    b.top_row, b.left_col, b.bottom_row, b.right_col = 0.1, 0.2, 0.5, 0.7
    box.data.concepts.add(id="cat", name="Cat", value=1.0)
    box.data.concepts.add(id="dog", name="Dog", value=0.9)
    poly = data.regions.add(id="poly")
    for row, col in ((0.0, 0.0), (0.0, 0.5), (0.5, 0.5)):
        poly.region_info.polygon.points.add(row=row, col=col)
    poly.data.concepts.add(id="dog", name="Dog", value=1.0)
    out = data.regions.add(id="outside")
    o = out.region_info.bounding_box
    o.top_row, o.left_col, o.bottom_row, o.right_col = -0.2, 0.9, 0.3, 1.3
    out.data.concepts.add(id="cat", name="Cat", value=1.0)
    point = data.regions.add(id="point")
    point.region_info.point.row, point.region_info.point.col = 0.5, 0.5
    point.region_info.point.visibility = Point.VISIBLE
    point.data.concepts.add(id="nose", value=1.0)
    negative = data.regions.add(id="negative")
    negative.region_info.bounding_box.bottom_row = 1.0
    negative.data.concepts.add(id="cat", value=0.0)
    return record


def _text(input_id: str) -> Input:
    record = Input(id=input_id)
    record.data.text.raw = "words"
    return record


# -- YOLO -----------------------------------------------------------------------------------


def test_yolo_detect_hand_checked(make_archive, tmp_path: Path) -> None:
    source = make_archive([_hand_input(), _text("t")])
    out = tmp_path / "yolo"
    report = convert_archives([source], out, to="yolo", media="embedded")
    got = read_yolo(out)
    assert got["yaml"] == {
        "path": str(out.resolve()),
        "train": "images/train",
        "val": "images/train",
        "nc": 3,
        "names": {0: "Cat", 1: "Dog", 2: "nose"},
    }
    rows = got["splits"]["train"]["hand"]
    # box: cx = (0.2+0.7)/2, cy = (0.1+0.5)/2, w = 0.5, h = 0.4; one row per concept
    assert rows[0] == (0, approx([0.45, 0.3, 0.5, 0.4], abs=1e-6))
    assert rows[1] == (1, approx([0.45, 0.3, 0.5, 0.4], abs=1e-6))
    # polygon (0,0) (0.5,0) (0.5,0.5) in x,y: its extent
    assert rows[2] == (1, approx([0.25, 0.25, 0.5, 0.5], abs=1e-6))
    # clipped to [0.9, 1] x [0, 0.3]
    assert rows[3] == (0, approx([0.95, 0.15, 0.1, 0.3], abs=1e-6))
    assert len(rows) == 4
    # the image sits where Ultralytics looks for it
    (image,) = (out / "images" / "train").iterdir()
    assert image.name == "hand.png"
    with Image.open(image) as opened:
        assert opened.size == (200, 100)
    assert (report.images, report.annotations, report.categories) == (1, 4, 3)
    assert report.skipped_inputs == {"text": 1}
    assert report.regions_without_concept == 1 and report.regions_without_shape == 1


def test_yolo_segment_writes_polygons_and_box_corners(make_archive, tmp_path: Path) -> None:
    out = tmp_path / "yolo"
    convert_archives([make_archive([_hand_input()])], out, to="yolo", task="segment")
    rows = read_yolo(out)["splits"]["train"]["hand"]
    assert rows[0] == (0, approx([0.2, 0.1, 0.7, 0.1, 0.7, 0.5, 0.2, 0.5], abs=1e-6))
    assert rows[2] == (1, approx([0.0, 0.0, 0.5, 0.0, 0.5, 0.5], abs=1e-6))
    assert rows[3] == (0, approx([0.9, 0.0, 1.0, 0.0, 1.0, 0.3, 0.9, 0.3], abs=1e-6))
    # every row is a polygon, as Ultralytics needs to read a file as segments
    assert all(len(values) >= 6 and len(values) % 2 == 0 for _, values in rows)
    assert not (out / "images").exists()  # --media none: labels only


def test_yolo_and_voc_follow_split_tags(make_archive, tmp_path: Path) -> None:
    records = varied_inputs(20)
    source = make_archive(records)
    split_archive(
        source, tmp_path / "s", ratios={"train": 0.6, "val": 0.2, "test": 0.2}, seed=3, tag=True
    )
    parts = [tmp_path / "s" / f"{name}.zip" for name in ("train", "val", "test")]
    expected = {}
    for part in parts:
        import zipfile

        from toolkit.archive import ArchiveReader

        with ArchiveReader(part) as reader:
            expected[part.stem] = sorted(
                r.id for r in reader.iter_inputs() if r.data.HasField("image")
            )
        assert zipfile.is_zipfile(part)
    yolo = tmp_path / "yolo"
    convert_archives(parts, yolo, to="yolo", media="embedded")
    got = read_yolo(yolo)
    assert {k: sorted(v) for k, v in got["splits"].items()} == expected
    assert (got["yaml"]["train"], got["yaml"]["val"], got["yaml"]["test"]) == (
        "images/train",
        "images/val",
        "images/test",
    )
    for split, stems in expected.items():
        assert sorted(p.stem for p in (yolo / "images" / split).iterdir()) == stems
    voc = tmp_path / "voc"
    convert_archives(parts, voc, to="voc", media="embedded")
    assert {k: sorted(v) for k, v in read_voc(voc).items()} == expected


def test_yolo_names_survive_any_characters(make_archive, tmp_path: Path) -> None:
    record = Input(id="h")
    record.data.image.image_info.width = record.data.image.image_info.height = 10
    for i, name in enumerate(HOSTILE):
        region = record.data.regions.add(id=f"r{i}")
        region.region_info.bounding_box.bottom_row = region.region_info.bounding_box.right_col = 1
        region.data.concepts.add(id=f"c{i}", name=name, value=1.0)
    out = tmp_path / "yolo"
    convert_archives([make_archive([record])], out, to="yolo")
    assert read_yolo(out)["yaml"]["names"] == dict(enumerate(HOSTILE))


def test_yolo_bad_split_value_is_an_error(make_archive, tmp_path: Path) -> None:
    record = _hand_input()
    record.data.metadata.update({"split": "../escape"})
    with pytest.raises(ArchiveError, match=r"input 'hand': its metadata 'split' is '../escape'"):
        convert_archives([make_archive([record])], tmp_path / "y", to="yolo")
    assert not (tmp_path / "y").exists()


# -- VOC ------------------------------------------------------------------------------------


def test_voc_hand_checked(make_archive, tmp_path: Path) -> None:
    # the second image has no image_info: its size is read from the embedded PNG
    source = make_archive([_hand_input(), _hand_input("no-info", info=False), _text("t")])
    out = tmp_path / "voc"
    report = convert_archives([source], out, to="voc", media="embedded")
    got = read_voc(out)
    assert list(got) == ["train"] and list(got["train"]) == ["hand", "no-info"]
    for stem in ("hand", "no-info"):
        doc = got["train"][stem]
        assert doc["filename"] == f"{stem}.png" and (out / "JPEGImages" / doc["filename"]).is_file()
        assert doc["size"] == (200, 100, 3)
        # box: xmin = round(0.2*200)+1 = 41, ymin = 11, xmax = 140, ymax = 50 (1-based, inclusive)
        assert doc["objects"] == [
            {"name": "Cat", "truncated": 0, "difficult": 0, "box": (41, 11, 140, 50)},
            {"name": "Dog", "truncated": 0, "difficult": 0, "box": (41, 11, 140, 50)},
            {"name": "Dog", "truncated": 0, "difficult": 0, "box": (1, 1, 100, 50)},
            {"name": "Cat", "truncated": 1, "difficult": 0, "box": (181, 1, 200, 30)},
        ]
    assert (report.images, report.annotations) == (2, 8)
    # the label list Datumaro and CVAT read beside VOC
    assert (out / "labelmap.txt").read_text().splitlines() == [
        "# label:color_rgb:parts:actions",
        "Cat:::",
        "Dog:::",
    ]
    assert report.skipped_inputs == {"text": 1} and report.regions_without_shape == 2


def test_voc_names_are_escaped_and_sizes_unknown_are_reported(make_archive, tmp_path: Path) -> None:
    record = Input(id="h&<x>")
    record.data.image.image_info.width, record.data.image.image_info.height = 10, 20
    for i, name in enumerate(HOSTILE):
        region = record.data.regions.add(id=f"r{i}")
        region.region_info.bounding_box.bottom_row = region.region_info.bounding_box.right_col = 1
        region.data.concepts.add(id=f"c{i}", name=name, value=1.0)
    unknown = Input(id="no-size")
    unknown.data.image.url = "https://example.com/a.jpg"
    out = tmp_path / "voc"
    report = convert_archives([make_archive([record, unknown])], out, to="voc")
    ((stem, doc),) = read_voc(out)["train"].items()
    assert doc["input_id"] == "h&<x>" and stem.startswith("h__x_-")
    names = [o["name"] for o in doc["objects"]]
    # XML 1.0 cannot hold control characters: they become U+FFFD; all else is kept
    assert names == [n.replace("\x01", "\ufffd").replace("\x1f", "\ufffd") for n in HOSTILE]
    assert [o["box"] for o in doc["objects"]] == [(1, 1, 10, 20)] * len(HOSTILE)
    assert not (out / "labelmap.txt").exists()  # these names do not fit its lines
    assert report.images_without_size == ("no-size",)


# -- command line ---------------------------------------------------------------------------


def test_cli_yolo_and_voc_and_wrong_options(make_archive, tmp_path: Path) -> None:
    source = make_archive([_hand_input(), _text("t")])
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["convert", str(source), "--to", "yolo", "--task", "segment", "-o", str(tmp_path / "y")],
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "Note: skipped 1 text input(s): YOLO holds images",
        "Note: 1 region(s) have no positive concept and were not exported",
        "Note: 1 region(s) have no usable shape for YOLO (no box or polygon of 3+ points inside "
        "the image; masks and points have no YOLO row) and were not exported",
        f"Converted 2 inputs to {tmp_path / 'y'} (yolo): 1 images, 4 annotations, 3 categories",
    ]
    result = runner.invoke(
        cli, ["-q", "convert", str(source), "--to", "voc", "-o", str(tmp_path / "v")]
    )
    assert result.exit_code == 0 and result.stderr == ""
    assert (tmp_path / "v" / "Annotations" / "hand.xml").is_file()
    for args, message in (
        (["--to", "coco", "--task", "segment"], "--task applies to --to yolo"),
        (["--to", "yolo", "--image-labels"], "--image-labels applies to --to coco"),
    ):
        result = runner.invoke(cli, ["convert", str(source), "-o", str(tmp_path / "x"), *args])
        assert result.exit_code == 2 and message in result.stderr


# -- Datumaro, where installed --------------------------------------------------------------


def test_datumaro_imports_yolo_and_voc(make_archive, tmp_path: Path) -> None:
    dm = pytest.importorskip("datumaro")
    tqdm = pytest.importorskip("tqdm")  # Datumaro's progress bars
    tqdm.tqdm.monitor_interval = 0  # no monitor thread left behind for later tests
    source = make_archive([_hand_input()])
    yolo, voc = tmp_path / "yolo", tmp_path / "voc"
    convert_archives([source], yolo, to="yolo", media="embedded")
    convert_archives([source], voc, to="voc", media="embedded")
    dataset = dm.Dataset.import_from(str(yolo), "yolo")
    (item,) = list(dataset)
    labels = dataset.categories()[dm.AnnotationType.label]
    boxes = sorted(
        (labels[a.label].name, *(round(v, 3) for v in a.get_bbox())) for a in item.annotations
    )
    assert boxes == sorted(
        [
            ("Cat", 40.0, 10.0, 100.0, 40.0),
            ("Dog", 40.0, 10.0, 100.0, 40.0),
            ("Dog", 0.0, 0.0, 100.0, 50.0),
            ("Cat", 180.0, 0.0, 20.0, 30.0),
        ]
    )
    dataset = dm.Dataset.import_from(str(voc), "voc_detection")
    (item,) = list(dataset)
    labels = dataset.categories()[dm.AnnotationType.label]
    names = sorted(
        labels[a.label].name for a in item.annotations if a.type == dm.AnnotationType.bbox
    )
    assert names == ["Cat", "Cat", "Dog", "Dog"]
    assert not math.isnan(item.annotations[0].get_bbox()[0])


# -- downloads ------------------------------------------------------------------------------


def test_download_sizes_names_and_resume(
    make_archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from convert_helpers import jpeg_bytes
    from media_helpers import KEY, hosted_input
    from media_server import MediaServer

    import toolkit.convert._options as options
    from toolkit.errors import MediaError

    fast = {"backoff": 0.01, "max_backoff": 0.05, "seed": 7}
    monkeypatch.setattr(options, "_MEDIA_SINK_EXTRAS", fast)  # retries after a short backoff
    with MediaServer(key=KEY) as server:
        records = []
        for i in range(4):
            # declared JPEG, served as PNG for even ones: the file gets its real extension
            record = hosted_input(f"h{i}", server.origin, f"img{i}", fmt="JPEG")
            record.data.metadata.update({"split": "val" if i == 3 else "train"})
            region = record.data.regions.add(id=f"r{i}")
            b = region.region_info.bounding_box
            b.top_row, b.left_col, b.bottom_row, b.right_col = 0.0, 0.0, 0.5, 0.25
            region.data.concepts.add(id="thing", value=1)
            records.append(record)
            server.add(f"/orig/img{i}", png_bytes((24, 12)) if i % 2 == 0 else jpeg_bytes((24, 12)))
        server.add("/orig/img3", b"", fail=[404] * 50)
        source = make_archive(records)
        for to in ("voc", "yolo"):
            out = tmp_path / to
            with pytest.raises(MediaError, match=r"'h3'"):
                convert_archives([source], out, to=to, media="download", pat=KEY, retries=0)
            # only the finished downloads stay: no labels of a run that failed
            media = "JPEGImages" if to == "voc" else "images"
            assert sorted(p.name for p in out.iterdir()) == [media]
            # a file of no input of this archive, left by some earlier run: removed
            stale = out / media / ("stale.png" if to == "voc" else "train/stale.png")
            stale.write_bytes(png_bytes())
        server.add("/orig/img3", jpeg_bytes((24, 12)))
        hits = server.hits("/orig/img0")
        voc = tmp_path / "voc"
        report = convert_archives([source], voc, to="voc", media="download", pat=KEY)
        assert server.hits("/orig/img0") == hits  # kept from the failed run
        assert report.media is not None and report.media.written == 1
        yolo = tmp_path / "yolo"
        convert_archives([source], yolo, to="yolo", media="download", pat=KEY)
    got = read_voc(voc)
    assert {k: sorted(v) for k, v in got.items()} == {"train": ["h0", "h1", "h2"], "val": ["h3"]}
    for split in got.values():
        for stem, doc in split.items():
            ext = "png" if stem in ("h0", "h2") else "jpg"
            assert doc["filename"] == f"{stem}.{ext}"
            assert doc["size"] == (24, 12, 3)  # read from the downloaded file
            assert [o["box"] for o in doc["objects"]] == [(1, 1, 6, 6)]
    assert sorted(p.name for p in (voc / "JPEGImages").iterdir()) == [
        "h0.png",
        "h1.jpg",
        "h2.png",
        "h3.jpg",
    ]
    assert sorted(p.name for p in (yolo / "images" / "train").iterdir()) == [
        "h0.png",
        "h1.jpg",
        "h2.png",
    ]
    assert read_yolo(yolo)["splits"]["val"]["h3"] == [(0, approx([0.125, 0.25, 0.25, 0.5]))]
