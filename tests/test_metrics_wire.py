"""``info``'s counts from the wire bytes (the C reader's ``batch_metrics``) are exactly
those of the pure-Python path (``MetricsCounter.add`` over protobuf's parsed inputs).

Both ways are run on hand-built edge cases (fields merged by protobuf, concepts met in
an order other than the wire's, unknown fields), on seeded random batches written field
by field, on damaged batches, and through the ``info`` command on the sample archives
and on the fuzz harness's damaged archives (same output, same ``Error:`` line).
"""

from __future__ import annotations

import random
import struct
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from convert_helpers import png_bytes, varied_inputs
from google.protobuf.message import DecodeError
from helpers import damaged_copies

from toolkit import _native
from toolkit import metrics as metrics_module
from toolkit._wire import encode_field, encode_varint
from toolkit.archive import ArchiveReader, ArchiveWriter, write_archive
from toolkit.cli import cli
from toolkit.messages import InputBatch
from toolkit.metrics import Metrics, MetricsCounter, archive_metrics, compute_metrics

needs_c = pytest.mark.skipif(_native.SPEEDUPS is None, reason="the C reader is not built")

SAMPLE_DATA = Path(__file__).parent.parent / "sample_data"


def _python(data: bytes) -> Metrics:
    return compute_metrics(InputBatch.FromString(data).inputs)


def _wire(data: bytes) -> Metrics | None:
    found = _native.batch_metrics(data)
    if found is None:
        return None
    counter = MetricsCounter()
    counter.add_wire_metrics(found)
    return counter.result()


def _same(data: bytes) -> Metrics:
    """The metrics of one batch, checked to be the same both ways (the C reader took it)."""
    expected = _python(data)
    got = _wire(data)
    assert got is not None, "the C reader left the batch to protobuf"
    assert got == expected
    assert got.to_dict() == expected.to_dict()
    return got


# -- wire building blocks ------------------------------------------------------------------


def _varint_field(number: int, value: int) -> bytes:
    return encode_varint(number << 3) + encode_varint(value & (2**64 - 1))


def _float_field(number: int, value: float) -> bytes:
    return encode_varint(number << 3 | 5) + struct.pack("<f", value)


def _concept(concept_id: str, name: str = "", value: float | None = 1.0) -> bytes:
    body = encode_field(1, concept_id.encode()) + (encode_field(2, name.encode()) if name else b"")
    if value is not None:
        body += _float_field(3, value)
    return encode_field(3, body)  # Data.concepts


def _region(*parts: bytes) -> bytes:
    return encode_field(11, b"".join(parts))  # Data.regions


def _region_info(*shapes: int) -> bytes:
    return encode_field(2, b"".join(encode_field(n, b"") for n in shapes))  # Region.region_info


def _region_data(*concepts: bytes) -> bytes:
    return encode_field(3, b"".join(concepts))  # Region.data


def _image(width: int | None = None, height: int | None = None, base64: bytes = b"") -> bytes:
    info = b""
    if width is not None:
        info += _varint_field(1, width)
    if height is not None:
        info += _varint_field(2, height)
    body = (encode_field(2, base64) if base64 else b"") + (encode_field(6, info) if info else b"")
    return encode_field(1, body)  # Data.image


def _embedding(floats: int = 0, *, dims: int | None = None, unpacked: int = 0) -> bytes:
    body = encode_field(1, struct.pack(f"<{floats}f", *range(floats))) if floats else b""
    body += b"".join(_float_field(1, 0.5) for _ in range(unpacked))
    if dims is not None:
        body += _varint_field(2, dims)
    return encode_field(9, body)  # Data.embeddings


def _frame(*data_parts: bytes) -> bytes:
    return encode_field(12, b"".join(encode_field(2, part) for part in data_parts))


def _input(input_id: str, *data_parts: bytes, extra: bytes = b"") -> bytes:
    body = encode_field(1, input_id.encode())
    for part in data_parts:  # each a Data occurrence: protobuf merges them
        body += encode_field(2, part)
    return encode_field(1, body + extra)  # InputBatch.inputs


