"""The optional C reader of the wire format (``toolkit/_speedups.c``), ready to use.

``SPEEDUPS`` is the loaded module, or None when it was not built (no C compiler when the
package was installed) or when ``CLARIFAI_ARCHIVE_PURE_PYTHON=1`` asks for the
pure-Python path. Everything it does, the pure-Python path also does: it only makes
``convert --to coco``, ``--to parquet``, ``Archive.embeddings()``, the tables and
``info`` faster.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from types import ModuleType
from typing import Any, cast

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from .messages import InputBatch

__all__ = [
    "SPEEDUPS",
    "batch_metrics",
    "batch_vectors_packed",
    "schema_tables",
    "scan_batch",
    "table_arrow",
]

# Kinds of field the C reader knows (toolkit/_speedups.c: K_*): what it checks is the
# wire type (and UTF-8 for strings, and sub-messages), as protobuf's parser does.
_VARINT, _F32, _F64, _STRING, _BYTES, _MESSAGE = range(6)
_KINDS = {
    FieldDescriptor.TYPE_INT32: _VARINT,
    FieldDescriptor.TYPE_INT64: _VARINT,
    FieldDescriptor.TYPE_UINT32: _VARINT,
    FieldDescriptor.TYPE_UINT64: _VARINT,
    FieldDescriptor.TYPE_ENUM: _VARINT,
    FieldDescriptor.TYPE_BOOL: _VARINT,
    FieldDescriptor.TYPE_SINT32: _VARINT,
    FieldDescriptor.TYPE_SINT64: _VARINT,
    FieldDescriptor.TYPE_FIXED32: _F32,
    FieldDescriptor.TYPE_SFIXED32: _F32,
    FieldDescriptor.TYPE_FIXED64: _F64,
    FieldDescriptor.TYPE_SFIXED64: _F64,
    FieldDescriptor.TYPE_FLOAT: _F32,
    FieldDescriptor.TYPE_DOUBLE: _F64,
    FieldDescriptor.TYPE_STRING: _STRING,
    FieldDescriptor.TYPE_BYTES: _BYTES,
    FieldDescriptor.TYPE_MESSAGE: _MESSAGE,
}


def schema_tables(root: Descriptor) -> list[list[tuple[int, int, int, int]]]:
    """The message tables of ``root`` and every message it holds (table 0 is ``root``):
    per field its number, kind, whether repeated, and the table of its message."""
    order: list[Descriptor] = []
    index: dict[str, int] = {}

    def visit(descriptor: Descriptor) -> int:
        if descriptor.full_name not in index:
            index[descriptor.full_name] = len(order)
            order.append(descriptor)
            for field in descriptor.fields:
                if field.message_type is not None:
                    visit(field.message_type)
        return index[descriptor.full_name]

    visit(root)
    tables = []
    for descriptor in order:
        table = []
        for field in descriptor.fields:
            kind = _KINDS.get(field.type)
            if kind is None:  # pragma: no cover - groups: proto3 has none
                raise ValueError(f"{descriptor.full_name}.{field.name}: type {field.type}")
            sub = index[field.message_type.full_name] if field.message_type is not None else 0
            table.append((field.number, kind, int(field.is_repeated), sub))
        tables.append(table)
    return tables


def _load() -> ModuleType | None:
    if os.environ.get("CLARIFAI_ARCHIVE_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        from . import _speedups
    except ImportError:
        return None
    try:
        # types-protobuf types DESCRIPTOR as this Descriptor or upb's: the same class at runtime
        _speedups.load_schema(schema_tables(cast(Descriptor, InputBatch.DESCRIPTOR)))
    except ValueError:  # pragma: no cover - a schema past the C reader's limits
        return None
    # mypy checks the load_schema call above against toolkit/_speedups.pyi; SPEEDUPS is
    # a plain ModuleType, so the calls through it below are typed by their annotations.
    module: ModuleType = _speedups
    return module


SPEEDUPS: ModuleType | None = _load()


def scan_batch(data: bytes) -> list[str] | None:
    """The input ids of a protobuf InputBatch entry, or None when protobuf should parse it
    (the C reader is missing, or the entry is unusual or damaged: protobuf then copes or
    says what is wrong)."""
    if SPEEDUPS is None:
        return None
    ids: list[str] | None = SPEEDUPS.scan_batch(data)
    return ids


def table_arrow(entries: Sequence[bytes]) -> tuple[Any, ...] | None:
    """The Parquet table's columns for protobuf InputBatch entries, one after the other,
    as Arrow buffers (see ``toolkit/tabular/rows.py``), or None when protobuf should read
    them (one at a time: then any entry but the unusual one is taken)."""
    if SPEEDUPS is None:
        return None
    found: tuple[Any, ...] | None = SPEEDUPS.table_arrow(entries)
    return found


def batch_vectors_packed(
    data: bytes, which: int, out: Any = None
) -> tuple[tuple[bytes, bytes, bytes], bytes, bytes | int] | None:
    """The input ids of a protobuf InputBatch entry as Arrow string buffers (int32
    offsets, UTF-8 bytes, validity bitmap), the size of each one's embedding ``which``
    (native uint32 each, 0: none) and their packed float32 bytes, concatenated (written
    into the writable buffer ``out`` instead when they fit: then their number of bytes);
    or None when protobuf should read the entry (no C reader, or it is unusual)."""
    if SPEEDUPS is None:
        return None
    found: tuple[tuple[bytes, bytes, bytes], bytes, bytes | int] | None = (
        SPEEDUPS.batch_vectors_packed(data, which, out)
    )
    return found


#: What :func:`batch_metrics` gives: the counts in ``toolkit.metrics.PROTO_FIELDS``'s
#: order; inputs per type (image, video, text, audio, unknown); embeddings per size;
#: per concept id its first name that is not empty, positive labels on inputs (and
#: frames) and on regions, negative labels; ``(min width, max width, min height, max
#: height)`` of the images with a size in ``image_info`` (None: none has); the bytes of
#: the other images (their size is read from their headers).
WireMetrics = tuple[
    tuple[int, ...],
    tuple[int, int, int, int, int],
    dict[int, int],
    dict[str, tuple[str, int, int, int]],
    "tuple[int, int, int, int] | None",
    list[bytes],
]


def batch_metrics(data: bytes) -> WireMetrics | None:
    """What ``info`` counts of a protobuf InputBatch entry, read from its wire bytes
    (``toolkit/metrics.py``), or None when protobuf should read the entry (no C reader,
    or the entry is unusual or damaged)."""
    if SPEEDUPS is None:
        return None
    found: WireMetrics | None = SPEEDUPS.batch_metrics(data)
    return found
