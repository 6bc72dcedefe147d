"""Property-based tests: random valid archives, and what every command must make of them.

Hypothesis builds inputs with every modelled field; the invariants are computed here,
independently of the toolkit (counts), or are exact round trips. The runs are
derandomized (the same examples every time) and small, so the suite stays fast.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.archive import ArchiveReader, write_archive
from toolkit.cli import cli
from toolkit.jsonmap import input_to_dict
from toolkit.messages import Input

SETTINGS = settings(
    max_examples=12,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

unit = st.floats(min_value=0.0, max_value=1.0, width=32)
float32 = st.floats(width=32, allow_nan=False, allow_infinity=False)
concept_ids = st.sampled_from(["cat", "dog", "ball", "tree", "x/y", "\u00e9t\u00e9", "a b"])
ids = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=12,
)
json_scalars = st.none() | st.booleans() | st.text(max_size=8)
json_scalars |= st.floats(allow_nan=False, allow_infinity=False)
metadata = st.dictionaries(
    st.text(max_size=6),
    st.recursive(
        json_scalars,
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=4), children, max_size=3)
        ),
        max_leaves=8,
    ),
    max_size=4,
)


@st.composite
def records(draw: st.DrawFn, input_id: str) -> Input:
    record = Input(id=input_id)
    data = record.data
    kind = draw(st.sampled_from(["image", "text", "video", "none"]))
    if kind == "image":
        data.image.base64 = draw(st.binary(max_size=24))
        if draw(st.booleans()):
            data.image.image_info.width = draw(st.integers(1, 5000))
            data.image.image_info.height = draw(st.integers(1, 5000))
    elif kind == "text":
        data.text.raw = draw(st.text(max_size=20))
    elif kind == "video":
        data.video.url = "https://example.com/v.mp4"
        for n in range(draw(st.integers(0, 2))):
            frame = data.frames.add()
            frame.frame_info.index = n
            if draw(st.booleans()):
                region = frame.data.regions.add(id=f"f{n}")
                region.region_info.bounding_box.top_row = draw(unit)
                region.data.concepts.add(id=draw(concept_ids), value=1.0)
    for concept_id in draw(st.lists(concept_ids, max_size=3, unique=True)):
        value = draw(st.sampled_from([0.0, 1.0]) | unit)
        data.concepts.add(id=concept_id, name=concept_id.title(), value=value)
    for n in range(draw(st.integers(0, 3))):
        region = data.regions.add(id=f"r{n}")
        shape = draw(st.sampled_from(["box", "polygon", "point", "mask", "none"]))
        info = region.region_info
        if shape == "box":
            box = info.bounding_box
            box.top_row, box.left_col = draw(unit), draw(unit)
            box.bottom_row, box.right_col = draw(unit), draw(unit)
        elif shape == "polygon":
            for _ in range(draw(st.integers(1, 4))):
                info.polygon.points.add(row=draw(unit), col=draw(unit))
        elif shape == "point":
            info.point.row, info.point.col = draw(unit), draw(unit)
        elif shape == "mask":
            info.mask.image.base64 = draw(st.binary(min_size=1, max_size=8))
        for concept_id in draw(st.lists(concept_ids, max_size=2, unique=True)):
            region.data.concepts.add(id=concept_id, value=draw(st.sampled_from([0.0, 1.0])))
    meta = draw(metadata)
    if meta:
        data.metadata.update(meta)
    for _ in range(draw(st.integers(0, 2))):
        vector = draw(st.lists(float32, min_size=1, max_size=6))
        data.embeddings.add(vector=vector, num_dimensions=len(vector))
    return record


@st.composite
def datasets(draw: st.DrawFn) -> list[Input]:
    unique_ids = draw(st.lists(ids, min_size=1, max_size=12, unique=True))
    return [draw(records(i)) for i in unique_ids]


def expected_counts(inputs: list[Input]) -> dict[str, int]:
    """The dataset version metrics, counted here the plain way."""
    counts = dict.fromkeys(
        [
            "inputs_count",
            "unlabeled_inputs_count",
            "inputs_with_metadata_count",
            "regions_count",
            "bounding_boxes_count",
            "polygons_count",
            "points_count",
            "masks_count",
            "frames_count",
            "embeddings_count",
            "positive_input_tags_count",
            "positive_region_tags_count",
        ],
        0,
    )
    for record in inputs:
        data = record.data
        regions = list(data.regions) + [r for f in data.frames for r in f.data.regions]
        concepts = list(data.concepts) + [c for f in data.frames for c in f.data.concepts]
        counts["inputs_count"] += 1
        counts["unlabeled_inputs_count"] += not (regions or concepts)
        counts["inputs_with_metadata_count"] += len(data.metadata.fields) > 0
        counts["regions_count"] += len(regions)
        for region in regions:
            counts["bounding_boxes_count"] += region.region_info.HasField("bounding_box")
            counts["polygons_count"] += region.region_info.HasField("polygon")
            counts["points_count"] += region.region_info.HasField("point")
            counts["masks_count"] += region.region_info.HasField("mask")
            counts["positive_region_tags_count"] += sum(c.value > 0 for c in region.data.concepts)
        counts["frames_count"] += len(data.frames)
        counts["embeddings_count"] += len(data.embeddings)
        counts["positive_input_tags_count"] += sum(c.value > 0 for c in concepts)
    return counts


def _write(folder: Path, inputs: list[Input], **options) -> Path:
    path = folder / "archive.zip"
    write_archive(path, inputs, **options)
    return path


@SETTINGS
@given(
    inputs=datasets(),
    batch_size=st.integers(1, 5),
    compress=st.booleans(),
    flavour=st.sampled_from(["protobuf", "json"]),
)
def test_write_read_round_trip_is_exact(inputs, batch_size, compress, flavour) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), inputs, batch_size=batch_size, compress=compress, flavour=flavour)
        with ArchiveReader(path) as reader:
            assert reader.flavour == flavour
            assert len(reader.entries) == math.ceil(len(inputs) / batch_size)
            assert reader.declared_count == len(inputs)
            back = list(reader.iter_inputs())
    assert back == inputs


@SETTINGS
@given(inputs=datasets(), flavour=st.sampled_from(["protobuf", "json"]))
def test_info_counts_match_the_generated_data(inputs, flavour) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), inputs, batch_size=3, flavour=flavour)
        result = CliRunner().invoke(cli, ["info", str(path), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)
    for key, value in expected_counts(inputs).items():
        assert metrics[key] == value, key


@SETTINGS
@given(
    inputs=datasets(),
    per_page=st.integers(1, 5),
    page=st.integers(1, 4),
    which=st.integers(0, 100),
)
def test_inputs_list_pages_and_get(inputs, per_page, page, which) -> None:
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), inputs, batch_size=2)
        listed = runner.invoke(
            cli,
            ["inputs", "list", str(path), "--json", "--per-page", str(per_page)]
            + ["--page", str(page)],
            catch_exceptions=False,
        )
        wanted = inputs[which % len(inputs)]
        got = runner.invoke(cli, ["inputs", "get", str(path), wanted.id], catch_exceptions=False)
    assert listed.exit_code == 0, listed.stderr
    page_ids = [json.loads(line)["id"] for line in listed.stdout.split("\n") if line]
    assert page_ids == [r.id for r in inputs][(page - 1) * per_page : page * per_page]
    assert got.exit_code == 0, got.stderr
    assert json.loads(got.stdout) == input_to_dict(wanted)


def _read(path: Path) -> list[Input]:
    with ArchiveReader(path, allow_empty=True) as reader:
        return list(reader.iter_inputs())


def _invoke(*args: str) -> None:
    result = CliRunner().invoke(cli, ["-q", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr


@SETTINGS
@given(inputs=datasets(), source=st.sampled_from(["protobuf", "json"]))
def test_convert_round_trips_are_exact(inputs, source) -> None:
    """protobuf -> json -> protobuf, and each step read back, give the same inputs."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        src = _write(folder, inputs, batch_size=3, flavour=source)
        _invoke("convert", str(src), "--to", "json", "-o", str(folder / "a.zip"))
        _invoke("convert", str(folder / "a.zip"), "--to", "protobuf", "-o", str(folder / "b.zip"))
        _invoke("convert", str(src), "--to", "jsonl", "-o", str(folder / "c.jsonl"))
        as_json, back = _read(folder / "a.zip"), _read(folder / "b.zip")
        lines = (folder / "c.jsonl").read_text("utf-8").split("\n")
    assert as_json == inputs
    assert back == inputs
    assert [json.loads(line) for line in lines if line] == [input_to_dict(r) for r in inputs]


