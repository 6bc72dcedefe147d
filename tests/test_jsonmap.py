"""The JSON mapping: equal to protobuf's own, bit-exact round trips, deterministic bytes."""

from __future__ import annotations

import json
import math
import struct

import numpy as np
import orjson
import pytest
from google.protobuf import json_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schema_helpers import every_field_inputs

from toolkit.errors import SchemaError
from toolkit.jsonmap import (
    batch_to_json_bytes,
    input_from_json,
    input_to_dict,
    input_to_json,
    input_to_json_bytes,
    message_to_dict,
    message_to_json_bytes,
)
from toolkit.messages import DatasetVersion, Input, InputBatch, Point
from toolkit.unknown import find_unknown_fields

grpc = pytest.importorskip("clarifai_grpc.grpc.api.resources_pb2")

FLT_MAX = float(np.finfo(np.float32).max)

# -- generating inputs that touch every field type ------------------------------------

texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12
)  # no lone surrogates: protobuf strings are UTF-8
float32s = st.floats(width=32, allow_nan=False)
# NaN has many bit patterns; protobuf's JSON has one ("NaN"), so only the canonical one.
float32s_with_specials = st.one_of(
    float32s, st.sampled_from([math.inf, -math.inf, math.nan, -0.0, 1e-45, 3.4028235e38])
)
doubles = st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    st.none() | st.booleans() | doubles | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=8,
)
metadata = st.dictionaries(texts, json_values, max_size=4)


@st.composite
def points(draw: st.DrawFn) -> dict:
    return {
        "row": draw(float32s_with_specials),
        "col": draw(float32s_with_specials),
        "z": draw(float32s),
        "visibility": draw(st.sampled_from([0, 1, 2, 3, 7])),  # 7: an unknown enum value
    }


def _fill_data(data, draw: st.DrawFn, depth: int) -> None:
    kind = draw(st.sampled_from(["image", "video", "text", "audio", "none"]))
    if kind == "image":
        image = data.image
        image.url = draw(texts)
        image.base64 = draw(st.binary(max_size=20))
        if draw(st.booleans()):
            image.hosted.prefix = draw(texts)
            image.hosted.suffix = draw(texts)
            image.hosted.sizes.extend(draw(st.lists(texts, max_size=3)))
        image.image_info.width = draw(st.integers(-(2**31), 2**31 - 1))
        image.image_info.height = draw(st.integers(0, 5000))
        image.image_info.format = draw(texts)
    elif kind == "video":
        video = data.video
        video.base64 = draw(st.binary(max_size=8))
        video.video_info.fps = draw(float32s_with_specials)
        video.video_info.duration_seconds = draw(float32s)
    elif kind == "text":
        data.text.raw = draw(texts)
        data.text.text_info.char_count = draw(st.integers(0, 100))
    elif kind == "audio":
        data.audio.url = draw(texts)
        data.audio.audio_info.duration_seconds = draw(float32s)
    for _ in range(draw(st.integers(0, 3))):
        data.concepts.add(
            id=draw(texts), name=draw(texts), value=draw(float32s_with_specials), app_id="a"
        )
    if draw(st.booleans()):
        data.metadata.update(draw(metadata))
    for _ in range(draw(st.integers(0, 2))):
        vector = draw(st.lists(float32s_with_specials, max_size=9))
        data.embeddings.add(vector=vector, num_dimensions=len(vector))
    if depth < 2:
        for _ in range(draw(st.integers(0, 2))):
            region = data.regions.add(id=draw(texts), value=draw(float32s), track_id=draw(texts))
            info = region.region_info
            shape = draw(st.sampled_from(["box", "polygon", "point", "mask", "keypoints"]))
            if shape == "box":
                box = info.bounding_box
                box.top_row, box.left_col = draw(float32s), draw(float32s_with_specials)
                box.bottom_row, box.right_col = draw(float32s), draw(float32s)
            elif shape == "polygon":
                for p in draw(st.lists(points(), min_size=1, max_size=4)):
                    info.polygon.points.add(**p)
            elif shape == "point":
                info.point.CopyFrom(Point(**draw(points())))
            elif shape == "mask":
                info.mask.image.base64 = draw(st.binary(min_size=1, max_size=10))
            else:
                for p in draw(st.lists(points(), max_size=3)):
                    info.keypoint_locations.add(**p)
            _fill_data(region.data, draw, depth + 1)
        for _ in range(draw(st.integers(0, 1))):
            frame = data.frames.add(id=draw(texts))
            frame.frame_info.index = draw(st.integers(0, 2**32 - 1))
            frame.frame_info.time = draw(st.integers(0, 2**64 - 1))
            _fill_data(frame.data, draw, depth + 1)


