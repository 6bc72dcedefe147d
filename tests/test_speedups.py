"""The C reader (toolkit._speedups) gives exactly what the pure-Python path gives.

``convert --to coco`` reads the batches' wire bytes with it when it is built: these
tests convert the same archives both ways and compare the bytes of ``annotations.json``
and the reports, over hand-picked edge cases, generated inputs and damaged batches.
"""

from __future__ import annotations

import dataclasses
import os
import random
import shutil
import sysconfig
import zipfile
from pathlib import Path
from typing import Any

import pytest
from convert_helpers import png_bytes, varied_inputs
from google.protobuf.message import DecodeError
from helpers import damaged_copies
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit import _native
from toolkit.archive import ArchiveWriter, write_archive
from toolkit.convert import ConvertReport, convert_archives
from toolkit.convert import coco as coco_module
from toolkit.errors import ToolkitError
from toolkit.limits import DEFAULT_LIMITS
from toolkit.messages import Input, InputBatch

needs_c = pytest.mark.skipif(_native.SPEEDUPS is None, reason="the C reader is not built")

_REPORT_FIELDS = (
    "inputs",
    "images",
    "annotations",
    "categories",
    "skipped_inputs",
    "regions_without_concept",
    "regions_without_shape",
    "images_without_size",
)


def test_the_c_reader_is_built_where_a_compiler_is() -> None:
    if os.environ.get("CLARIFAI_ARCHIVE_PURE_PYTHON", "") not in ("", "0"):
        pytest.skip("the pure-Python path was asked for")
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if (shutil.which("cc") is None and shutil.which("gcc") is None) or not headers.exists():
        pytest.skip("no C compiler or Python headers here: the package installs without it")
    assert _native.SPEEDUPS is not None, "pip install -e . should have built toolkit._speedups"


def _convert(archive: Path, out: Path, *, c_reader: bool, **options: Any) -> ConvertReport:
    with pytest.MonkeyPatch.context() as patch:
        if not c_reader:
            patch.setattr(coco_module, "SPEEDUPS", None)
        return convert_archives([archive], out, to="coco", **options)


def _both(
    folder: Path, archive: Path, *, expect_c: bool = True, **options: Any
) -> tuple[bytes, ConvertReport]:
    """Convert ``archive`` both ways; check the outputs and reports are the same (and,
    with ``expect_c``, that the C reader took part)."""
    calls = []
    original = coco_module.CocoConverter._convert_raw

    def counted(self: Any, batch: Any) -> None:
        calls.append(1)
        original(self, batch)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(coco_module.CocoConverter, "_convert_raw", counted)
        fast = _convert(archive, folder / "c", c_reader=True, **options)
    assert calls or not expect_c, "the C reader was not used"
    plain = _convert(archive, folder / "py", c_reader=False, **options)
    names = sorted(p.name for p in (folder / "c").glob("*.json"))
    assert names == sorted(p.name for p in (folder / "py").glob("*.json"))
    for name in names:  # annotations.json, person_keypoints.json, instances_<split>.json ...
        assert (folder / "c" / name).read_bytes() == (folder / "py" / name).read_bytes(), name
    main = "annotations.json" if "annotations.json" in names else names[0]
    text = (folder / "c" / main).read_bytes()
    for name in _REPORT_FIELDS:
        assert getattr(fast, name) == getattr(plain, name), name
    return text, fast


def _archive(path: Path, records: list[Input], batch_size: int = 5) -> Path:
    write_archive(path, records, batch_size=batch_size)
    return path


def _image(input_id: str, width: int = 640, height: int = 480, fmt: str = "JPEG") -> Input:
    record = Input(id=input_id)
    image = record.data.image
    image.url = f"https://example.com/{input_id}.jpg"
    image.image_info.width, image.image_info.height, image.image_info.format = width, height, fmt
    return record


def _box(record: Input, region_id: str, box: tuple[float, ...], *concepts: tuple) -> None:
    region = record.data.regions.add(id=region_id)
    b = region.region_info.bounding_box
    b.top_row, b.left_col, b.bottom_row, b.right_col = box
    for concept_id, name, value in concepts:
        region.data.concepts.add(id=concept_id, name=name, value=value)