@SETTINGS
@given(inputs=datasets(), cut=st.integers(0, 12), flavour=st.sampled_from(["protobuf", "json"]))
def test_merge_of_disjoint_parts_is_everything(inputs, cut, flavour) -> None:
    cut = min(cut, len(inputs))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        first = folder / "first.zip"
        second = folder / "second.zip"
        write_archive(first, inputs[:cut], batch_size=2, flavour=flavour)
        write_archive(second, inputs[cut:], batch_size=3)
        _invoke("merge", str(first), str(second), "-o", str(folder / "all.zip"))
        merged = _read(folder / "all.zip")
    assert merged == inputs


@SETTINGS
@given(inputs=datasets(), seed=st.integers(0, 5), stratify=st.booleans())
def test_split_partitions_and_remove_filter_complement(inputs, seed, stratify) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        src = _write(folder, inputs, batch_size=2)
        args = ["split", str(src), "--ratios", "a=0.6,b=0.4", "--seed", str(seed)]
        stratified = ["--stratify-by", "concept"] if stratify else []
        _invoke(*args, *stratified, "-o", str(folder / "s"), "--allow-empty")
        parts = [_read(folder / "s" / "a.zip"), _read(folder / "s" / "b.zip")]
        gone = inputs[0].id
        _invoke(
            "remove", str(src), "--id", gone, "-o", str(folder / "removed.zip"), "--allow-empty"
        )
        args = ["filter", str(src), "--concept", "CAT", "-o", str(folder / "cats.zip")]
        filtered = CliRunner().invoke(cli, ["-q", *args, "--allow-empty"], catch_exceptions=False)
        removed = _read(folder / "removed.zip")
        cats = _read(folder / "cats.zip") if filtered.exit_code == 0 else None
    by_id = {r.id: r for r in inputs}
    assert sorted(r.id for part in parts for r in part) == sorted(by_id)
    assert all(by_id[r.id] == r for part in parts for r in part)
    assert removed == [r for r in inputs if r.id != gone]
    # --concept is an id or a name in any case; a concept the archive lacks is an error.
    if any(_labels(r, "cat", positive=False) for r in inputs):
        assert filtered.exit_code == 0, filtered.stderr
        assert cats == [r for r in inputs if _labels(r, "cat", positive=True)]
    else:
        assert filtered.exit_code == 1 and "no concept 'CAT'" in filtered.stderr


def _labels(record: Input, key: str, *, positive: bool) -> bool:
    """An independent reading of --concept: a label (positive only, or any) whose id or
    name folds to ``key``, on the input, a frame, or a region of either."""
    data = record.data
    holders = [data, *(f.data for f in data.frames)]
    holders += [r.data for d in list(holders) for r in d.regions]
    return any(
        (c.value > 0 or not positive) and key in (c.id.casefold(), c.name.casefold())
        for holder in holders
        for c in holder.concepts
    )