# -- hand-built edge cases -----------------------------------------------------------------


@needs_c
def test_sample_data_and_varied_inputs_count_the_same_both_ways() -> None:
    with ArchiveReader(SAMPLE_DATA / "clarifai-data-protobuf.zip") as reader:
        for entry in reader.entries:
            _same(reader.read_batch_bytes(entry))
    records = varied_inputs(40)
    for start in range(0, 40, 7):
        _same(InputBatch(inputs=records[start : start + 7]).SerializeToString())


@needs_c
def test_merged_messages_count_as_protobuf_merges_them() -> None:
    # Input.data twice, Image and ImageInfo split across them: width from the first,
    # height from the second (last wins per field); region_info twice: both shapes.
    data = _input(
        "a",
        _image(width=10) + _concept("cat", "Cat"),
        _image(height=20)
        + _region(_region_info(1), _region_info(5), _region_data(_concept("dog"))),
    )
    got = _same(data)
    assert got.image_width_range == [10, 10] and got.image_height_range == [20, 20]
    assert (got.bounding_boxes_count, got.polygons_count, got.regions_count) == (1, 1, 1)
    # A later zero (or negative, int32) size on the wire wins over an earlier one.
    for late in (0, -5, 2**32 + 7):
        _same(_input("b", _image(width=10, height=10), _image(width=late)))
    # The metadata counts when any of its occurrences has a key.
    empty, keyed = encode_field(5, b""), encode_field(5, encode_field(1, b""))
    assert _same(_input("m", empty)).inputs_with_metadata_count == 0
    assert _same(_input("m", empty, keyed)).inputs_with_metadata_count == 1
    assert _same(_input("m", keyed + empty)).inputs_with_metadata_count == 1


@needs_c
def test_concepts_keep_the_first_name_in_the_order_info_meets_them() -> None:
    # info meets an input's concepts, then its regions', then its frames': the wire order
    # here is the other way round, and each place names the concept differently.
    frame = _frame(_concept("cat", "FrameName"))
    region = _region(_region_info(1), _region_data(_concept("cat", "RegionName")))
    got = _same(_input("a", frame + region + _concept("cat", "InputName")))
    assert got.concepts["cat"].name == "InputName"
    got = _same(_input("a", frame + region + _concept("cat", "")))
    assert got.concepts["cat"].name == "RegionName"
    # A name given twice in one concept: the last; an id given twice: the last.
    twice = encode_field(
        3, encode_field(1, b"x") + encode_field(2, b"One") + encode_field(1, b"y")
    ) + encode_field(3, encode_field(1, b"y") + encode_field(2, b"Two"))
    got = _same(_input("b", twice))
    assert set(got.concepts) == {"y"} and got.concepts["y"].name == "One"
    # Names across inputs and batches: the first one not empty.
    counter = MetricsCounter()
    for data in (_input("c", _concept("k", "")), _input("d", _concept("k", "Kay"))):
        found = _native.batch_metrics(data)
        assert found is not None
        counter.add_wire_metrics(found)
    assert counter.result().concepts["k"].name == "Kay"


@needs_c
def test_values_that_are_not_positive_are_negative_labels() -> None:
    concepts = b"".join(
        _concept(f"c{i}", value=v)
        for i, v in enumerate([1.0, 0.0, -0.0, -1.0, float("nan"), float("inf"), 1e-45, None])
    )
    got = _same(_input("a", concepts + _region(_region_data(concepts))))
    assert got.positive_input_tags_count == 3 and got.positive_region_tags_count == 3
    assert sum(c.negatives for c in got.concepts.values()) == 10


