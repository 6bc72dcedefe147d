"""Types of the optional C reader, ``toolkit/_speedups.c`` (see ``toolkit/_native.py``).

Every ``data`` is a protobuf ``InputBatch`` entry's bytes (any buffer); ``None`` back
means the entry is unusual and protobuf should read it. ``scan_batch``, ``table_columns``,
``batch_vectors`` and ``batch_metrics`` raise RuntimeError until ``load_schema`` has
loaded the tables (each module object has its own: per-module state).
"""

from collections.abc import Callable, Sequence
from typing import Any, overload

from typing_extensions import Buffer, CapsuleType

def load_schema(tables: Sequence[Sequence[tuple[int, int, int, int]]], /) -> None:
    """Load the message tables (``_native.schema_tables``; table 0: InputBatch): per field
    its number, kind, whether repeated, and the table of its message. ValueError when
    they are past the reader's limits or name a table that is not there."""

def scan_batch(data: Buffer, /) -> list[str] | None:
    """The input ids of a checked entry, or None when protobuf should parse it."""

def new_memos() -> CapsuleType:
    """The memos of one conversion, for ``coco_images``."""

def coco_images(
    data: Buffer,
    memos: CapsuleType,
    concept_entries: dict[tuple[str, str, float], dict[str, Any]],
    concept_entry: Callable[[str, str, float], dict[str, Any]],
    category_ids: dict[tuple[str, str], int],
    category_id: Callable[[str, str], int],
    stem_for: Callable[[str], str],
    plain_tables: tuple[dict[str, str], set[str], frozenset[str], int],
    exts: dict[str, str | None],
    ext_for: Callable[[str], str | None],
    fallback: Callable[[bytes], tuple[str, list[dict[str, Any]], list[dict[str, Any]]] | None],
    dumps: Callable[[Any], bytes],
    images: list[dict[str, Any]],
    annotations: list[dict[str, Any]],
    counters: list[int],
    /,
) -> tuple[bytes, int, bytes, int, list[tuple[str, bytes, int, bytes, int]]]:
    """The COCO images and annotations of an entry ``scan_batch`` accepted, as JSON text
    (objects with commas between) and their counts, then per split of tagged inputs its
    name, images, count, annotations, count (see ``toolkit/convert/coco.py``)."""

def table_columns(
    data: Buffer, /
) -> (
    tuple[
        list[str],
        bytes,
        list[str | None],
        bytes,
        bytes,
        bytes,
        list[str],
        list[str],
        bytes,
        bytes,
        list[str],
        list[str | None],
        bytes,
        list[str | None],
    ]
    | None
):
    """The simple Parquet columns of a checked entry (``toolkit/tabular/rows.py``): ids,
    kinds, urls, sizes, creation times, concept offsets, ids, names, values, positive
    offsets and ids, texts, flags, metadata as sorted JSON; or None."""

@overload
def batch_vectors(
    data: Buffer, which: int, out: None = None, /
) -> tuple[list[str], bytes, bytes] | None: ...
@overload
def batch_vectors(
    data: Buffer, which: int, out: Buffer, /
) -> tuple[list[str], bytes, bytes | int] | None: ...
def batch_metrics(
    data: Buffer, /
) -> (
    tuple[
        tuple[int, ...],
        tuple[int, int, int, int, int],
        dict[int, int],
        dict[str, tuple[str, int, int, int]],
        tuple[int, int, int, int] | None,
        list[bytes],
    ]
    | None
):
    """What ``info`` counts of a checked entry (``toolkit/metrics.py``): the counts in
    ``PROTO_FIELDS`` order, inputs per type, embeddings per size, per concept id its
    name and counts, the range of image sizes, the bytes of images with no size; or None."""
