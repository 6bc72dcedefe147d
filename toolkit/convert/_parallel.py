"""Encode batches as JSON in worker processes: the CPU work of ``--to json|jsonl``.

Writing protobuf's JSON mapping costs about 40 us an input with 512-d embeddings, all of
it CPU. The converters hand :func:`encode_batch_json` (or :func:`encode_batch_lines`) to
:func:`toolkit.batches.iter_batches` as the work per batch: with several workers, each
worker process reads, parses and encodes ranges of entries itself, and the main process
only checks ids and writes the encoded bytes, in order. The output is the same bytes
with any number of workers.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from ..batches import (
    MAX_AUTO_WORKERS,
    PARALLEL_MIN_BYTES,
    RANGE_BYTES,
    Batch,
    auto_workers,
    usable_cpus,
)
from ..errors import SchemaError
from ..jsonmap import (
    _OPTIONS,
    LONG_STRING,
    NulledNumbers,
    _dump,
    _json_objects,
    bad_numbers_as_null,
    current_nulls,
)
from ..messages import Input

__all__ = [
    "MAX_AUTO_WORKERS",
    "PARALLEL_MIN_BYTES",
    "Encoded",
    "LINES_SCRATCH",
    "LinesAt",
    "add_nulls",
    "auto_workers",
    "batch_lines",
    "encode_batch_json",
    "encode_batch_lines",
    "encode_inputs",
    "usable_cpus",
]

#: What the batch work gives back: the encoded inputs, and the tally of metadata numbers
#: written as null (``bad_numbers="null"``; None otherwise). None for a batch that may
#: hold a string longer than :data:`~toolkit.jsonmap.LONG_STRING`: the converter writes
#: that one in the main process, a piece at a time.
Encoded = tuple[list[bytes], NulledNumbers | None]


def encode_inputs(records: Sequence[Input]) -> list[bytes]:
    """Each input as one compact JSON object (protobuf's JSON mapping, proto field names)."""
    objects = _json_objects(records)
    try:
        return [orjson.dumps(obj, option=_OPTIONS) for obj in objects]
    except orjson.JSONEncodeError:
        for record, obj in zip(records, objects, strict=True):
            _dump(obj, f"input {record.id!r}")  # raises the SchemaError naming the input
        raise


def encode_batch_json(batch: Batch) -> Encoded | None:
    """Batch work for json (in a worker process when there are several): each input as
    one compact JSON object, with its own tally of numbers written as null (the worker's
    goes back to the main process, which adds it up: :func:`add_nulls`)."""
    if batch.entry.size > LONG_STRING:
        return None
    with bad_numbers_as_null(current_nulls() is not None) as nulled:
        try:
            return encode_inputs(batch.inputs), nulled
        except SchemaError as exc:
            raise SchemaError(f"{batch.source}: {exc}", params=exc.params) from None


#: Shared memory per range of entries for the JSON Lines workers leave there (about
#: three times the range's wire bytes: a float32 written as text takes ~10 bytes).
LINES_SCRATCH = 4 * RANGE_BYTES

#: Where a worker left a batch's JSON Lines in the range's shared memory: offset, size.
LinesAt = tuple[int, int]


def encode_batch_lines(batch: Batch) -> tuple[bytes | LinesAt, NulledNumbers | None] | None:
    """Batch work for jsonl: the batch's JSON Lines, each ending in ``\\n``; in the
    range's shared memory when the batch has some with room (:attr:`Batch.scratch`),
    and then only where they lie goes back to the main process (:func:`batch_lines`).
    Sending 6 GB of text through a pipe for 1M x 512 cost the main process more CPU
    than writing it."""
    encoded = encode_batch_json(batch)
    if encoded is None:
        return None
    lines, nulled = encoded
    if not lines:
        return b"", nulled
    scratch = batch.scratch
    room = scratch.take(sum(map(len, lines)) + len(lines)) if scratch is not None else None
    if room is None:
        return b"\n".join(lines) + b"\n", nulled
    offset, view = room
    at = 0
    for line in lines:
        end = at + len(line)
        view[at:end] = line
        view[end] = 10  # "\n"
        at = end + 1
    return (offset, len(view)), nulled


def batch_lines(batch: Batch, lines: bytes | LinesAt) -> bytes | memoryview:
    """The JSON Lines :func:`encode_batch_lines` gave for ``batch``: the bytes, or a view
    of the shared memory the worker left them in (valid while the batch is handled)."""
    if isinstance(lines, bytes):
        return lines
    assert batch.scratch is not None
    offset, size = lines
    return batch.scratch.get(offset, size)


def add_nulls(tally: NulledNumbers | None) -> None:
    """Add a batch's tally of numbers written as null to the conversion's."""
    nulled = current_nulls()
    if nulled is not None and tally is not None:
        nulled.add(tally)