# -- hand-picked edge cases ----------------------------------------------------------


@needs_c
def test_sample_data_and_varied_inputs_are_the_same_both_ways(tmp_path: Path) -> None:
    _both(
        tmp_path / "sample",
        Path(__file__).parent.parent / "sample_data" / "clarifai-data-protobuf.zip",
    )
    archive = _archive(tmp_path / "varied.zip", varied_inputs(60), batch_size=7)
    _both(tmp_path / "varied", archive)
    _both(tmp_path / "frames", archive, video_frames=True)


@needs_c
def test_split_tagged_inputs_give_the_same_files_both_ways(tmp_path: Path) -> None:
    records = []
    for i in range(23):
        record = _image(f"im-{i}")
        if i % 4:  # some untagged inputs among the tagged, in the same batches
            record.data.metadata.update({"split": ["train", "val", "test"][i % 3], "n": i})
        _box(record, f"b{i}", (0.1, 0.2, 0.6, 0.7), ("cat", "Cat", 1.0))
        if i % 5 == 0:
            point = record.data.regions.add(id=f"k{i}")
            point.region_info.point.row, point.region_info.point.col = 0.5, 0.25
            point.data.concepts.add(id="nose", name="Nose", value=1.0)
        records.append(record)
    archive = _archive(tmp_path / "split.zip", records, batch_size=4)
    _both(tmp_path, archive)
    # The C reader files tagged inputs under their split itself: only the inputs with a
    # point (5 of 23) go to the Python path.
    calls = []
    original = coco_module.CocoConverter._record

    def counted(self: Any, record: Input, *args: Any) -> None:
        calls.append(record.id)
        original(self, record, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(coco_module.CocoConverter, "_record", counted)
        _convert(archive, tmp_path / "counted", c_reader=True)
    assert calls == ["im-0", "im-5", "im-10", "im-15", "im-20"]
    names = sorted(p.name for p in (tmp_path / "c").glob("*.json"))
    assert names == [
        "annotations.json",
        "instances_test.json",
        "instances_train.json",
        "instances_val.json",
        "person_keypoints.json",
        "person_keypoints_test.json",
        "person_keypoints_train.json",
        "person_keypoints_val.json",
    ]


@needs_c
def test_split_values_the_python_path_decides(tmp_path: Path) -> None:
    from toolkit.errors import ArchiveError

    odd = []
    for i, value in enumerate([3.0, True, ["train"], {"x": "train"}, None, "train"]):
        record = _image(f"odd-{i}")
        record.data.metadata.update({"split": value})
        _box(record, f"b{i}", (0.1, 0.2, 0.6, 0.7), ("cat", "Cat", 1.0))
        odd.append(record)
    _both(tmp_path / "odd", _archive(tmp_path / "odd.zip", odd, batch_size=4))
    # a value that is no string leaves the input untagged, both ways
    names = sorted(p.name for p in (tmp_path / "odd" / "c").glob("*.json"))
    assert names == ["annotations.json", "instances_train.json"]
    for bad in ("a b", "../x", ".hidden", "-x", "", "x" * 101, "é"):
        record = _image("bad")
        record.data.metadata.update({"split": bad})
        archive = _archive(tmp_path / "bad.zip", [_image("ok"), record])
        for c_reader in (True, False):
            with pytest.raises(ArchiveError, match="input 'bad': its metadata 'split'"):
                _convert(archive, tmp_path / "bad", c_reader=c_reader)


@needs_c
def test_strings_numbers_and_names_that_need_care(tmp_path: Path) -> None:
    records = []
    texts = ['quote " and \\ back', "ctl \x00\x01\x1f\x7f \n\t\r\b\f", "é ✓ \U0001f600 \u2028"]
    for i, text in enumerate(texts):
        record = _image(f"IMG-{i}")  # capitals: a casefolded name in the namer
        record.data.concepts.add(id=text, name=text, value=0.75)
        record.data.metadata.update({text: text, "n": -0.0, "big": 1e20, "tiny": 1e-7})
        _box(record, text, (0.1, 0.2, 0.5, 0.7), (text, text, 1.0))
        records.append(record)
    for input_id in ("con", "CON.jpg", "a.", "img-0", "Img-0", "x" * 200, "", "../up"):
        records.append(_image(input_id))
    odd = _image("odd-numbers", width=3, height=7)
    odd.data.metadata.update(
        {"z": 1.0, "a": [1.5, None, True, {"k": [0.1, 123456789.25]}], "m": {}, "e": []}
    )
    _box(odd, "neg", (-0.5, -0.25, -0.125, 1e-9), ("c", "C", 1.0))
    _box(odd, "huge", (0.0, 0.0, 3e38, 3e38), ("c", "C", 1.0))  # round() itself decides
    _box(odd, "zero", (0.0, 0.0, 0.0, 0.0), ("c", "C", 1.0))
    records.append(odd)
    wide = _image("wide-metadata")  # more keys than the C reader sorts on its stack
    wide.data.metadata.update({f"key-{(i * 7) % 40:02d}": float(i) for i in range(40)})
    records.append(wide)
    text, _ = _both(tmp_path, _archive(tmp_path / "in.zip", records))
    assert b'"quote \\" and \\\\ back"' in text


@needs_c
def test_inputs_the_c_reader_leaves_to_python(tmp_path: Path) -> None:
    """Each of these goes through the Python path, between inputs the C reader takes."""
    records = [_image("first")]
    no_format = _image("no-format", fmt="")
    no_size = _image("no-size", width=0, height=0)
    embedded = _image("embedded")
    embedded.data.image.base64 = png_bytes((8, 6))
    text = Input(id="text")
    text.data.text.raw = "hello"
    video = Input(id="video")
    video.data.video.url = "https://example.com/v.mp4"
    polygon = _image("polygon")
    region = polygon.data.regions.add(id="p")
    for row, col in ((0.0, 0.0), (0.0, 0.5), (0.5, 0.5)):
        region.region_info.polygon.points.add(row=row, col=col)
    region.data.concepts.add(id="dog", name="Dog", value=1.0)
    nan_box = _image("nan-box")
    _box(nan_box, "nan", (float("nan"), 0.0, 0.5, 0.5), ("dog", "Dog", 1.0))
    many = _image("many-labels")
    _box(many, "m", (0.1, 0.1, 0.2, 0.2), *[(f"c{i}", f"C{i}", 1.0) for i in range(70)])
    unlabelled = _image("unlabelled")
    _box(unlabelled, "u", (0.1, 0.1, 0.2, 0.2), ("dog", "Dog", 0.0))
    shapeless = _image("shapeless")
    shapeless.data.regions.add(id="s").data.concepts.add(id="dog", name="Dog", value=1.0)
    empty_info = _image("empty-info")
    r = empty_info.data.regions.add(id="e")
    r.region_info.SetInParent()
    r.data.concepts.add(id="dog", name="Dog", value=1.0)
    records += [no_format, no_size, embedded, text, video, polygon, nan_box, many]
    records += [unlabelled, shapeless, empty_info, _image("last")]
    _, report = _both(tmp_path, _archive(tmp_path / "in.zip", records, batch_size=4))
    assert report.skipped_inputs == {"text": 1, "video": 1}
    assert report.regions_without_concept == 1 and report.regions_without_shape == 3


@needs_c
def test_inputs_coco_leaves_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inputs without image, video or metadata are counted by the C reader without a
    call to Python, by kind as records.input_type says; the others (metadata may hold a
    split tag) still go to Python. Both ways give the same files and report."""
    text = Input(id="text")
    text.data.text.raw = "hello"
    audio = Input(id="audio")
    audio.data.audio.url = "https://example.com/a.wav"
    both = Input(id="text-and-audio")
    both.data.text.raw = "t"
    both.data.audio.url = "https://example.com/b.wav"
    nothing = Input(id="nothing")
    empty_data = Input(id="empty-data")
    empty_data.data.SetInParent()
    tagged = Input(id="tagged-text")
    tagged.data.text.raw = "t"
    tagged.data.metadata.update({"split": "val"})
    records = [_image("first"), text, audio, both, nothing, empty_data, tagged, _image("last")]
    archive = tmp_path / "in.zip"
    with ArchiveWriter(archive, batch_size=4) as writer:
        for record in records:
            writer.add(record)
        # Input.data twice: protobuf merges them, so this one is an image (text + image)
        merged = _image("merged")
        first = Input(id="merged")
        first.data.text.raw = "t"
        writer.add_serialized(first.SerializeToString() + merged.SerializeToString())
    asked: list[str] = []
    original = Input.FromString

    def parse(data: bytes) -> Input:
        record = original(data)
        asked.append(record.id)
        return record

    monkeypatch.setattr(coco_module.Input, "FromString", parse)
    _, report = _both(tmp_path, archive)
    assert report.skipped_inputs == {"audio": 1, "text": 3, "unknown": 2}
    assert report.images == 3
    assert "text" not in asked and "nothing" not in asked and "audio" not in asked
    assert "tagged-text" in asked and "merged" in asked


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited field (numbers below 16, payloads below 128 bytes)."""
    assert number < 16 and len(payload) < 128
    return bytes([number << 3 | 2, len(payload)]) + payload


@needs_c
def test_merged_fields_and_repeated_keys(tmp_path: Path) -> None:
    """Wire forms protobuf merges (a message field twice, a map key twice, an id twice)."""
    merged = _image("merged").SerializeToString()
    merged += Input(data={"concepts": [{"id": "a", "name": "A", "value": 1.0}]}).SerializeToString()
    first, second = Input(), Input()
    first.data.metadata.update({"k": "first"})
    second.data.metadata.update({"k": "second", "j": 1.0})
    keyed = _image("keys")
    keyed.data.metadata.MergeFromString(
        first.data.metadata.SerializeToString() + second.data.metadata.SerializeToString()
    )
    late = Input(data=_image("x").data).SerializeToString() + _field(1, b"early")
    late += _field(1, b"late-id")  # the last id counts
    batch = b"".join(
        _field(1, body) for body in (merged, keyed.SerializeToString(), late)
    ) + _field(1, _image("y").SerializeToString())
    path = tmp_path / "in.zip"
    with ArchiveWriter(path) as writer:
        writer.add_encoded_batch(batch, 4)
    text, report = _both(tmp_path, path)
    assert report.images == 4
    assert b'"clarifai_metadata":{"j":1.0,"k":"second"}' in text
    assert b'"clarifai_input_id":"late-id"' in text and b"early" not in text


def test_scan_batch_hands_deep_nesting_to_protobuf(tmp_path: Path) -> None:
    record = _image("deep")
    value: Any = "leaf"
    for _ in range(12):
        value = {"k": value}
    record.data.metadata.update({"v": value})
    data = InputBatch(inputs=[record]).SerializeToString()
    assert _native.scan_batch(data) is None
    if _native.SPEEDUPS is not None:
        shallow = InputBatch(inputs=[_image("shallow")]).SerializeToString()
        assert _native.scan_batch(shallow) == ["shallow"]
    archive = _archive(tmp_path / "in.zip", [record, _image("other")])
    fast = _convert(archive, tmp_path / "c", c_reader=True)
    plain = _convert(archive, tmp_path / "py", c_reader=False)
    assert fast.images == plain.images == 2
    assert (tmp_path / "c" / "annotations.json").read_bytes() == (
        tmp_path / "py" / "annotations.json"
    ).read_bytes()


def test_a_low_metadata_limit_is_checked_as_always(tmp_path: Path) -> None:
    record = _image("meta")
    record.data.metadata.update({"a": {"b": {"c": 1.0}}})
    archive = _archive(tmp_path / "in.zip", [record])
    limits = dataclasses.replace(DEFAULT_LIMITS, max_metadata_depth=2)
    for c_reader in (True, False):
        with pytest.raises(ToolkitError, match="metadata nests 3 levels deep"):
            _convert(archive, tmp_path / f"out-{c_reader}", c_reader=c_reader, limits=limits)


# -- generated inputs ------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.sampled_from(list('abcXYZ09-_. "\\/\x00\x1f\x7fé✓\U0001f600')), max_size=8
)
_FLOAT32 = st.floats(width=32, allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, -0.0, 0.1, 0.25, 0.5, 1.0, 1.5, -0.3]
)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(-(10**17), 10**17).map(float)
    | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def _inputs(draw: st.DrawFn) -> list[Input]:
    records = []
    ids = draw(st.lists(_TEXT | st.sampled_from(["a", "A", "con", "x" * 195]), max_size=12))
    for input_id in dict.fromkeys(ids):
        record = Input(id=input_id)
        data = record.data
        kind = draw(st.sampled_from(["image", "image", "image", "text", "none"]))
        if kind == "image":
            image = data.image
            info = image.image_info
            info.width = draw(st.sampled_from([0, 1, 3, 640, 4000]))
            info.height = draw(st.sampled_from([0, 1, 7, 480]))
            info.format = draw(st.sampled_from(["JPEG", "png", "", "weird", "JPG"]))
            if draw(st.booleans()):
                image.url = "https://example.com/a.png"
        elif kind == "text":
            data.text.raw = "t"
        for concept in draw(st.lists(st.tuples(_TEXT, _TEXT, _FLOAT32), max_size=3)):
            data.concepts.add(id=concept[0], name=concept[1], value=concept[2])
        if draw(st.booleans()):
            data.metadata.update(draw(st.dictionaries(_TEXT, _JSON, max_size=4)))
        for _ in range(draw(st.integers(0, 3))):
            region = data.regions.add(id=draw(_TEXT))
            shape = draw(st.sampled_from(["box", "box", "box", "none", "empty", "point"]))
            if shape == "box":
                b = region.region_info.bounding_box
                b.top_row, b.left_col, b.bottom_row, b.right_col = draw(
                    st.tuples(_FLOAT32, _FLOAT32, _FLOAT32, _FLOAT32)
                )
            elif shape == "empty":
                region.region_info.SetInParent()
            elif shape == "point":
                region.region_info.point.row, region.region_info.point.col = 0.5, 0.25
            for concept in draw(st.lists(st.tuples(_TEXT, _TEXT, _FLOAT32), max_size=2)):
                region.data.concepts.add(id=concept[0], name=concept[1], value=concept[2])
        records.append(record)
    return records