@st.composite
def inputs(draw: st.DrawFn) -> Input:
    record = Input(id=draw(texts))
    if draw(st.booleans()):
        record.created_at.seconds = draw(st.integers(-62135596800, 253402300799))
        record.created_at.nanos = draw(st.sampled_from([0, 1, 1000, 1_000_000, 999_999_999]))
    if draw(st.booleans()):
        record.modified_at.seconds = draw(st.integers(0, 2**33))
    record.dataset_ids.extend(draw(st.lists(texts, max_size=2)))
    _fill_data(record.data, draw, 0)
    return record


# -- comparing ------------------------------------------------------------------------


def _same(ours: object, theirs: object, path: str = "") -> None:
    """Equal JSON values; floats may differ only where both are the same float32."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), path
        assert list(ours) == list(theirs) or sorted(ours) == sorted(theirs), path
        for key in theirs:
            _same(ours[key], theirs[key], f"{path}.{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            _same(a, b, f"{path}[{i}]")
    elif isinstance(theirs, float) and isinstance(ours, float) and ours != theirs:
        # protobuf prints float32s with at least 6 digits: a subnormal such as 1e-45
        # comes out as 1.4013e-45; both read back to the same float32 bits. And the
        # largest float32 is written exactly, as protobuf's parser refuses 3.4028235e+38.
        assert np.float32(ours) == np.float32(theirs), path
        assert abs(theirs) < 1.2e-38 or abs(ours) == FLT_MAX, path
    else:
        assert ours == theirs and type(ours) is type(theirs), (path, ours, theirs)


def _wire(message) -> bytes:
    return message.SerializeToString(deterministic=True)


# derandomize: the same examples on every run and machine (a failure is found again).
SETTINGS = settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(inputs())
def test_same_as_message_to_dict(record: Input) -> None:
    try:
        theirs = json_format.MessageToDict(record, preserving_proto_field_name=True)
    except json_format.SerializeToJsonError:
        with pytest.raises(SchemaError, match="cannot be written as JSON"):
            input_to_dict(record)
        return
    _same(input_to_dict(record), theirs)
    _same(message_to_dict(record, json_names=True), json_format.MessageToDict(record))


@SETTINGS
@given(inputs())
def test_parse_gives_back_the_same_bits(record: Input) -> None:
    try:
        text = input_to_json_bytes(record)
    except SchemaError:
        return  # NaN or infinity in metadata: JSON cannot hold it (tested below)
    back = Input()
    json_format.Parse(text, back)
    assert _wire(back) == _wire(record)
    # Clarifai's own classes read it to the same message.
    official = grpc.Input()
    json_format.Parse(text, official)
    assert _wire(official) == _wire(record)
    assert _wire(input_from_json(text)) == _wire(record)


def test_float32_shortest_and_bit_exact() -> None:
    rng = np.random.default_rng(5)
    values = np.concatenate(
        [
            rng.standard_normal(5000).astype(np.float32),
            (rng.random(2000) * 1e-38).astype(np.float32),  # subnormals
            np.array([0.1, 1 / 3, 16777217, FLT_MAX, -FLT_MAX, 1.17549435e-38, 1e-45], np.float32),
        ]
    )
    record = Input(id="v")
    record.data.embeddings.add(vector=values.tolist(), num_dimensions=len(values))
    text = input_to_json_bytes(record)
    back = Input()
    json_format.Parse(text, back)
    assert np.array_equal(
        np.asarray(back.data.embeddings[0].vector, np.float32).view(np.uint32),
        values.view(np.uint32),
    )
    assert b'"vector":[' in text and b"0.1," in text  # shortest form, not 0.10000000149
    printed = json.loads(text)["data"]["embeddings"][0]["vector"]
    assert all(len(repr(v)) <= 16 for v in printed if abs(v) != FLT_MAX)


def test_non_finite_floats_are_strings() -> None:
    record = Input(id="n")
    record.data.embeddings.add(vector=[1.0, math.nan, math.inf, -math.inf, -0.0])
    record.data.concepts.add(id="c", value=math.inf)
    out = input_to_dict(record)
    assert out["data"]["embeddings"][0]["vector"] == [1.0, "NaN", "Infinity", "-Infinity", -0.0]
    assert out["data"]["concepts"][0]["value"] == "Infinity"
    assert out == json_format.MessageToDict(record, preserving_proto_field_name=True)


def test_types_of_the_mapping() -> None:
    record = Input(id="t", dataset_ids=["d1", "d2"])
    record.created_at.FromJsonString("2026-01-02T03:04:05.120Z")
    data = record.data
    data.image.base64 = b"\x00\xffbytes"
    data.image.image_info.width = 7
    frame = data.frames.add(id="f")
    frame.frame_info.time = 2**63 + 5
    point = data.regions.add(id="p").region_info.point
    point.row, point.visibility = 0.25, Point.NOT_VISIBLE
    data.metadata.update({"n": 12, "s": "x", "b": True, "z": None, "l": [1, "a"], "d": {"k": 1.5}})
    out = input_to_dict(record)
    assert out["created_at"] == "2026-01-02T03:04:05.120Z"
    assert out["data"]["image"] == {"base64": "AP9ieXRlcw==", "image_info": {"width": 7}}
    assert out["data"]["frames"][0]["frame_info"] == {"time": str(2**63 + 5)}
    assert out["data"]["regions"][0]["region_info"]["point"] == {
        "row": 0.25,
        "visibility": "NOT_VISIBLE",
    }
    assert out["data"]["metadata"] == {
        "b": True,
        "d": {"k": 1.5},
        "l": [1.0, "a"],
        "n": 12.0,
        "s": "x",
        "z": None,
    }
    assert json.loads(input_to_json(record)) == out
    assert out == json_format.MessageToDict(record, preserving_proto_field_name=True)


def test_wrappers_and_maps() -> None:
    version = DatasetVersion(id="v1")
    version.metrics["/"].inputs_count.value = 12
    version.metrics["/"].regions_count.value = 0  # set, so present even though zero
    version.metrics["a"].frames_count.value = 2**64 - 1
    version.metadata.update({"x": 1})
    ours = message_to_dict(version)
    assert ours == json_format.MessageToDict(version, preserving_proto_field_name=True)
    assert ours["metrics"]["/"] == {"inputs_count": "12", "regions_count": "0"}
    assert list(json.loads(message_to_json_bytes(version))["metrics"]) == ["/", "a"]


def test_metadata_keys_sorted_so_bytes_are_deterministic() -> None:
    a, b = Input(id="x"), Input(id="x")
    a.data.metadata.update({"b": 1, "a": {"d": 1, "c": 2}})
    b.data.metadata.update({"a": {"c": 2, "d": 1}, "b": 1})
    assert input_to_json_bytes(a) == input_to_json_bytes(b)
    assert input_to_json_bytes(a).index(b'"a"') < input_to_json_bytes(a).index(b'"b"')


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_nan_in_metadata_is_a_schema_error(bad: float) -> None:
    record = Input(id="bad-meta")
    record.data.metadata.update({"x": bad})
    with pytest.raises(SchemaError, match="input 'bad-meta'.*cannot be written as JSON"):
        input_to_json(record)
    with pytest.raises(json_format.SerializeToJsonError):
        json_format.MessageToDict(record)


def _with_future_fields(record: Input) -> Input:
    """``record`` plus fields no schema knows: Data field 99 (varint), Image field 42."""
    record.data.MergeFromString(b"\x98\x06\x01")
    record.data.image.MergeFromString(b"\xd2\x02\x01x")
    return record


def test_unknown_fields_are_left_out_as_protobuf_does() -> None:
    official = grpc.Input(id="u")
    official.data.geo.geo_point.longitude = 1.5
    official.data.concepts.add(id="c", value=1)
    official.data.image.allow_duplicate_url = True
    record = _with_future_fields(Input.FromString(official.SerializeToString()))
    assert input_to_dict(record) == json_format.MessageToDict(
        record, preserving_proto_field_name=True
    )
    # Modelled now (clarifai-grpc has them), so in the JSON; fields 99 and 42 are not.
    assert input_to_dict(record)["data"]["geo"] == {"geo_point": {"longitude": 1.5}}
    assert input_to_dict(record)["data"]["image"] == {"allow_duplicate_url": True}
    assert find_unknown_fields(record) == {("Data", 99), ("Image", 42)}
    assert find_unknown_fields(Input.FromString(official.SerializeToString())) == set()


def test_every_field_clarifai_defines_maps_as_protobuf_does() -> None:
    """Every message type reachable from Input, every field filled with clarifai-grpc's
    classes: ours parses it with no unknown field left and writes protobuf's JSON."""
    records = every_field_inputs(grpc.Input)
    assert len(records) > 100
    for theirs in records:
        wire = theirs.SerializeToString(deterministic=True)
        ours = Input.FromString(wire)
        assert find_unknown_fields(ours) == set(), theirs.id
        assert ours.SerializeToString(deterministic=True) == wire
        want = json_format.MessageToDict(theirs, preserving_proto_field_name=True)
        assert input_to_dict(ours) == want, theirs.id
        assert message_to_dict(ours, json_names=True) == json_format.MessageToDict(theirs)
        again = input_from_json(input_to_json(ours))
        assert json_format.MessageToDict(again, preserving_proto_field_name=True) == want


