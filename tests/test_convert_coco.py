"""convert --to coco: hand-checked formulas, pycocotools, media, reports, failures."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from convert_helpers import jpeg_bytes, mask_png, png_bytes, varied_inputs
from media_helpers import KEY, hosted_input
from media_server import MediaServer

from toolkit.convert import convert_archives, rle_encode
from toolkit.errors import MediaError
from toolkit.messages import Input, Point

mask_utils = pytest.importorskip("pycocotools.mask")
coco_module = pytest.importorskip("pycocotools.coco")
# pycocotools' mask decoding trips numpy 2's __array__ deprecation inside its own code.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
FAST = {"backoff": 0.01, "max_backoff": 0.05, "seed": 7}


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Downloads retry after a short, seeded backoff (a private setting of the converters)."""
    import toolkit.convert._options as options

    monkeypatch.setattr(options, "_MEDIA_SINK_EXTRAS", FAST)


approx = pytest.approx


def _load(folder: Path, name: str = "annotations.json") -> dict:
    return json.loads((folder / name).read_text())


def _coco(folder: Path, name: str = "annotations.json"):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            return coco_module.COCO(str(folder / name))


def _self_score(coco, iou_type: str) -> float:
    """AP of ``coco``'s own annotations scored as detections against it (1.0 when every
    annotation is whole and consistent)."""
    import contextlib
    import io

    from pycocotools.cocoeval import COCOeval

    dets = []
    for ann in coco.loadAnns(coco.getAnnIds()):
        det = {"image_id": ann["image_id"], "category_id": ann["category_id"], "score": 1.0}
        if iou_type == "bbox":
            det["bbox"] = ann["bbox"]
        elif iou_type == "segm":
            det["segmentation"] = coco.annToRLE(ann)
        else:
            det["keypoints"] = ann["keypoints"]
            det["bbox"] = ann["bbox"]
        dets.append(det)
    with contextlib.redirect_stdout(io.StringIO()):
        results = coco.loadRes(dets)
        evaluation = COCOeval(coco, results, iou_type)
        if iou_type == "keypoints":  # pycocotools' sigmas are COCO's 17 person keypoints
            (k,) = {len(d["keypoints"]) // 3 for d in dets}
            evaluation.params.kpt_oks_sigmas = np.full(k, 0.05)
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return float(evaluation.stats[0])


def _hand_input() -> Input:
    """A 200 x 100 image with one region of each shape (numbers checked by hand below)."""
    record = Input(id="hand")
    data = record.data
    data.image.base64 = png_bytes((200, 100))
    data.image.image_info.width, data.image.image_info.height = 200, 100
    data.concepts.add(id="scene", name="Scene", value=1.0)
    data.concepts.add(id="absent", name="Absent", value=0.0)
    data.metadata.update({"k": "v"})
    box = data.regions.add(id="box")
    b = box.region_info.bounding_box
    b.top_row, b.left_col, b.bottom_row, b.right_col = 0.1, 0.2, 0.5, 0.7
    box.data.concepts.add(id="cat", name="Cat", value=1.0)
    box.data.concepts.add(id="dog", name="Dog", value=0.9)  # two labels: two annotations
    poly = data.regions.add(id="poly")
    for row, col in ((0.0, 0.0), (0.0, 0.5), (0.5, 0.5)):
        poly.region_info.polygon.points.add(row=row, col=col)
    poly.data.concepts.add(id="dog", name="Dog", value=1.0)
    point = data.regions.add(id="point")
    p = point.region_info.point
    p.row, p.col, p.visibility = 0.25, 0.75, Point.VISIBLE
    point.data.concepts.add(id="nose", value=1.0)  # no name: the id names the category
    hidden = data.regions.add(id="hidden-point")
    hp = hidden.region_info.point
    hp.row, hp.col, hp.visibility = 0.5, 0.5, Point.NOT_VISIBLE
    hidden.data.concepts.add(id="nose", value=1.0)
    negative = data.regions.add(id="negative-only")
    negative.region_info.bounding_box.bottom_row = 1.0
    negative.data.concepts.add(id="cat", value=0.0)
    shapeless = data.regions.add(id="shapeless")
    shapeless.data.concepts.add(id="cat", value=1.0)
    return record


def test_hand_checked_numbers(make_archive, tmp_path: Path) -> None:
    source = make_archive([_hand_input()])
    out = tmp_path / "coco"
    report = convert_archives([source], out, to="coco")
    doc = _load(out)
    assert list(doc) == ["info", "licenses", "images", "annotations", "categories"]
    (image,) = doc["images"]
    assert image == {
        "id": 1,
        "file_name": "hand.png",
        "width": 200,
        "height": 100,
        "clarifai_input_id": "hand",
        # Changed deliberately (issue 12): an input-level concept is no category, so its
        # entry has no category_id (see test_image_labels_make_categories).
        "clarifai_concepts": [{"id": "scene", "name": "Scene", "value": 1.0}],
        "clarifai_metadata": {"k": "v"},
    }
    anns = {(a["clarifai_region_id"], a["category_id"]): a for a in doc["annotations"]}
    assert [a["id"] for a in doc["annotations"]] == [1, 2, 3]
    # box: [left*W, top*H, (right-left)*W, (bottom-top)*H] = [40, 10, 100, 40], area 4000
    box = anns[("box", 1)]
    assert box["bbox"] == approx([40.0, 10.0, 100.0, 40.0], rel=1e-12)
    assert box["area"] == approx(4000.0, rel=1e-12)
    # Changed deliberately (issue 12): a box's segmentation is its 4 corners, not [].
    assert box["segmentation"] == [[40.0, 10.0, 140.0, 10.0, 140.0, 50.0, 40.0, 50.0]]
    assert box["iscrowd"] == 0 and box["image_id"] == 1
    assert anns[("box", 2)]["bbox"] == box["bbox"]
    # polygon (0,0) (100,0) (100,50): extent [0, 0, 100, 50], shoelace area 100*50/2 = 2500
    poly = anns[("poly", 2)]
    assert poly["segmentation"] == [[0.0, 0.0, 100.0, 0.0, 100.0, 50.0]]
    assert poly["bbox"] == [0.0, 0.0, 100.0, 50.0]
    assert poly["area"] == 2500.0
    # Points live in their own file, as COCO keeps keypoints (person_keypoints_*.json).
    assert not any("keypoints" in a for a in doc["annotations"])
    kdoc = _load(out, "person_keypoints.json")
    assert kdoc["images"] == doc["images"]
    kanns = {a["clarifai_region_id"]: a for a in kdoc["annotations"]}
    assert [a["id"] for a in kdoc["annotations"]] == [4, 5]
    # point: x = 0.75*200 = 150, y = 0.25*100 = 25, visible -> v=2
    point = kanns["point"]
    assert point["category_id"] == 3
    assert point["keypoints"] == [150.0, 25.0, 2] and point["num_keypoints"] == 1
    assert point["bbox"] == [150.0, 25.0, 0.0, 0.0] and point["area"] == 0.0
    assert kanns["hidden-point"]["keypoints"] == [100.0, 50.0, 1]
    nose = {
        "id": 3,
        "name": "nose",
        "supercategory": "",
        "clarifai_concept_id": "nose",
        "keypoints": ["point"],
        "skeleton": [],
    }
    assert doc["categories"] == [
        {"id": 1, "name": "Cat", "supercategory": "", "clarifai_concept_id": "cat"},
        {"id": 2, "name": "Dog", "supercategory": "", "clarifai_concept_id": "dog"},
        nose,
    ]
    assert kdoc["categories"] == [nose]
    assert report.regions_without_concept == 1 and report.regions_without_shape == 1
    assert (report.images, report.annotations, report.categories) == (1, 5, 3)
    assert sorted(p.name for p in out.iterdir()) == ["annotations.json", "person_keypoints.json"]


def test_image_labels_make_categories(make_archive, tmp_path: Path) -> None:
    out = tmp_path / "coco"
    report = convert_archives([make_archive([_hand_input()])], out, to="coco", image_labels=True)
    doc = _load(out)
    (image,) = doc["images"]
    assert image["clarifai_concepts"] == [
        {"id": "scene", "name": "Scene", "value": 1.0, "category_id": 1}
    ]
    assert [c["clarifai_concept_id"] for c in doc["categories"]] == ["scene", "cat", "dog", "nose"]
    assert report.categories == 4


def test_a_region_with_a_box_and_points_is_in_both_files(make_archive, tmp_path: Path) -> None:
    record = Input(id="both")
    record.data.image.image_info.width, record.data.image.image_info.height = 100, 100
    region = record.data.regions.add(id="r")
    b = region.region_info.bounding_box
    b.top_row, b.left_col, b.bottom_row, b.right_col = 0.25, 0.25, 0.75, 0.75
    region.region_info.keypoint_locations.add(row=0.5, col=0.5, visibility=Point.VISIBLE)
    region.region_info.keypoint_locations.add(row=0.6, col=0.4, visibility=Point.NOT_PRESENT)
    region.data.concepts.add(id="person", name="person", value=1.0)
    out = tmp_path / "coco"
    convert_archives([make_archive([record])], out, to="coco")
    (ann,) = _load(out)["annotations"]
    assert ann["bbox"] == [25.0, 25.0, 50.0, 50.0] and "keypoints" not in ann
    kdoc = _load(out, "person_keypoints.json")
    (kann,) = kdoc["annotations"]
    assert kann["bbox"] == ann["bbox"] and kann["id"] == ann["id"] + 1
    assert kann["keypoints"] == [50.0, 50.0, 2, 0.0, 0.0, 0] and kann["num_keypoints"] == 1
    assert kdoc["categories"][0]["keypoints"] == ["point1", "point2"]
    # a region of the same category with one point is padded to the category's two
    record2 = Input(id="one")
    record2.data.image.image_info.width = record2.data.image.image_info.height = 100
    single = record2.data.regions.add(id="s")
    single.region_info.point.row, single.region_info.point.col = 0.1, 0.2
    single.data.concepts.add(id="person", name="person", value=1.0)
    convert_archives([make_archive([record2, record], "two.zip")], tmp_path / "two", to="coco")
    padded = _load(tmp_path / "two", "person_keypoints.json")["annotations"]
    assert [a["keypoints"] for a in padded] == [
        [20.0, 10.0, 2, 0.0, 0.0, 0],
        [50.0, 50.0, 2, 0.0, 0.0, 0],
    ]
    assert [a["num_keypoints"] for a in padded] == [1, 1]
    assert _self_score(_coco(out, "person_keypoints.json"), "keypoints") == approx(1.0)


def test_float32_noise_is_rounded_away(make_archive, tmp_path: Path) -> None:
    record = Input(id="f")
    record.data.image.image_info.width, record.data.image.image_info.height = 640, 256
    region = record.data.regions.add(id="r")
    b = region.region_info.bounding_box
    # float32 0.3 is 0.30000001192...: 0.3 * 640 would be 192.0000076; 129/512 is exact.
    b.top_row, b.left_col, b.bottom_row, b.right_col = 0.1, 0.3, 129 / 512, 0.9
    region.data.concepts.add(id="c", value=1)
    convert_archives([make_archive([record])], tmp_path / "c", to="coco")
    (ann,) = _load(tmp_path / "c")["annotations"]
    assert ann["bbox"] == [192.0, 25.6, 384.0, 38.9]
    assert ann["area"] == 14937.6


def test_loads_in_pycocotools_and_evaluates(sample_archive, tmp_path: Path) -> None:
    out = tmp_path / "coco"
    report = convert_archives([sample_archive], out, to="coco", media="embedded")
    coco = _coco(out)
    assert len(coco.getImgIds()) == report.images == 30
    assert sorted(coco.getCatIds()) == list(range(1, report.categories + 1))
    for image in coco.loadImgs(coco.getImgIds()):
        assert (out / "images" / image["file_name"]).is_file()
    for ann in coco.loadAnns(coco.getAnnIds()):
        if ann["segmentation"]:
            mask = coco.annToMask(ann)
            image = coco.imgs[ann["image_id"]]
            assert mask.shape == (image["height"], image["width"])
            assert abs(int(mask.sum()) - ann["area"]) <= 0.1 * ann["area"] + 40
    # The ground truth scored against itself is perfect, every category included, in the
    # bbox AND segm evaluations (keypoints have their own file, so no zero-size box
    # drags the bbox AP down, and a box's segmentation is its corners).
    assert not any("keypoints" in a for a in coco.loadAnns(coco.getAnnIds()))
    assert _self_score(coco, "bbox") == approx(1.0)
    assert _self_score(coco, "segm") == approx(1.0)
    keypoints = _coco(out, "person_keypoints.json")
    assert len(keypoints.getAnnIds()) + len(coco.getAnnIds()) == report.annotations
    assert keypoints.getImgIds() == coco.getImgIds()
    assert _self_score(keypoints, "keypoints") == approx(1.0)


def test_masks_are_rle_that_pycocotools_decodes(make_archive, tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    mask = np.zeros((30, 40), dtype=np.uint8)
    mask[5:20, 8:30] = 1
    mask[22:25, 1:3] = 1
    record = Input(id="m")
    record.data.image.base64 = png_bytes((40, 30))
    region = record.data.regions.add(id="mask")
    region.region_info.mask.image.base64 = mask_png(mask)
    region.data.concepts.add(id="blob", value=1.0)
    half = record.data.regions.add(id="small-mask")  # a mask at half size is scaled up
    half.region_info.mask.image.base64 = mask_png(mask[::2, ::2])
    half.data.concepts.add(id="blob", value=1.0)
    convert_archives([make_archive([record])], tmp_path / "c", to="coco")
    doc = _load(tmp_path / "c")
    ann = doc["annotations"][0]
    assert ann["iscrowd"] == 0 and isinstance(ann["segmentation"]["counts"], str)
    assert ann["segmentation"]["size"] == [30, 40]
    decoded = mask_utils.decode(ann["segmentation"])
    assert np.array_equal(decoded, mask)
    assert ann["area"] == int(mask.sum()) == mask_utils.area(ann["segmentation"])
    assert ann["bbox"] == list(mask_utils.toBbox(ann["segmentation"]))
    assert mask_utils.decode(doc["annotations"][1]["segmentation"]).shape == (30, 40)
    # rle_encode agrees with pycocotools on random masks, empty and full ones.
    for shape in [(1, 1), (3, 7), (64, 48), (17, 1)]:
        for fill in (0.0, 0.3, 1.0):
            m = (rng.random(shape) < fill).astype(np.uint8)
            theirs = mask_utils.encode(np.asfortranarray(m))
            ours = rle_encode(m)
            assert ours["counts"] == theirs["counts"].decode() and ours["size"] == theirs["size"]


def test_bad_masks_and_polygons_are_counted(make_archive, tmp_path: Path) -> None:
    record = Input(id="bad")
    record.data.image.image_info.width = record.data.image.image_info.height = 10
    broken = record.data.regions.add(id="broken-mask")
    broken.region_info.mask.image.base64 = b"not a png"
    broken.data.concepts.add(id="c", value=1)
    line = record.data.regions.add(id="two-point-polygon")
    line.region_info.polygon.points.add(row=0.1, col=0.1)
    line.region_info.polygon.points.add(row=0.2, col=0.2)
    line.data.concepts.add(id="c", value=1)
    nan = record.data.regions.add(id="nan-box")
    nan.region_info.bounding_box.top_row = math.nan
    nan.data.concepts.add(id="c", value=1)
    report = convert_archives([make_archive([record])], tmp_path / "c", to="coco")
    assert report.regions_without_shape == 3 and report.annotations == 0


def test_categories_in_order_of_first_appearance_with_unique_names(
    make_archive, tmp_path: Path
) -> None:
    records = []
    for n, (cid, name) in enumerate([("b", "Bee"), ("a", "Ant"), ("a2", "Ant"), ("b", "Bee")]):
        record = Input(id=f"i{n}")
        record.data.image.image_info.width = record.data.image.image_info.height = 10
        region = record.data.regions.add(id=f"r{n}")
        region.region_info.bounding_box.bottom_row = 1
        region.data.concepts.add(id=cid, name=name, value=1)
        records.append(record)
    convert_archives([make_archive(records)], tmp_path / "c", to="coco")
    cats = _load(tmp_path / "c")["categories"]
    assert [(c["id"], c["name"], c["clarifai_concept_id"]) for c in cats] == [
        (1, "Bee", "b"),
        (2, "Ant (a)", "a"),
        (3, "Ant (a2)", "a2"),
    ]


def test_non_images_skipped_or_video_frames(make_archive, tmp_path: Path) -> None:
    records = varied_inputs(10)  # images, 2 texts, 2 videos with one labelled frame each
    source = make_archive(records)
    report = convert_archives([source], tmp_path / "plain", to="coco")
    assert report.skipped_inputs == {"text": 2, "video": 2}
    assert report.images == 6
    frames = convert_archives([source], tmp_path / "frames", to="coco", video_frames=True)
    assert frames.skipped_inputs == {"text": 2} and frames.images == 8
    doc = _load(tmp_path / "frames")
    frame_images = [i for i in doc["images"] if "clarifai_frame_id" in i]
    assert [i["file_name"] for i in frame_images] == [
        "frames/in-004/000000.jpg",
        "frames/in-009/000000.jpg",
    ]
    first = frame_images[0]
    assert (first["width"], first["height"]) == (64, 48)
    assert first["clarifai_frame_index"] == 3 and first["clarifai_frame_time_ms"] == 1500
    assert first["clarifai_video_file"] == "videos/in-004.mp4"
    frame_anns = [a for a in doc["annotations"] if a["image_id"] == first["id"]]
    assert frame_anns[0]["bbox"] == approx([0.2 * 64, 0.1 * 48, 0.2 * 64, 0.2 * 48])
    _coco(tmp_path / "frames")


def test_size_from_the_media_bytes_or_left_out(make_archive, tmp_path: Path) -> None:
    with_bytes = Input(id="bytes-only")
    with_bytes.data.image.base64 = jpeg_bytes((33, 22))
    region = with_bytes.data.regions.add(id="r")
    region.region_info.bounding_box.bottom_row = region.region_info.bounding_box.right_col = 1
    region.data.concepts.add(id="c", value=1)
    hosted_only = hosted_input("hosted-only", "https://data.clarifai.com", "x")
    report = convert_archives([make_archive([with_bytes, hosted_only])], tmp_path / "c", to="coco")
    doc = _load(tmp_path / "c")
    assert [(i["file_name"], i["width"], i["height"]) for i in doc["images"]] == [
        ("bytes-only.jpg", 33, 22)
    ]
    assert doc["annotations"][0]["bbox"] == [0.0, 0.0, 33.0, 22.0]
    assert report.images_without_size == ("hosted-only",)


def test_embedded_media_written_with_safe_unique_names(make_archive, tmp_path: Path) -> None:
    records = []
    for n, input_id in enumerate(["../../etc/passwd", "a/b", "A/B", "same", "SAME"]):
        record = Input(id=input_id)
        record.data.image.base64 = png_bytes((5 + n, 5)) if n % 2 else jpeg_bytes((5 + n, 5))
        records.append(record)
    out = tmp_path / "c"
    report = convert_archives([make_archive(records)], out, to="coco", media="embedded")
    names = [i["file_name"] for i in _load(out)["images"]]
    assert len(set(n.casefold() for n in names)) == 5
    assert all("/" not in n and not n.startswith(".") for n in names)
    assert sorted(p.name for p in (out / "images").iterdir()) == sorted(names)
    for record, name in zip(records, names, strict=True):
        assert (out / "images" / name).read_bytes() == record.data.image.base64  # original bytes
        assert name.endswith(".png" if records.index(record) % 2 else ".jpg")
    assert report.media is not None and report.media.written == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive.zip", "c"]


# -- downloads ------------------------------------------------------------------------------


def _hosted_records(server: MediaServer, n: int) -> list[Input]:
    records = []
    for i in range(n):
        # Declared JPEG but served as PNG for even ones: the file gets its real extension.
        record = hosted_input(f"h{i}", server.origin, f"img{i}", fmt="JPEG")
        if i % 3 == 0:
            record.data.image.image_info.width = 24
            record.data.image.image_info.height = 12
        region = record.data.regions.add(id=f"r{i}")
        b = region.region_info.bounding_box
        b.top_row, b.left_col, b.bottom_row, b.right_col = 0.0, 0.0, 0.5, 0.25
        region.data.concepts.add(id="thing", value=1)
        records.append(record)
        body = png_bytes((24, 12)) if i % 2 == 0 else jpeg_bytes((24, 12))
        server.add(f"/orig/img{i}", body)
    return records


def test_download_names_sizes_and_resume(make_archive, tmp_path: Path) -> None:
    with MediaServer(key=KEY) as server:
        records = _hosted_records(server, 6)
        server.add("/orig/img5", b"", fail=[404] * 50)  # h5 fails for good
        source = make_archive(records)
        out = tmp_path / "coco"
        with pytest.raises(MediaError, match=r"media of 1 input\(s\).*'h5'.*allow_missing=True"):
            convert_archives([source], out, to="coco", media="download", pat=KEY, retries=1)
        # The failed run kept its finished files, wrote no annotations.json, left no temp.
        assert sorted(p.name for p in out.iterdir()) == ["images"]
        assert len(list((out / "images").iterdir())) == 5
        hits_before = {f"/orig/img{i}": server.hits(f"/orig/img{i}") for i in range(6)}
        server.add("/orig/img5", jpeg_bytes((24, 12)))
        report = convert_archives([source], out, to="coco", media="download", pat=KEY)
        # Only the missing file was fetched again.
        for i in range(5):
            assert server.hits(f"/orig/img{i}") == hits_before[f"/orig/img{i}"]
        assert server.hits("/orig/img5") == hits_before["/orig/img5"] + 1
        assert report.media is not None and (report.media.reused, report.media.written) == (5, 1)
    doc = _load(out)
    by_id = {i["clarifai_input_id"]: i for i in doc["images"]}
    assert by_id["h0"]["file_name"] == "h0.png" and by_id["h1"]["file_name"] == "h1.jpg"
    assert all((i["width"], i["height"]) == (24, 12) for i in doc["images"])
    assert sorted(p.name for p in (out / "images").iterdir()) == sorted(
        i["file_name"] for i in doc["images"]
    )
    assert all(a["bbox"] == [0.0, 0.0, 6.0, 6.0] for a in doc["annotations"])
    assert len(doc["annotations"]) == 6
    _coco(out)


def test_download_allow_missing_writes_what_it_has(make_archive, tmp_path: Path) -> None:
    with MediaServer(key=KEY) as server:
        records = _hosted_records(server, 3)
        server.add("/orig/img1", b"", fail=[500] * 50)
        report_file = tmp_path / "report.json"
        report = convert_archives(
            [make_archive(records)],
            tmp_path / "coco",
            to="coco",
            media="download",
            pat=KEY,
            retries=1,
            allow_missing=True,
            report_path=report_file,
        )
    assert report.media is not None and list(report.media.failed) == ["h1"]
    assert "500" in report.media.failed["h1"]
    saved = json.loads(report_file.read_text())
    assert list(saved["media"]["failed"]) == ["h1"]
    # h1's size was unknown (no image_info, no file): it is left out and listed.
    assert report.images_without_size == ("h1",)
    assert [i["clarifai_input_id"] for i in _load(tmp_path / "coco")["images"]] == ["h0", "h2"]


def test_failed_run_keeps_an_old_complete_output(make_archive, tmp_path: Path) -> None:
    with MediaServer(key=KEY) as server:
        records = _hosted_records(server, 2)
        source = make_archive(records)
        out = tmp_path / "coco"
        convert_archives([source], out, to="coco", media="download", pat=KEY)
        old = (out / "annotations.json").read_bytes()
        server.add("/orig/img1", b"", fail=[404] * 50)
        (out / "images" / "h1.jpg").unlink()
        with pytest.raises(MediaError):
            convert_archives([source], out, to="coco", media="download", pat=KEY, retries=0)
    assert (out / "annotations.json").read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive.zip", "coco"]


def test_rerun_drops_files_of_inputs_no_longer_there(make_archive, tmp_path: Path) -> None:
    with MediaServer(key=KEY) as server:
        records = _hosted_records(server, 3)
        out = tmp_path / "coco"
        convert_archives([make_archive(records)], out, to="coco", media="download", pat=KEY)
        convert_archives(
            [make_archive(records[:2], "two.zip")],
            out,
            to="coco",
            media="download",
            pat=KEY,
        )
    assert sorted(p.name for p in (out / "images").iterdir()) == ["h0.png", "h1.jpg"]


def test_video_frames_with_the_video_written(make_archive, tmp_path: Path) -> None:
    record = Input(id="clip")
    record.data.video.base64 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 32
    record.data.video.video_info.width, record.data.video.video_info.height = 32, 16
    for n in range(3):
        frame = record.data.frames.add(id=f"f{n}")
        frame.frame_info.index, frame.frame_info.time = n * 10, n * 400
        if n != 1:  # the middle frame has no region: no image entry
            region = frame.data.regions.add(id=f"r{n}")
            region.region_info.bounding_box.bottom_row = 0.5
            region.region_info.bounding_box.right_col = 0.5
            region.data.concepts.add(id="car", value=1.0)
    out = tmp_path / "c"
    report = convert_archives(
        [make_archive([record])], out, to="coco", media="embedded", video_frames=True
    )
    doc = _load(out)
    assert [i["file_name"] for i in doc["images"]] == [
        "frames/clip/000000.jpg",
        "frames/clip/000002.jpg",
    ]
    assert [i["clarifai_frame_time_ms"] for i in doc["images"]] == [0, 800]
    assert doc["images"][0]["clarifai_video_file"] == "videos/clip.mp4"
    assert (out / "videos" / "clip.mp4").read_bytes() == record.data.video.base64
    assert [a["bbox"] for a in doc["annotations"]] == [[0.0, 0.0, 16.0, 8.0]] * 2
    assert report.media is not None and report.media.written == 1


def test_split_tags_give_one_file_per_split(make_archive, tmp_path: Path) -> None:
    from convert_helpers import varied_inputs

    from toolkit.archive import ArchiveReader
    from toolkit.split import split_archive

    source = make_archive(varied_inputs(30))
    split_archive(source, tmp_path / "s", ratios={"train": 0.6, "val": 0.4}, seed=5, tag=True)
    parts = [tmp_path / "s" / "train.zip", tmp_path / "s" / "val.zip"]
    out = tmp_path / "coco"
    report = convert_archives(parts, out, to="coco")
    assert sorted(p.name for p in out.iterdir()) == [
        "instances_train.json",
        "instances_val.json",
        "person_keypoints_train.json",
        "person_keypoints_val.json",
    ]
    images = annotations = 0
    image_ids: set[int] = set()
    for split, part in zip(("train", "val"), parts, strict=True):
        with ArchiveReader(part) as reader:
            expected = [r.id for r in reader.iter_inputs() if r.data.HasField("image")]
        coco = _coco(out, f"instances_{split}.json")
        assert [i["clarifai_input_id"] for i in coco.dataset["images"]] == expected
        assert {i["clarifai_metadata"]["split"] for i in coco.dataset["images"]} == {split}
        assert image_ids.isdisjoint(coco.getImgIds())  # ids unique across the files
        image_ids |= set(coco.getImgIds())
        assert _self_score(coco, "bbox") == approx(1.0)
        assert _self_score(coco, "segm") == approx(1.0)
        keypoints = _coco(out, f"person_keypoints_{split}.json")
        assert keypoints.getImgIds() == coco.getImgIds()
        assert _self_score(keypoints, "keypoints") == approx(1.0)
        images += len(coco.getImgIds())
        annotations += len(coco.getAnnIds()) + len(keypoints.getAnnIds())
    assert (report.images, report.annotations) == (images, annotations)


# -- assembly of annotations.json (issue 18: quadratic in one long line) -----------------


def test_spool_lines_become_array_items_in_one_pass() -> None:
    import hashlib
    import io
    import tracemalloc

    from toolkit.convert.coco import _copy_lines

    # One 4 MiB line (a long escaped metadata string) between short ones, copied with
    # 64 KiB blocks: each block is looked at once, so memory stays at a few blocks (the
    # old assembly prepended the growing remainder to every block and searched it again).
    long_line = b'{"m":"' + b"\\u0001" * ((4 << 20) // 6) + b'"}'
    spool = io.BytesIO(b'{"a":1}\n' + long_line + b"\n" + b'{"b":2},{"c":3}\n')

    class Digest:  # an output that keeps nothing, so only the copy's own memory counts
        def __init__(self) -> None:
            self.hash = hashlib.sha256()

        def write(self, data: bytes) -> None:
            self.hash.update(data)

    out = Digest()
    tracemalloc.start()
    try:
        _copy_lines(spool, out, size=64 << 10)  # type: ignore[arg-type]
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    expected = b'{"a":1},' + long_line + b',{"b":2},{"c":3}'
    assert out.hash.digest() == hashlib.sha256(expected).digest()
    assert peak < 6 * (64 << 10), peak


def test_a_long_control_character_string_in_metadata_converts(tmp_path: Path) -> None:
    from toolkit.archive import write_archive

    record = Input(id="long")
    record.data.image.url = "https://example.com/a.jpg"
    record.data.image.image_info.width, record.data.image.image_info.height = 4, 3
    record.data.metadata.update({"s": "\x01" * (1 << 20)})
    source = tmp_path / "in.zip"
    write_archive(source, [record, Input(id="other", data=record.data)])
    convert_archives([source], tmp_path / "coco", to="coco")
    coco = json.loads((tmp_path / "coco" / "annotations.json").read_bytes())
    assert [i["clarifai_metadata"]["s"] for i in coco["images"]] == ["\x01" * (1 << 20)] * 2