@needs_c
@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(records=_inputs())
def test_generated_inputs_are_the_same_both_ways(
    tmp_path_factory: Any, records: list[Input]
) -> None:
    if not records:
        return
    folder = tmp_path_factory.mktemp("gen")
    # Metadata nested deeper than the C reader goes makes a batch protobuf's alone.
    _both(folder, _archive(folder / "in.zip", records, batch_size=3), expect_c=False)


# -- damaged batches -------------------------------------------------------------------


@needs_c
def test_scan_batch_accepts_only_what_protobuf_parses() -> None:
    records = varied_inputs(12)
    for i, record in enumerate(records):
        record.data.metadata.update({"k": f"v{i}", "n": float(i), "l": [1.0, "x", None]})
    base = InputBatch(inputs=records).SerializeToString()
    assert _native.scan_batch(base) == [r.id for r in records]
    accepted = 0
    for data in damaged_copies(base, 4000, seed=29):
        ids = _native.scan_batch(data)
        if ids is None:
            continue
        accepted += 1
        try:
            batch = InputBatch.FromString(data)
        except DecodeError:
            pytest.fail(f"the C reader accepted a batch protobuf refuses: {data.hex()}")
        assert ids == [r.id for r in batch.inputs]
    assert accepted > 100  # the test sees both kinds


