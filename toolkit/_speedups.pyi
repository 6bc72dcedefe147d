"""Types of the optional C reader, ``toolkit/_speedups.c`` (see ``toolkit/_native.py``).

Every ``data`` is a protobuf ``InputBatch`` entry's bytes (any buffer); ``None`` back
means the entry is unusual and protobuf should read it. ``scan_batch``, ``table_arrow``,
``batch_vectors_packed`` and ``batch_metrics`` raise RuntimeError until ``load_schema``
has loaded the tables (each module object has its own: per-module state).
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
) -> tuple[bytes, int, bytes, int, list[tuple[str, bytes, int, bytes, int]], tuple[int, int, int]]:
    """The COCO images and annotations of an entry ``scan_batch`` accepted, as JSON text
    (objects with commas between) and their counts, then per split of tagged inputs its
    name, images, count, annotations, count, then how many inputs without image, video or
    metadata it left out: text, audio, unknown (see ``toolkit/convert/coco.py``)."""

def table_arrow(
    entries: Sequence[Buffer], /
) -> (
    tuple[
        int,
        tuple[bytes, bytes, bytes],
        tuple[bytes, bytes, bytes],
        tuple[bytes, bytes, bytes],
        bytes,
        bytes,
        bytes,
        tuple[bytes, bytes, bytes],
        tuple[bytes, bytes, bytes],
        bytes,
        bytes,
        tuple[bytes, bytes, bytes],
        tuple[bytes, bytes, bytes],
        bytes,
        tuple[bytes, bytes, bytes],
        tuple[Any, ...] | None,
        bytes,
    ]
    | None
):
    """The Parquet columns of checked entries, one after the other
    (``toolkit/tabular/rows.py``), each string
    column as Arrow buffers (int32 offsets, UTF-8 bytes, validity bitmap): the number of
    inputs, ids, kinds, urls, sizes, creation times, concept offsets, ids, names, values,
    positive offsets and ids, texts, flags, metadata as sorted JSON, and the regions
    (offsets, ids, kinds, boxes, box validity, polygon offsets, points, concept offsets,
    ids, names, values) or None when Python builds them, and the number of inputs read
    after each entry (uint32 each); or None."""

@overload
def batch_vectors_packed(
    data: Buffer, which: int, out: None = None, /
) -> tuple[tuple[bytes, bytes, bytes], bytes, bytes] | None: ...
@overload
def batch_vectors_packed(
    data: Buffer, which: int, out: Buffer, /
) -> tuple[tuple[bytes, bytes, bytes], bytes, bytes | int] | None: ...
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

def prefault(buffer: Buffer, small_pages: bool = False, /) -> None:
    """Map the whole pages of a writable buffer without changing a byte (the GIL is
    released): a thread takes a fresh matrix's page faults while another fills it.
    ``small_pages`` first asks the range not to use transparent huge pages."""
