"""relabel_archive, RelabelRules and clarifai-archive relabel."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from helpers import make_input
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from merge_helpers import hashes, leftovers, read_ids, read_inputs, wire

from toolkit.archive import write_archive
from toolkit.cli import cli
from toolkit.errors import OutputError, SchemaError
from toolkit.messages import Input
from toolkit.relabel import (
    RelabelRules,
    merge_into,
    parse_map_file,
    parse_mapping,
    relabel_archive,
)


def _regions(record: Input) -> list:
    return list(record.data.regions)


def _labels(data) -> list[tuple[str, float]]:
    return [(c.id, c.value) for c in data.concepts]


def _video() -> Input:
    record = Input(id="vid1")
    record.data.video.url = "https://example.com/v.mp4"
    record.data.video.video_info.width = 100
    record.data.video.video_info.height = 50
    frame = record.data.frames.add(id="f0")
    frame.data.concepts.add(id="car", name="Car", value=1.0)
    region = frame.data.regions.add(id="fr0")
    box = region.region_info.bounding_box
    # 0.1 x 0.1 of 100 x 50 = 10 x 5 = 50 px
    box.top_row, box.left_col, box.bottom_row, box.right_col = 0.0, 0.0, 0.1, 0.1
    region.data.concepts.add(id="truck", name="Truck", value=1.0)
    return record


@pytest.fixture(name="records")
def _records() -> list[Input]:
    a = make_input(
        "a",
        image_bytes=b"1",
        width=200,
        height=100,
        concepts=[("car", 1.0), ("truck", 0.0), ("person", 1.0)],
        # box 0.5 x 0.5 of 200 x 100 = 100 x 50 = 5000 px; box 0.1 x 0.1 = 20 x 10 = 200 px
        boxes=[("car", 0.0, 0.0, 0.5, 0.5), ("person", 0.0, 0.0, 0.1, 0.1)],
    )
    point = a.data.regions.add(id="a-pt")
    point.region_info.point.row = 0.5
    point.data.concepts.add(id="person", name="Person", value=1.0)
    b = make_input("b", image_bytes=b"2", concepts=[("truck", 1.0), ("car", 1.0)])
    c = make_input("c", image_bytes=b"3", concepts=[("dog", 1.0)], vector=[0.1, 0.2])
    d = make_input("d", image_bytes=b"4", boxes=[("car", 0.1, 0.1, 0.2, 0.2)])  # no size
    return [a, b, c, d, _video()]


@pytest.fixture(name="archive")
def _archive(make_archive, records):
    return make_archive(records, "src.zip", batch_size=2)


def _run(archive, tmp_path, **rules):
    out = tmp_path / "out.zip"
    report = relabel_archive(archive, out, rules=RelabelRules(**rules))
    return report, {r.id: r for r in read_inputs(out)}


def test_map_by_name_merges_and_positive_wins(archive, tmp_path):
    # "Truck" is a name, "car" an id: both become "vehicle" (a new id).
    report, out = _run(archive, tmp_path, mapping=(("Truck", "vehicle"), ("car", "vehicle")))
    # a: car 1.0 stays first and takes truck's place; truck (0.0) merges into it.
    assert _labels(out["a"].data) == [("vehicle", 1.0), ("person", 1.0)]
    assert out["a"].data.concepts[0].name == "vehicle"
    # b: truck 1.0 first, car merged: one label, no duplicate.
    assert _labels(out["b"].data) == [("vehicle", 1.0)]
    assert _labels(out["a"].data.regions[0].data) == [("vehicle", 1.0)]
    assert _labels(out["vid1"].data.frames[0].data) == [("vehicle", 1.0)]
    assert _labels(out["vid1"].data.frames[0].data.regions[0].data) == [("vehicle", 1.0)]
    car, truck = report.concepts["car"], report.concepts["truck"]
    assert (car.labels, car.changed, car.merged, car.dropped, car.to) == (5, 4, 1, 0, "vehicle")
    assert (truck.labels, truck.changed, truck.merged, truck.dropped) == (3, 2, 1, 0)
    assert report.labels_after["vehicle"] == 6
    assert report.concepts["person"].unchanged == 3
    assert report.inputs_read == report.inputs_written == 5
    assert report.inputs_changed == 4  # every input but c
    assert read_ids(tmp_path / "out.zip") == ["a", "b", "c", "d", "vid1"]


def test_negative_merged_into_positive_takes_its_value(make_archive, tmp_path):
    record = make_input("x", image_bytes=b"1", concepts=[("cat", 0.0), ("kitten", 0.8)])
    archive = make_archive([record])
    report, out = _run(archive, tmp_path, mapping=merge_into("cat", ["kitten"]))
    assert _labels(out["x"].data) == [("cat", pytest.approx(0.8))]
    assert out["x"].data.concepts[0].name == "Cat"  # an existing concept keeps its name
    assert report.concepts["kitten"].merged == 1


def test_unchanged_inputs_are_copied_as_they_were(archive, tmp_path, records):
    _report, out = _run(archive, tmp_path, mapping=(("dog", "canine"),))
    for record in records:
        if record.id != "c":
            assert wire(out[record.id]) == wire(record)
    assert _labels(out["c"].data) == [("canine", 1.0)]
    assert out["c"].data.embeddings[0].vector == pytest.approx([0.1, 0.2])


def test_drop_and_keep_name_concepts_after_the_map(archive, tmp_path):
    report, out = _run(archive, tmp_path, mapping=(("car", "vehicle"),), keep_concepts=("car",))
    # "car" stands for its new id "vehicle": everything else goes.
    assert _labels(out["a"].data) == [("vehicle", 1.0)]
    assert _labels(out["b"].data) == [("vehicle", 1.0)]
    assert [r.id for r in out["a"].data.regions] == ["a-r0"]  # person's regions emptied
    assert report.regions_dropped == {"empty": 3}
    assert report.concepts["person"].dropped == 3
    _report, out = _run(archive, tmp_path, drop_concepts=("Person",))
    assert _labels(out["a"].data) == [("car", 1.0), ("truck", 0.0)]


def test_empty_regions_keep(archive, tmp_path):
    report, out = _run(archive, tmp_path, drop_concepts=("person",), empty_regions="keep")
    assert [r.id for r in out["a"].data.regions] == ["a-r0", "a-r1", "a-pt"]
    assert _labels(out["a"].data.regions[1].data) == []
    assert report.regions_dropped == {}


def test_drop_negatives_and_shapes(archive, tmp_path):
    report, out = _run(archive, tmp_path, drop_negatives=True, drop_regions=("point",))
    assert _labels(out["a"].data) == [("car", 1.0), ("person", 1.0)]
    assert [r.id for r in out["a"].data.regions] == ["a-r0", "a-r1"]
    assert report.regions_dropped == {"shape:point": 1}
    assert report.concepts["truck"].dropped == 1
    assert report.concepts["person"].dropped == 1  # the point's label went with it
    _report, out = _run(archive, tmp_path, drop_regions=("box",))
    assert [r.id for r in out["a"].data.regions] == ["a-pt"]
    assert out["d"].data.regions == []


def test_min_box_area(archive, tmp_path):
    with pytest.raises(SchemaError, match="input 'd' has boxes but no image size"):
        _run(archive, tmp_path, min_box_area=100)
    assert not (tmp_path / "out.zip").exists() and leftovers(tmp_path) == []
    report, out = _run(archive, tmp_path, min_box_area=201, keep_unsized=True)
    assert [r.id for r in out["a"].data.regions] == ["a-r0", "a-pt"]  # 200 px box dropped
    assert [r.id for r in out["d"].data.regions] == ["d-r0"]  # kept, counted
    assert out["vid1"].data.frames[0].data.regions == []  # 50 px of the video frame
    assert report.regions_dropped == {"small_box": 2}
    assert report.boxes_unsized == 1
    _report, out = _run(archive, tmp_path, min_box_area=200, keep_unsized=True)
    assert [r.id for r in out["a"].data.regions] == ["a-r0", "a-r1", "a-pt"]


def test_unknown_concept_names_the_closest(archive, tmp_path):
    with pytest.raises(SchemaError) as caught:
        _run(archive, tmp_path, mapping=(("trucks", "vehicle"),))
    message = str(caught.value)
    assert "map 'trucks' is not a concept of the archive" in message
    assert "closest: 'truck' (Truck)" in message
    assert not (tmp_path / "out.zip").exists()
    with pytest.raises(SchemaError, match="keep-concepts 'vehicles'.*closest: 'vehicle'"):
        _run(archive, tmp_path, mapping=(("car", "vehicle"),), keep_concepts=("vehicles",))
    with pytest.raises(SchemaError, match="mapped twice"):
        _run(archive, tmp_path, mapping=(("car", "a"), ("Car", "b")))


def test_source_untouched_and_not_overwritten(archive, tmp_path):
    before = hashes([archive])
    _run(archive, tmp_path, mapping=(("car", "vehicle"),))
    assert hashes([archive]) == before
    with pytest.raises(OutputError, match="sources are never modified"):
        relabel_archive(archive, archive, rules=RelabelRules(drop_negatives=True))


def test_json_flavour(make_archive, records, tmp_path):
    archive = make_archive(records, "src-json.zip", flavour="json")
    out = tmp_path / "out.zip"
    relabel_archive(
        archive, out, rules=RelabelRules(mapping=(("car", "vehicle"),)), flavour="protobuf"
    )
    got = {r.id: r for r in read_inputs(out)}
    assert _labels(got["b"].data) == [("truck", 1.0), ("vehicle", 1.0)]


def test_parse_helpers():
    assert parse_mapping(" Car = vehicle ") == ("Car", "vehicle")
    with pytest.raises(ValueError, match="is not OLD=NEW"):
        parse_mapping("car")
    assert parse_map_file('{"car": "vehicle", "bus": "vehicle"}') == [
        ("car", "vehicle"),
        ("bus", "vehicle"),
    ]
    assert parse_map_file('[["car", "vehicle"]]') == [("car", "vehicle")]
    assert parse_map_file("old,new\n# comment\ncar, vehicle\n\nbus,vehicle\n") == [
        ("car", "vehicle"),
        ("bus", "vehicle"),
    ]
    with pytest.raises(ValueError, match="line 1: expected two columns"):
        parse_map_file("car,vehicle,x\n")
    with pytest.raises(ValueError, match="not a pair"):
        parse_map_file('{"car": 3}')
    with pytest.raises(ValueError, match="unknown region shape"):
        RelabelRules(drop_regions=("circle",))


# -- property: labels are conserved as the map says ----------------------------------

_POOL = ["a", "b", "c", "d", "e"]


@st.composite
def _archives(draw):
    records = []
    for n in range(draw(st.integers(1, 6))):
        record = Input(id=f"in{n}")
        record.data.image.base64 = b"x"
        for concept_id in draw(st.lists(st.sampled_from(_POOL), max_size=6)):
            value = draw(st.sampled_from([0.0, 0.5, 1.0]))
            record.data.concepts.add(id=concept_id, name=concept_id.upper(), value=value)
        for r in range(draw(st.integers(0, 2))):
            region = record.data.regions.add(id=f"in{n}-r{r}")
            region.region_info.bounding_box.bottom_row = 0.5
            region.region_info.bounding_box.right_col = 0.5
            for concept_id in draw(st.lists(st.sampled_from(_POOL), min_size=1, max_size=3)):
                region.data.concepts.add(id=concept_id, value=1.0)
        records.append(record)
    mapping = draw(st.dictionaries(st.sampled_from(_POOL), st.sampled_from(_POOL + ["z"])))
    drop = draw(st.lists(st.sampled_from(_POOL), max_size=2))
    return records, mapping, drop, draw(st.booleans())


def _count(records) -> Counter:
    counts: Counter = Counter()
    for record in records:
        counts.update(c.id for c in record.data.concepts)
        for region in record.data.regions:
            counts.update(c.id for c in region.data.concepts)
    return counts


@settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=_archives())
def test_property_labels_conserved(tmp_path, case):
    records, mapping, drop, negatives = case
    source = tmp_path / "p-src.zip"
    out = tmp_path / "p-out.zip"
    write_archive(source, records, batch_size=2)
    present = set(_count(records))
    mapping = {k: v for k, v in mapping.items() if k in present}
    final = {c: mapping.get(c, c) for c in _POOL}
    drop = [d for d in drop if d in present or d in mapping.values()]
    rules = RelabelRules(
        mapping=tuple(mapping.items()), drop_concepts=tuple(drop), drop_negatives=negatives
    )
    report = relabel_archive(source, out, rules=rules)
    written = read_inputs(out)
    before, after = _count(records), _count(written)
    for concept_id, change in report.concepts.items():
        assert change.labels == before[concept_id]
        assert change.labels == change.unchanged + change.changed + change.merged + change.dropped
        assert change.to == final[concept_id]
    # Each new id holds exactly the labels kept from the concepts mapped to it.
    expected: Counter = Counter()
    for change in report.concepts.values():
        expected[change.to] += change.unchanged + change.changed
    assert after == +expected == Counter(report.labels_after)
    dropped_ids = {final[d] if d in present else d for d in drop}
    for record in written:
        lists = [record.data] + [region.data for region in record.data.regions]
        for data in lists:
            ids = [c.id for c in data.concepts]
            assert len(ids) == len(set(ids))  # merged, never duplicated
            assert not dropped_ids & set(ids)
            if negatives:
                assert all(c.value > 0 for c in data.concepts)
    # Merging keeps the best value of the labels that became one.
    for old, new in zip(records, written, strict=True):
        best: dict[str, float] = {}
        for c in old.data.concepts:
            if negatives and not c.value > 0:
                continue
            target = final[c.id]
            best[target] = max(best.get(target, -1.0), c.value)
        for c in new.data.concepts:
            assert c.value == pytest.approx(best[c.id])


# -- CLI ----------------------------------------------------------------------------------


class TestCli:
    def test_relabel(self, runner, archive, tmp_path):
        out = tmp_path / "out.zip"
        report = tmp_path / "r.json"
        mapping = tmp_path / "map.csv"
        mapping.write_text("old,new\nTruck,vehicle\n")
        args = ["relabel", str(archive), "-o", str(out), "--map", "car=vehicle"]
        args += ["--map-file", str(mapping), "--drop-regions", "point", "--report", str(report)]
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
        assert result.stderr.splitlines()[0] == f"Relabelled 4 of 5 inputs; wrote 5 to {out}."
        assert "regions dropped: shape:point 1" in result.stderr
        data = json.loads(report.read_text())
        assert data["concepts"]["truck"]["to"] == "vehicle"
        assert data["rules"]["map"] == ["car=vehicle", "Truck=vehicle"]
        assert data["regions_dropped"] == {"shape:point": 1}

    def test_merge_into_and_json_map(self, runner, archive, tmp_path):
        out = tmp_path / "out.zip"
        mapping = tmp_path / "map.json"
        mapping.write_text('{"dog": "animal"}')
        args = ["relabel", str(archive), "-o", str(out), "--merge-into", "vehicle=car,truck"]
        args += ["--map-file", str(mapping), "--keep-concepts", "vehicle,dog"]
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
        got = {r.id: r for r in read_inputs(out)}
        assert _labels(got["b"].data) == [("vehicle", 1.0)]
        assert _labels(got["c"].data) == [("animal", 1.0)]

    def test_errors(self, runner, archive, tmp_path):
        out = tmp_path / "out.zip"
        result = runner.invoke(cli, ["relabel", str(archive), "-o", str(out)])
        assert result.exit_code == 2 and "nothing to change" in result.stderr
        result = runner.invoke(cli, ["relabel", str(archive), "-o", str(out), "--map", "car"])
        assert result.exit_code == 2 and "is not OLD=NEW" in result.stderr
        args = ["relabel", str(archive), "-o", str(out), "--drop-regions", "circle"]
        result = runner.invoke(cli, args)
        assert result.exit_code == 2 and "not a region shape" in result.stderr
        result = runner.invoke(
            cli, ["relabel", str(archive), "-o", str(out), "--keep-concepts", ","]
        )
        assert result.exit_code == 2 and "needs at least one concept" in result.stderr
        args = ["relabel", str(archive), "-o", str(out), "--keep-unsized"]
        result = runner.invoke(cli, args)
        assert result.exit_code == 2 and "--keep-unsized goes with --min-box-area" in result.stderr
        result = runner.invoke(cli, ["relabel", str(archive), "-o", str(out), "--map", "cars=v"])
        assert result.exit_code == 1
        assert result.stderr.startswith("Error: ")
        assert "closest: 'car' (Car)" in result.stderr and "Traceback" not in result.stderr
        args = ["relabel", str(archive), "-o", str(out), "--min-box-area", "10"]
        result = runner.invoke(cli, args)
        assert result.exit_code == 1 and "input 'd'" in result.stderr
        assert not out.exists() and leftovers(tmp_path) == []