def _nonminimal(value: int, size: int) -> bytes:
    """``value`` as a varint of exactly ``size`` bytes."""
    return bytes(((value >> (7 * n)) & 0x7F) | (0x80 if n < size - 1 else 0) for n in range(size))


@needs_c
def test_non_minimal_varints_are_accepted_exactly_as_protobuf_accepts_them() -> None:
    # protobuf (upb) reads a tag or a length in at most 5 bytes and a value in at most
    # 10, whose 10th byte may carry bits past the 64th; the C reader once took 6-10 byte
    # tags and lengths (and refused 10th bytes above 1).
    inner = b"\x0a\x01a"  # Input.id = "a"
    cases = []
    for size in range(1, 12):
        cases.append(_nonminimal(1 << 3 | 2, size) + bytes([len(inner)]) + inner)  # tag
        cases.append(b"\x0a" + _nonminimal(len(inner), size) + inner)  # length
        value = inner + _nonminimal(1000 << 3, 2) + _nonminimal(5, size)  # unknown varint
        cases.append(b"\x0a" + bytes([len(value)]) + value)
    for last in (0, 1, 2, 0x7F, 0x80):
        value = inner + _nonminimal(1000 << 3, 2) + b"\xff" * 9 + bytes([last])
        cases.append(b"\x0a" + bytes([len(value)]) + value)
    accepted = refused = 0
    for data in cases:
        try:
            expected: list[str] | None = [r.id for r in InputBatch.FromString(data).inputs]
            accepted += 1
        except DecodeError:
            expected = None
            refused += 1
        assert _native.scan_batch(data) == expected, data.hex()
    assert accepted and refused


