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

from ..batches import MAX_AUTO_WORKERS, PARALLEL_MIN_BYTES, Batch, auto_workers, usable_cpus
from ..errors import SchemaError
from ..jsonmap import _OPTIONS, _dump, _json_objects
from ..messages import Input

__all__ = [
    "MAX_AUTO_WORKERS",
    "PARALLEL_MIN_BYTES",
    "auto_workers",
    "encode_batch_json",
    "encode_batch_lines",
    "encode_inputs",
    "usable_cpus",
]


def encode_inputs(records: Sequence[Input]) -> list[bytes]:
    """Each input as one compact JSON object (protobuf's JSON mapping, proto field names)."""
    objects = _json_objects(records)
    try:
        return [orjson.dumps(obj, option=_OPTIONS) for obj in objects]
    except orjson.JSONEncodeError:
        for record, obj in zip(records, objects, strict=True):
            _dump(obj, f"input {record.id!r}")  # raises the SchemaError naming the input
        raise


def encode_batch_json(batch: Batch) -> list[bytes]:
    """Batch work for json (in a worker process when there are several): each input as
    one compact JSON object."""
    try:
        return encode_inputs(batch.inputs)
    except SchemaError as exc:
        raise SchemaError(f"{batch.source}: {exc}") from None


def encode_batch_lines(batch: Batch) -> bytes:
    """Batch work for jsonl: the batch's JSON Lines, each ending in ``\\n``."""
    lines = encode_batch_json(batch)
    return b"\n".join(lines) + b"\n" if lines else b""