def test_every_enum_value_is_named_as_protobuf_names_it() -> None:
    """Every value of every enum an input reaches, aliases included (StatusCode has
    INPUT_SUCCESS and INPUT_DOWNLOAD_SUCCESS = 30000: protobuf names the first)."""
    checked = 0
    for message in _reachable(grpc.Input.DESCRIPTOR):
        for field in message.fields:
            if field.enum_type is None or field.is_repeated or field.containing_oneof:
                continue
            path = _path_to(grpc.Input.DESCRIPTOR, message)
            for value in field.enum_type.values:
                theirs = grpc.Input(id="e")
                target = theirs
                for step in path:
                    target = getattr(target, step.name)
                    if step.is_repeated:
                        target = target.add()
                setattr(target, field.name, value.number)
                ours = Input.FromString(theirs.SerializeToString())
                assert input_to_dict(ours) == json_format.MessageToDict(
                    theirs, preserving_proto_field_name=True
                ), (message.full_name, field.name, value.name)
                checked += 1
    assert checked > 500


def _path_to(root, target) -> list:
    """The shortest path of message fields from ``root`` to ``target``."""
    paths = {root.full_name: []}
    queue = [root]
    while queue:
        descriptor = queue.pop(0)
        for field in descriptor.fields:
            sub = field.message_type
            if sub is None or sub.full_name in paths or sub.GetOptions().map_entry:
                continue
            paths[sub.full_name] = paths[descriptor.full_name] + [field]
            queue.append(sub)
    return paths[target.full_name]


