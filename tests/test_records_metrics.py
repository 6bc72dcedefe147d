"""Record helpers and metrics, including FORMAT.md's pitfalls."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import make_input

from toolkit.archive import ArchiveReader
from toolkit.messages import Input
from toolkit.metrics import compute_metrics
from toolkit.records import (
    embedding_vector,
    has_concept,
    has_labels,
    input_type,
    iter_regions,
    media_bytes,
    positive_concepts,
    region_shapes,
)

GOLDEN = Path(__file__).parent / "golden"


def _video_with_frame_regions() -> Input:
    record = Input(id="vid")
    record.data.video.url = "https://example.com/v.mp4"
    frame = record.data.frames.add(id="f1")
    frame.frame_info.time = 2000
    region = frame.data.regions.add(id="fr1")
    region.region_info.bounding_box.right_col = 0.5
    region.region_info.bounding_box.bottom_row = 0.5
    region.data.concepts.add(id="car", name="Car", value=1.0)
    return record


def test_zero_values_are_omitted_on_the_wire_and_read_as_zero() -> None:
    record = make_input("z", boxes=[("cat", 0.0, 0.0, 0.5, 0.5)], concepts=[("dog", 0.0)])
    point = record.data.regions.add(id="p").region_info.point
    point.row, point.col = 0.5, 0.0
    wire = record.SerializeToString()
    again = Input.FromString(wire)
    box = again.data.regions[0].region_info.bounding_box
    assert (box.top_row, box.left_col, box.bottom_row, box.right_col) == (0.0, 0.0, 0.5, 0.5)
    assert again.data.regions[1].region_info.point.col == 0.0
    assert again.data.concepts[0].value == 0.0
    assert positive_concepts(again.data) == []
    assert region_shapes(again.data.regions[0]) == ["bounding_box"]
    assert region_shapes(again.data.regions[1]) == ["point"]


def test_struct_numbers_are_doubles() -> None:
    record = make_input("m", metadata={"frame": 12, "nested": {"list": [1, "a"]}})
    again = Input.FromString(record.SerializeToString())
    assert again.data.metadata["frame"] == 12.0
    assert isinstance(again.data.metadata["frame"], float)
    assert list(again.data.metadata["nested"]["list"]) == [1.0, "a"]


def test_negative_concepts_label_but_do_not_count_as_positive() -> None:
    negative_only = make_input("n", concepts=[("dog", 0.0)])
    assert has_labels(negative_only)
    assert not has_concept(negative_only, "dog")
    metrics = compute_metrics([negative_only])
    assert metrics.unlabeled_inputs_count == 0
    assert metrics.positive_input_tags_count == 0
    assert metrics.concepts["dog"].negatives == 1
    assert metrics.concepts["dog"].inputs == 0


def test_video_frames_with_regions() -> None:
    record = _video_with_frame_regions()
    assert input_type(record) == "video"
    assert [r.id for r in iter_regions(record)] == ["fr1"]
    assert has_concept(record, "car")
    assert has_labels(record)
    metrics = compute_metrics([record])
    assert metrics.frames_count == 1
    assert metrics.regions_count == 1
    assert metrics.bounding_boxes_count == 1
    assert metrics.concepts["car"].regions == 1
    assert metrics.input_types == {"video": 1}


def test_text_input() -> None:
    record = make_input("t", text="héllo")
    assert input_type(record) == "text"
    assert media_bytes(record) == "héllo".encode()
    assert embedding_vector(record) is None
    metrics = compute_metrics([record])
    assert metrics.unlabeled_inputs_count == 1
    assert metrics.image_width_range is None


def test_embedding_vector_is_float32() -> None:
    record = make_input("e", vector=[0.5, 1.5, -2.0])
    vec = embedding_vector(record)
    assert vec is not None and vec.dtype.name == "float32" and vec.tolist() == [0.5, 1.5, -2.0]
    assert embedding_vector(record, which=1) is None


def test_metrics_by_hand() -> None:
    records = [
        make_input("a", concepts=[("cat", 1.0)], width=100, height=50, vector=[1, 2]),
        make_input(
            "b", boxes=[("cat", 0.1, 0.1, 0.2, 0.2), ("dog", 0, 0, 1, 1)], metadata={"k": 1}
        ),
        make_input("c"),
        _video_with_frame_regions(),
    ]
    m = compute_metrics(records)
    assert (m.inputs_count, m.unlabeled_inputs_count, m.inputs_with_metadata_count) == (4, 1, 1)
    assert (m.regions_count, m.bounding_boxes_count, m.embeddings_count) == (3, 3, 1)
    assert (m.positive_input_tags_count, m.positive_region_tags_count) == (1, 3)
    assert m.concepts["cat"].inputs == 1 and m.concepts["cat"].regions == 1
    assert m.concepts["cat"].name == "Cat"
    assert m.embedding_dimensions == {2: 1}
    assert m.image_width_range == [100, 100] and m.image_height_range == [50, 50]
    proto = m.to_proto()
    assert proto.inputs_count.value == 4 and proto.regions_count.value == 3


def test_sample_metrics_match_golden(sample_archive: Path) -> None:
    with ArchiveReader(sample_archive) as reader:
        metrics = compute_metrics(reader.iter_inputs())
    expected = json.loads((GOLDEN / "info_sample.json").read_text())
    assert metrics.to_dict() == expected