@needs_c
def test_scan_batch_agrees_with_protobuf_on_re_encoded_varints() -> None:
    from fuzz.harness import reencode_varints

    records = varied_inputs(8)
    base = InputBatch(inputs=records).SerializeToString()
    rng = random.Random(37)
    kinds = {True: 0, False: 0}
    for _ in range(1500):
        data = reencode_varints(rng, base, chance=rng.choice([0.01, 0.05, 0.2]))
        try:
            expected: list[str] | None = [r.id for r in InputBatch.FromString(data).inputs]
        except DecodeError:
            expected = None
        assert _native.scan_batch(data) == expected, data.hex()
        kinds[expected is None] += 1
    assert kinds[True] > 50 and kinds[False] > 50


@needs_c
def test_damaged_batches_convert_the_same_both_ways(tmp_path: Path) -> None:
    base_records = [_image(f"img-{i}") for i in range(6)]
    for i, record in enumerate(base_records):
        record.data.concepts.add(id="cat", name="Cat", value=1.0)
        record.data.metadata.update({"i": float(i), "s": "x"})
        _box(record, f"r{i}", (0.1, 0.2, 0.3, 0.4), ("cat", "Cat", 1.0))
    base = InputBatch(inputs=base_records).SerializeToString()
    checked = 0
    for n, data in enumerate(damaged_copies(base, 1500, seed=31)):
        if _native.scan_batch(data) is None:
            continue
        count = len(InputBatch.FromString(data).inputs)
        if count == 0 or checked >= 60:
            continue
        path = tmp_path / f"m{n}.zip"
        with ArchiveWriter(path) as writer:
            writer.add_encoded_batch(data, count)
        folder = tmp_path / f"m{n}"
        try:
            _both(folder, path)
        except ToolkitError as exc:  # an id given twice, say: both ways must agree
            with pytest.raises(type(exc)):
                _convert(path, folder / "py2", c_reader=False)
        checked += 1
    assert checked >= 20
    with zipfile.ZipFile(path) as zf:  # the last one written is a real archive
        assert zf.namelist()[0] == "mimetype"