def test_every_field_generator_sets_every_field() -> None:
    """The generator above leaves no field of Clarifai's schema untried."""
    seen: set[tuple[str, str]] = set()

    def walk(message) -> None:
        for field, value in message.ListFields():
            seen.add((message.DESCRIPTOR.full_name, field.name))
            if field.message_type is None:
                continue
            if field.message_type.GetOptions().map_entry:
                has_messages = field.message_type.fields_by_name["value"].message_type
                values = list(value.values()) if has_messages else []
            else:
                values = list(value) if field.is_repeated else [value]
            for item in values:
                walk(item)

    for record in every_field_inputs(grpc.Input):
        walk(record)
    every = {
        (m.full_name, f.name)
        for m in _reachable(grpc.Input.DESCRIPTOR)
        if not m.GetOptions().map_entry
        for f in m.fields
    }
    assert every - seen == set()


def _reachable(root) -> list:
    found = {root.full_name: root}
    stack = [root]
    while stack:
        for field in stack.pop().fields:
            target = field.message_type
            if target is not None and target.full_name not in found:
                found[target.full_name] = target
                stack.append(target)
    return list(found.values())


def test_embedding_wire_fast_path_matches() -> None:
    # Vectors written unpacked (legal on the wire) and with unknown fields still map right.
    body = struct.pack("<2f", 1.5, -2.25)
    emb = b"\x28\x07" + b"".join(b"\x0d" + body[i : i + 4] for i in (0, 4)) + b"\x10\x02"
    data = b"\x4a" + bytes([len(emb)]) + emb  # Data.embeddings = 9
    record = Input.FromString(b"\x0a\x01e" + b"\x12" + bytes([len(data)]) + data)
    assert input_to_dict(record)["data"]["embeddings"] == [
        {"vector": [1.5, -2.25], "num_dimensions": 2}
    ]


def test_batch_entry_parses_back() -> None:
    records = [Input(id=f"b{i}") for i in range(3)]
    records[1].data.text.raw = "hi"
    data = batch_to_json_bytes(records)
    batch = InputBatch()
    json_format.Parse(data, batch)
    assert [r.id for r in batch.inputs] == ["b0", "b1", "b2"]
    assert batch_to_json_bytes([]) == b"{}"
    assert orjson.loads(data) == json_format.MessageToDict(
        InputBatch(inputs=records), preserving_proto_field_name=True
    )
