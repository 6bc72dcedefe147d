"""Pull a batch entry's embeddings out of its wire bytes with the C reader, without
protobuf building the inputs (the index build's work per batch, in worker processes).

``batch_vectors_packed`` (``toolkit/_speedups.c``) checks the entry as protobuf's parser would
and copies the packed floats of each input's embedding; the ``num_dimensions`` each
embedding declares, which the index build checks against its size, comes from parsing
the entry against a schema that holds that field alone (every other field is skipped by
protobuf's parser, in C). Anything unusual (an input without the embedding, vectors of
several sizes, declared sizes that are neither all absent nor all right, another
embedding than the first) gives None: the caller then parses the entry with protobuf and
words each problem as before, so the outcome is the same either way (tested).

Example::

    found = wire_embeddings(data, 0)  # (ids, (n, d) float32 rows, declared) or None
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

from .._native import batch_vectors_packed
from .._wire import encode_varint
from ..input_ids import InputIds

__all__ = ["wire_embeddings"]


@functools.cache
def _dims_batch() -> Any:
    """A message class for an InputBatch seen through ``inputs.data.embeddings.num_dimensions``
    alone (field numbers as in clarifai/api/resources.proto)."""
    proto = descriptor_pb2.FileDescriptorProto(
        name="toolkit_index_embedding_dims.proto", package="toolkit_index_dims", syntax="proto3"
    )
    field = descriptor_pb2.FieldDescriptorProto
    shapes = (
        ("Embedding", "num_dimensions", 2, field.TYPE_UINT32, field.LABEL_OPTIONAL, ""),
        ("Data", "embeddings", 9, field.TYPE_MESSAGE, field.LABEL_REPEATED, "Embedding"),
        ("Input", "data", 2, field.TYPE_MESSAGE, field.LABEL_OPTIONAL, "Data"),
        ("Batch", "inputs", 1, field.TYPE_MESSAGE, field.LABEL_REPEATED, "Input"),
    )
    for message, name, number, kind, label, type_name in shapes:
        added = proto.message_type.add(name=message).field.add(
            name=name, number=number, type=kind, label=label
        )
        if type_name:
            added.type_name = f".toolkit_index_dims.{type_name}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("toolkit_index_dims.Batch"))


def _frame(number: int, body: bytes) -> bytes:
    return encode_varint(number << 3 | 2) + encode_varint(len(body)) + body


@functools.cache
def _one_input(declared: int) -> bytes:
    """The bytes of one input of :func:`_dims_batch` with one embedding declaring
    ``declared`` dimensions (0: none declared)."""
    embedding = encode_varint(2 << 3) + encode_varint(declared) if declared else b""
    return _frame(1, _frame(2, _frame(9, embedding)))


def _declared(data: bytes, count: int, size: int) -> int | None:
    """``size`` when each of the ``count`` inputs has one embedding declaring ``size``
    dimensions, 0 when each has one declaring none; else None."""
    try:
        seen = _dims_batch().FromString(data)
    except (DecodeError, RuntimeError, ValueError):  # pragma: no cover - checked by C first
        return None
    seen.DiscardUnknownFields()
    compact = seen.SerializeToString()
    for declared in (size, 0):
        if compact == _one_input(declared) * count:
            return declared
    return None


def wire_embeddings(data: bytes, which: int) -> tuple[list[str], np.ndarray, int] | None:
    """``(ids, rows, declared)`` of a protobuf InputBatch entry whose inputs each have one
    embedding (number ``which``, which must be 0) of one size: the ids, the ``(n, d)``
    float32 rows (read-only, the wire's bits) and the size every input declares (``d``,
    or 0 when none does). None when the entry is anything else, or when the C reader is
    missing or finds the entry unusual: protobuf should read it then."""
    if which != 0:
        return None
    found = batch_vectors_packed(data, which)
    if found is None:
        return None
    (offsets, id_bytes, _valid), dims, floats = found
    assert not isinstance(floats, int)  # no buffer was handed in to fill
    ids = InputIds(id_bytes, np.frombuffer(offsets, np.int32).astype(np.int64)).to_list()
    count = len(ids)
    sizes = np.frombuffer(dims, dtype=np.uint32)
    if not count:
        return ids, np.empty((0, 0), dtype=np.float32), 0
    size = int(sizes[0])
    if size == 0 or not bool((sizes == size).all()):
        return None
    declared = _declared(data, count, size)
    if declared is None:
        return None
    rows = np.frombuffer(floats, dtype="<f4").reshape(count, size)
    return ids, rows, declared