def _every_field_records() -> list[Input]:
    grpc = pytest.importorskip("clarifai_grpc.grpc.api.resources_pb2")
    from schema_helpers import every_field_inputs

    return [Input.FromString(r.SerializeToString()) for r in every_field_inputs(grpc.Input)]


def _nesting(message) -> int:
    """Levels of messages below ``message`` (a map entry is one)."""
    deepest = 0
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            if field.message_type.fields_by_name["value"].message_type is None:
                deepest = max(deepest, 1)
                continue
            items, extra = list(value.values()), 1
        else:
            items, extra = (list(value) if field.is_repeated else [value]), 0
        for item in items:
            deepest = max(deepest, 1 + extra + _nesting(item))
    return deepest


@needs_c
def test_scan_batch_knows_every_field_clarifai_defines() -> None:
    """Batches filling every field of Clarifai's schema (maps, oneofs, packed uint64,
    Status, ...) pass the C reader's check; damaged copies it accepts, protobuf parses."""
    records = _every_field_records()
    shallow = [r for r in records if _nesting(r) <= 14]
    assert len(shallow) > 80
    for record in records:
        ids = _native.scan_batch(InputBatch(inputs=[record]).SerializeToString())
        # Below 16 levels (the batch and the input are two): read; deeper: protobuf's.
        assert ids == ([record.id] if record in shallow else None), record.id
    base = InputBatch(inputs=shallow[:12]).SerializeToString()
    accepted = 0
    for data in damaged_copies(base, 1500, seed=37):
        ids = _native.scan_batch(data)
        if ids is None:
            continue
        accepted += 1
        try:
            batch = InputBatch.FromString(data)
        except DecodeError:
            pytest.fail(f"the C reader accepted a batch protobuf refuses: {data.hex()}")
        assert ids == [r.id for r in batch.inputs]
    assert accepted > 50