@needs_c
def test_types_embeddings_frames_and_unknown_fields() -> None:
    video, text, audio = encode_field(2, b""), encode_field(13, b""), encode_field(14, b"")
    unknown = encode_field(99, b"\x01\x02") + _varint_field(98, 5)
    batch = b"".join(
        [
            _input("v", text + video + _frame(b"") + _frame(_concept("x"), unknown)),
            _input("t", audio + text, extra=unknown),
            _input("au", audio + unknown),
            _input("none"),
            _input("empty-image", _image()),
            _input("e1", _embedding(4) + _embedding(unpacked=3) + _embedding(dims=7)),
            _input("e2", _embedding(2, unpacked=2, dims=9) + _embedding(0)),
            _input("f", _frame(unknown, _region(_region_info(6, 4)), _concept("y", "Y"))),
        ]
    ) + encode_field(7, b"unknown field of InputBatch")
    got = _same(batch)
    assert got.input_types == {"audio": 1, "image": 1, "text": 1, "unknown": 4, "video": 1}
    assert got.embedding_dimensions == {0: 1, 3: 1, 4: 2, 7: 1}
    assert got.frames_count == 3 and got.unlabeled_inputs_count == 6
    assert got.points_count == got.masks_count == 1


@needs_c
def test_images_without_a_size_are_measured_from_their_bytes() -> None:
    png = png_bytes((7, 5))
    batch = _input("a", _image(base64=png)) + _input("b", _image(width=3, height=0, base64=png))
    batch += _input("c", _image(base64=b"not an image")) + _input("d", _image(30, 40))
    got = _same(batch)
    assert got.image_width_range == [7, 30] and got.image_height_range == [5, 40]
    inspect_off = MetricsCounter(inspect_media=False)
    found = _native.batch_metrics(batch)
    assert found is not None
    inspect_off.add_wire_metrics(found)
    expected = compute_metrics(InputBatch.FromString(batch).inputs, inspect_media=False)
    assert inspect_off.result() == expected


@needs_c
def test_what_the_c_reader_leaves_to_protobuf() -> None:
    # More embedding sizes than it keeps; nesting deeper than it follows; damage.
    many = _input("a", b"".join(_embedding(dims=d) for d in range(1, 20)))
    assert _native.batch_metrics(many) is None
    value: Any = b""
    for _ in range(12):  # Struct > entry > Value > Struct ...
        value = encode_field(5, encode_field(1, encode_field(1, b"k") + encode_field(2, value)))
    assert _native.batch_metrics(_input("deep", value)) is None
    assert _native.batch_metrics(_input("cut", _concept("c"))[:-1]) is None
    # count_batch then counts the parsed inputs: the same result.
    for data in (many, _input("deep", value)):
        assert _counted(data) == _python(data)


def _counted(data: bytes) -> Metrics:
    """What ``count_batch`` gives for a batch read lazily, as ``info`` reads it."""
    from toolkit.batches import Batch

    with ArchiveReader(SAMPLE_DATA / "clarifai-data-protobuf.zip") as reader:
        batch = Batch(reader, 0, reader.entries[0], data=data)
        return metrics_module.count_batch(batch).result()


# -- generated batches ---------------------------------------------------------------------