@needs_c
def test_every_field_inputs_convert_the_same_both_ways(tmp_path: Path) -> None:
    records = _every_field_records()
    for record in records[::3]:  # some of them images with a size, for the fast path
        record.data.image.image_info.width = 64
        record.data.image.image_info.height = 48
    _both(tmp_path / "out", _archive(tmp_path / "every.zip", records, batch_size=16))


def _fresh_speedups() -> Any:
    """A second module object of the C reader, made from the same spec as the first."""
    import importlib.util

    spec = importlib.util.find_spec("toolkit._speedups")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_c
def test_each_module_object_has_its_own_schema_tables() -> None:
    # Multi-phase init (PEP 489): a new module object gets new state, so the tables the
    # toolkit loaded into the first are not seen by the second until it loads its own.
    loaded = _native.SPEEDUPS
    fresh = _fresh_speedups()
    assert fresh is not loaded
    batch = InputBatch(inputs=[_image("a"), _image("b")]).SerializeToString()
    for name, args in (
        ("scan_batch", (batch,)),
        ("table_arrow", ([batch],)),
        ("batch_vectors_packed", (batch, 0)),
    ):
        with pytest.raises(RuntimeError, match="load_schema was not called"):
            getattr(fresh, name)(*args)
    assert loaded.scan_batch(batch) == ["a", "b"]
    fresh.load_schema([[(1, 1, 0, 0)]])  # one table: field 1 a fixed32, not the inputs
    assert fresh.scan_batch(batch) is None  # its own tables: field 1 has the wrong wire type
    assert loaded.scan_batch(batch) == ["a", "b"]
    del fresh  # m_free releases the tables (AddressSanitizer: bench/fuzz_sanitized.py)


@needs_c
def test_load_schema_rejects_bad_tables_and_keeps_the_loaded_ones() -> None:
    fresh = _fresh_speedups()
    fresh.load_schema(_native.schema_tables(InputBatch.DESCRIPTOR))
    with pytest.raises(ValueError, match="bad field entry"):
        fresh.load_schema([[(1, 5, 0, 7)]])  # a message field naming a missing table
    with pytest.raises(ValueError, match="0 tables"):
        fresh.load_schema([])
    batch = InputBatch(inputs=[_image("a"), _image("b")]).SerializeToString()
    assert fresh.scan_batch(batch) == ["a", "b"]
    assert fresh.table_arrow([batch]) == _native.SPEEDUPS.table_arrow([batch])


@needs_c
def test_the_stub_names_every_function_with_its_parameters() -> None:
    # mypy's stubtest checks the types too (docs/internals.md); this is the quick check
    # that a function added to or changed in _speedups.c is in toolkit/_speedups.pyi.
    import ast
    import inspect

    stub = Path(_native.__file__).with_name("_speedups.pyi")
    declared: dict[str, list[str]] = {}
    for node in ast.parse(stub.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef):
            args = node.args
            assert not args.args and not args.kwonlyargs, f"{node.name}: positional-only"
            declared[node.name] = [a.arg for a in args.posonlyargs]
    module = _native.SPEEDUPS
    public = {name for name in dir(module) if not name.startswith("_")}
    assert set(declared) == public
    for name, params in declared.items():
        signature = inspect.signature(getattr(module, name))
        assert list(signature.parameters) == params, name
        assert all(p.kind is p.POSITIONAL_ONLY for p in signature.parameters.values()), name