def _random_data(rng: random.Random, depth: int = 0) -> bytes:
    """A Data message's fields in a random order, some repeated or merged."""
    names = ["", "A", "B", "Name"]
    parts: list[bytes] = []
    for _ in range(rng.randrange(8)):
        kind = rng.randrange(12)
        if kind == 0:
            parts.append(
                _image(
                    rng.choice([None, 0, -3, 16, 640]),
                    rng.choice([None, 0, 9, 480]),
                    rng.choice([b"", b"junk", png_bytes((3, 2))]),
                )
            )
        elif kind == 1:
            parts.append(encode_field(rng.choice([2, 13, 14]), b""))
        elif kind in (2, 3):
            parts.append(
                _concept(
                    rng.choice(["a", "b", "c", "é✓"]),
                    rng.choice(names),
                    rng.choice([None, 1.0, 0.0, -1.0, 0.5, float("nan")]),
                )
            )
        elif kind == 4:
            entries = b"".join(encode_field(1, b"") for _ in range(rng.randrange(3)))
            parts.append(encode_field(5, entries))
        elif kind == 5:
            parts.append(
                _embedding(
                    rng.choice([0, 2, 4]),
                    dims=rng.choice([None, 0, 4, 8]),
                    unpacked=rng.choice([0, 0, 1, 2]),
                )
            )
        elif kind == 6:
            pieces = []
            for _ in range(rng.randrange(4)):
                piece = rng.randrange(3)
                if piece == 0:
                    pieces.append(_region_info(*rng.sample([1, 4, 5, 6, 7], rng.randrange(3))))
                elif piece == 1:
                    concepts = [
                        _concept(rng.choice("abd"), rng.choice(names), rng.choice([1.0, 0.0]))
                        for _ in range(rng.randrange(3))
                    ]
                    pieces.append(_region_data(*concepts))
                else:
                    pieces.append(encode_field(1, b"region-id"))
            parts.append(_region(*pieces))
        elif kind == 7 and depth == 0:
            parts.append(_frame(*(_random_data(rng, 1) for _ in range(rng.randrange(3)))))
        elif kind == 8:
            parts.append(encode_field(rng.choice([6, 7, 99]), b""))
    return b"".join(parts)


def _random_batch(rng: random.Random) -> bytes:
    out = []
    for n in range(rng.randrange(1, 6)):
        occurrences = [_random_data(rng) for _ in range(rng.choice([0, 1, 1, 1, 2, 3]))]
        out.append(_input(f"in-{n}", *occurrences))
    return b"".join(out)


@needs_c
def test_generated_batches_count_the_same_both_ways() -> None:
    rng = random.Random(41)
    for _ in range(1500):
        data = _random_batch(rng)
        _same(data)


@needs_c
def test_damaged_batches_are_counted_only_when_protobuf_reads_them() -> None:
    records = varied_inputs(10)
    for i, record in enumerate(records):
        record.data.metadata.update({"k": f"v{i}", "l": [1.0, "x", None]})
    base = InputBatch(inputs=records).SerializeToString() + _random_batch(random.Random(5))
    counted = 0
    for data in damaged_copies(base, 3000, seed=43):
        got = _wire(data)
        try:
            expected = _python(data)
        except DecodeError:
            assert got is None, f"the C reader counted a batch protobuf refuses: {data.hex()}"
            continue
        if got is not None:
            assert got == expected, data.hex()
            counted += 1
    assert counted > 100


@needs_c
def test_re_encoded_varints_count_the_same_both_ways() -> None:
    from fuzz.harness import reencode_varints

    base = InputBatch(inputs=varied_inputs(8)).SerializeToString()
    rng = random.Random(47)
    kinds = {True: 0, False: 0}
    for _ in range(1000):
        data = reencode_varints(rng, base, chance=rng.choice([0.01, 0.05, 0.2]))
        got = _wire(data)
        try:
            expected: Metrics | None = _python(data)
        except DecodeError:
            expected = None
        assert got == expected, data.hex()
        kinds[expected is None] += 1
    assert kinds[True] > 20 and kinds[False] > 20


# -- the info command both ways ------------------------------------------------------------


def _info_both_ways(path: Path, *options: str) -> list[tuple[int, str, str]]:
    """``info`` (text and --json) with the C reader and without: the outcomes, checked
    to be the same (exit code, stdout, stderr)."""
    outcomes = []
    for args in ([*options, "info", str(path)], [*options, "info", str(path), "--json"]):
        runs = []
        for c_reader in (True, False):
            with pytest.MonkeyPatch.context() as patch:
                if not c_reader:
                    patch.setattr(_native, "SPEEDUPS", None)
                result = CliRunner().invoke(cli, [*args, "--workers", "1"])
            assert result.exception is None or isinstance(result.exception, SystemExit), (
                result.exception
            )
            runs.append((result.exit_code, result.stdout, result.stderr))
        assert runs[0] == runs[1], args
        outcomes.append(runs[0])
    return outcomes


def _counting_c_calls(patch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original = metrics_module.batch_metrics

    def counted(data: bytes) -> Any:
        found = original(data)
        calls.append(found is not None)
        return found

    patch.setattr(metrics_module, "batch_metrics", counted)
    return calls


@needs_c
def test_info_prints_the_same_both_ways_on_the_sample_archives() -> None:
    with pytest.MonkeyPatch.context() as patch:
        calls = _counting_c_calls(patch)
        for path in sorted(SAMPLE_DATA.glob("*.zip")):
            for code, _out, _err in _info_both_ways(path):
                assert code == 0
    assert any(calls), "the C reader was not used"


@needs_c
def test_info_prints_the_same_both_ways_on_damaged_archives(tmp_path: Path) -> None:
    from fuzz.harness import base_archives, mutate

    codes = {0: 0, 1: 0}
    for base in base_archives():
        for n in range(40):
            _name, data = mutate(random.Random(f"info:{base.name}:{n}"), base)
            path = tmp_path / f"{base.name}-{n}.zip"
            path.write_bytes(data)
            for code, _out, err in _info_both_ways(path):
                assert code in (0, 1), err
                codes[code] += 1
                if code == 1:
                    assert len(err.strip().splitlines()) == 1 and err.startswith("Error: ")
    assert codes[0] > 10 and codes[1] > 10


@needs_c
def test_info_limits_give_the_same_errors_both_ways(tmp_path: Path) -> None:
    records = varied_inputs(12)
    for record in records:
        record.data.metadata.update({"a": {"b": {"c": 1.0}}})
    path = tmp_path / "in.zip"
    write_archive(path, records, batch_size=4)
    for options in (["--max-metadata-depth", "2"], ["--max-batch-objects", "20"], []):
        _info_both_ways(path, *options)


def test_workers_count_the_same_as_one_process(tmp_path: Path) -> None:
    # Worker processes where there are two CPUs (else the same run in this process).
    path = tmp_path / "many.zip"
    records = varied_inputs(300, seed=5)
    with ArchiveWriter(path, batch_size=7) as writer:
        for record in records:
            writer.add(record)
    with ArchiveReader(path) as reader:
        expected = compute_metrics(reader.iter_inputs())
        assert archive_metrics(reader, workers=1) == expected
        assert archive_metrics(reader, workers=2) == expected


@needs_c
def test_counters_of_both_kinds_merge_in_order() -> None:
    # Batches counted by the C reader (kept compact until merged) and by protobuf, merged
    # in archive order: the same as counting every input in one counter.
    rng = random.Random(53)
    batches = [_random_batch(rng) for _ in range(30)]
    expected = compute_metrics(r for data in batches for r in InputBatch.FromString(data).inputs)
    total = MetricsCounter()
    for n, data in enumerate(batches):
        if n % 3 == 0:
            part = MetricsCounter()
            for record in InputBatch.FromString(data).inputs:
                part.add(record)
        else:
            found = _native.batch_metrics(data)
            assert found is not None
            part = MetricsCounter.of_wire(found)
        if n % 5 == 4:
            for record in InputBatch.FromString(data).inputs:
                total.add(record)
        else:
            total.merge(part)
    assert total.result() == expected


@needs_c
def test_counters_travel_between_processes_whole() -> None:
    import pickle

    data = _random_batch(random.Random(59)) + _input("img", _image(3, 4))
    found = _native.batch_metrics(data)
    assert found is not None
    wire = MetricsCounter.of_wire(found)
    plain = MetricsCounter()
    for record in InputBatch.FromString(data).inputs:
        plain.add(record)
    mixed = MetricsCounter()
    mixed.merge(plain)
    mixed.merge(wire)
    for counter in (wire, plain, mixed):
        again = pickle.loads(pickle.dumps(counter))
        assert again.result() == counter.result()
    assert wire.result() == plain.result()
