"""Turn parsed batches of inputs into ``pyarrow.RecordBatch`` es of the table's schema.

Each column is built from flat Python lists and numpy arrays (no dict per row); the
embedding column is a numpy ``(n, d)`` block filled from views of the wire bytes, so no
Python float is made per value.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from .._native import batch_vectors_packed, table_arrow
from .._vectors import embedding_of
from ..errors import SchemaError
from ..messages import Input, RegionInfo
from ._buffers import fixed_list, numbers, offsets, strings
from .schema import (
    BOX,
    CONCEPT,
    EMBEDDING_COLUMN,
    POINT,
    REGION,
    embedding_type,
    metadata_column_name,
    table_schema,
)

__all__ = ["LazyRecords", "RowOptions", "RowsBuilder", "embedding_of"]

_FLAG_METADATA, _FLAG_REGIONS, _FLAG_HOSTED, _FLAG_EMBEDDINGS = 1, 2, 4, 8
_NO_TIME = np.iinfo(np.int64).min
#: Timestamps outside years 1 to 9999 (protobuf's valid range) are left null.
_MIN_SECONDS, _MAX_SECONDS = -62135596800, 253402300799


class LazyRecords(Sequence[Input]):
    """The inputs of a batch, parsed on first use (the C reader may need none of them)."""

    def __init__(self, count: int | None, parse: Callable[[], Sequence[Input]]) -> None:
        self._count = count
        self._parse = parse
        self._records: Sequence[Input] | None = None

    def _parsed(self) -> Sequence[Input]:
        if self._records is None:
            self._records = self._parse()
        return self._records

    def __len__(self) -> int:
        return len(self._parsed()) if self._count is None else self._count

    def __getitem__(self, index: Any) -> Any:
        return self._parsed()[index]

    def __iter__(self) -> Iterator[Input]:
        return iter(self._parsed())


class _JoinedRecords(Sequence[Input]):
    """The inputs of several batch entries as one sequence (each entry parsed on first
    use): ``bounds`` are the rows where each entry starts, then the total."""

    def __init__(self, parts: list[Sequence[Input]], bounds: list[int]) -> None:
        self._parts = parts
        self._bounds = bounds

    def __len__(self) -> int:
        return self._bounds[-1]

    def __getitem__(self, index: Any) -> Any:
        if not isinstance(index, int):
            raise TypeError("joined records index by int only")
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        part = bisect.bisect_right(self._bounds, index) - 1
        return self._parts[part][index - self._bounds[part]]

    def __iter__(self) -> Iterator[Input]:
        for part in self._parts:
            yield from part


def _hosted_url(record: Input) -> str | None:
    """The hosted original of the input's media, when it has no plain url."""
    data = record.data
    for kind in ("image", "video", "text", "audio"):
        if data.HasField(kind):
            media = getattr(data, kind)
            if media.url:
                return str(media.url)
            hosted = media.hosted
            if media.HasField("hosted") and hosted.prefix:
                return f"{hosted.prefix.rstrip('/')}/orig/{hosted.suffix.lstrip('/')}"
            return None
    return None


# Text regions (``RegionInfo.span``) exist only in newer schemas: looked up by name.
_HAS_SPAN = "span" in RegionInfo.DESCRIPTOR.fields_by_name


@dataclass(frozen=True)
class RowOptions:
    """What the table holds: which embedding, which metadata columns, media bytes, columns."""

    #: Which embedding of each input goes in ``embedding`` (0: the first).
    embedding: int = 0
    #: Metadata keys (dotted paths) that get a column of their own.
    metadata_columns: tuple[str, ...] = ()
    #: Whether the ``image_bytes`` column is written.
    media: bool = False
    #: The columns, in order (None: all of them).
    columns: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.embedding < 0:
            raise ValueError("embedding must be 0 or more")
        for key in self.metadata_columns:
            if not key or any(not part for part in key.split(".")):
                raise ValueError(f"metadata column {key!r} is empty or has an empty part")
        # Checks the names.
        table_schema(
            embedding_dim=1,
            metadata_columns=self.metadata_columns,
            media=self.media,
            columns=self.columns,
        )

    def schema(self, dim: int | None) -> pa.Schema:
        """The schema once the embedding size is known (None: no input has one)."""
        return table_schema(
            embedding_dim=dim,
            metadata_columns=self.metadata_columns,
            media=self.media,
            columns=self.columns,
        )

    @property
    def names(self) -> list[str]:
        return list(self.schema(1).names)

    @property
    def wants_embedding(self) -> bool:
        return EMBEDDING_COLUMN in self.names


def _json_value(value: Any) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        number = value.number_value
        return number if math.isfinite(number) else None
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        return _json_struct(value.struct_value)
    if kind == "list_value":
        return [_json_value(v) for v in value.list_value.values]
    return None


def _json_struct(struct: Any) -> dict[str, Any]:
    return {key: _json_value(value) for key, value in struct.fields.items()}


def _metadata_text(value: Any) -> str | None:
    """A metadata value as a column's text: a string as is, anything else as JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _lookup(doc: dict[str, Any], path: list[str]) -> Any:
    value: Any = doc
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _region_kind(info: Any) -> str:
    if info.HasField("bounding_box"):
        return "box"
    if info.HasField("polygon"):
        return "polygon"
    if info.HasField("point") or len(info.keypoint_locations):
        return "point"
    if info.HasField("mask"):
        return "mask"
    if _HAS_SPAN and info.HasField("span"):
        return "span"
    return "other"


class _Concepts:
    """A ``list<struct<id, name, value>>`` column built from flat lists."""

    __slots__ = ("ids", "names", "offsets", "values")

    def __init__(self) -> None:
        self.offsets = [0]
        self.ids: list[str] = []
        self.names: list[str] = []
        self.values: list[float] = []

    def add(self, concepts: Any) -> None:
        for concept in concepts:
            self.ids.append(concept.id)
            self.names.append(concept.name)
            self.values.append(concept.value)
        self.offsets.append(len(self.ids))

    def array(self) -> pa.Array:
        values = pa.StructArray.from_arrays(
            [
                pa.array(self.ids, pa.string()),
                pa.array(self.names, pa.string()),
                pa.array(np.array(self.values, dtype=np.float32)),
            ],
            fields=list(CONCEPT),
        )
        return pa.ListArray.from_arrays(pa.array(self.offsets, pa.int32()), values)


class _Regions:
    """The ``regions`` column built from flat lists."""

    def __init__(self) -> None:
        self.offsets = [0]
        self.ids: list[str] = []
        self.kinds: list[str] = []
        self.box_valid: list[bool] = []
        self.box: list[tuple[float, float, float, float]] = []
        self.poly_offsets = [0]
        self.rows: list[float] = []
        self.cols: list[float] = []
        self.concepts = _Concepts()

    def add(self, regions: Any) -> None:
        for region in regions:
            info = region.region_info
            self.ids.append(region.id)
            kind = _region_kind(info)
            self.kinds.append(kind)
            if info.HasField("bounding_box"):
                b = info.bounding_box
                self.box.append((b.left_col, b.top_row, b.right_col, b.bottom_row))
                self.box_valid.append(True)
            else:
                self.box.append((0.0, 0.0, 0.0, 0.0))
                self.box_valid.append(False)
            if info.HasField("polygon"):
                points: Any = info.polygon.points
            elif info.HasField("point"):
                points = (info.point,)
            else:
                points = info.keypoint_locations
            for point in points:
                self.rows.append(point.row)
                self.cols.append(point.col)
            self.poly_offsets.append(len(self.rows))
            self.concepts.add(region.data.concepts)
        self.offsets.append(len(self.ids))

    def array(self) -> pa.Array:
        box = np.array(self.box, dtype=np.float32).reshape(-1, 4)
        boxes = pa.StructArray.from_arrays(
            [pa.array(box[:, i]) for i in range(4)],
            fields=list(BOX),
            mask=pa.array(np.logical_not(np.array(self.box_valid, dtype=bool))),
        )
        points = pa.StructArray.from_arrays(
            [
                pa.array(np.array(self.rows, dtype=np.float32)),
                pa.array(np.array(self.cols, dtype=np.float32)),
            ],
            fields=list(POINT),
        )
        polygons = pa.ListArray.from_arrays(pa.array(self.poly_offsets, pa.int32()), points)
        regions = pa.StructArray.from_arrays(
            [
                pa.array(self.ids, pa.string()),
                pa.array(self.kinds, pa.string()),
                boxes,
                polygons,
                self.concepts.array(),
            ],
            fields=list(REGION),
        )
        return pa.ListArray.from_arrays(pa.array(self.offsets, pa.int32()), regions)


def _region_array(parts: tuple[Any, ...]) -> pa.Array:
    """The ``regions`` column of one batch from the C reader's buffers."""
    (r_off, r_ids, r_kinds, box, box_valid, poly_off, points, c_off, c_ids, c_names, c_val) = parts
    count = len(box) // 16
    corners = np.frombuffer(box, np.float32).reshape(-1, 4)
    boxes = pa.Array.from_buffers(
        BOX,
        count,
        [pa.py_buffer(box_valid)],
        children=[numbers(pa.float32(), corners[:, i]) for i in range(4)],
    )
    xy = np.frombuffer(points, np.float32).reshape(-1, 2)
    point_array = pa.StructArray.from_arrays(
        [numbers(pa.float32(), xy[:, 0]), numbers(pa.float32(), xy[:, 1])], fields=list(POINT)
    )
    n_concepts = len(c_val) // 4
    concepts = pa.StructArray.from_arrays(
        [
            strings(c_ids, n_concepts),
            strings(c_names, n_concepts),
            numbers(pa.float32(), np.frombuffer(c_val, np.float32)),
        ],
        fields=list(CONCEPT),
    )
    values = pa.StructArray.from_arrays(
        [
            strings(r_ids, count),
            strings(r_kinds, count),
            boxes,
            pa.ListArray.from_arrays(offsets(poly_off), point_array),
            pa.ListArray.from_arrays(offsets(c_off), concepts),
        ],
        fields=list(REGION),
    )
    return pa.ListArray.from_arrays(offsets(r_off), values)


class RowsBuilder:
    """Builds the table's record batches and settles the embedding size on the way.

    The size of ``embedding`` is that of the first embedding met. Until one is met, the
    batches are held back (:attr:`pending_bytes` says how much) and come out of
    :meth:`settle` once the size is known; every later embedding must have that size.

    Example::

        builder = RowsBuilder(RowOptions())
        ready = builder.add(batch.inputs, where="export.zip: entry 'all/b_n128'")
        ready += builder.settle(None)    # at the end: no embedding at all
    """

    def __init__(self, options: RowOptions) -> None:
        self.options = options
        self.names = options.names
        self._wanted = frozenset(self.names)
        self.dim: int | None = None
        #: True once the embedding size is decided (at once when no embedding is wanted).
        self.settled = not options.wants_embedding
        self._first: tuple[str, str] = ("", "")
        self._pending: list[tuple[dict[str, pa.Array], int]] = []
        self.pending_bytes = 0
        self._schema: pa.Schema | None = None if not self.settled else options.schema(None)

    @property
    def schema(self) -> pa.Schema:
        """The schema (only once settled)."""
        if self._schema is None:
            raise RuntimeError("the embedding size is not settled yet")
        return self._schema

    def settle(self, dim: int | None) -> list[pa.RecordBatch]:
        """Fix the embedding size (None: no input has one) and return the held batches."""
        if not self.settled:
            self.dim = dim
            self.settled = True
            self._schema = self.options.schema(dim)
        pending, self._pending, self.pending_bytes = self._pending, [], 0
        return [self._finish(arrays, n) for arrays, n in pending]

    def add(
        self,
        records: Sequence[Input],
        *,
        where: str,
        media: Mapping[str, bytes | None] | None = None,
        raw: bytes | None = None,
    ) -> list[pa.RecordBatch]:
        """The record batches ready after adding ``records`` (none while the size is open).

        ``media`` gives the ``image_bytes`` by input id (downloaded); without it, the bytes
        the archive carries are used. ``raw``: the batch's wire bytes, from which the C
        reader copies the embeddings (when it is built and takes the batch).
        """
        arrays, n = self._columns(records, where, media, raw)
        return self._ready(arrays, n)

    def add_group(
        self, chunks: Sequence[tuple[str, Sequence[Input], bytes]]
    ) -> list[pa.RecordBatch]:
        """:meth:`add` for several batch entries (where, inputs, wire bytes) at once: the C
        reader builds their columns in one go (one Arrow array per column, not one per
        entry); the embeddings are still read, and checked, entry by entry."""
        table = None
        if len(chunks) > 1 and "image_bytes" not in self._wanted:
            table = table_arrow([raw for _, _, raw in chunks])
        if table is None:
            ready: list[pa.RecordBatch] = []
            for where, records, raw in chunks:
                ready += self.add(records, where=where, raw=raw)
            return ready
        n = table[0]
        bounds = [0, *np.frombuffer(table[16], np.uint32).tolist()]
        arrays: dict[str, pa.Array | None] = {}
        joined = _JoinedRecords([records for _, records, _ in chunks], bounds)
        self._fast_columns(joined, table, arrays.__setitem__)
        flags = np.frombuffer(table[13], np.uint8)
        if EMBEDDING_COLUMN not in self._wanted or not (flags & _FLAG_EMBEDDINGS).any():
            if EMBEDDING_COLUMN in self._wanted:
                arrays[EMBEDDING_COLUMN] = None
            return self._ready(arrays, n)
        # Embeddings: one record batch per entry, its other columns sliced from the group's.
        ready = []
        for (where, records, raw), start, stop in zip(chunks, bounds, bounds[1:], strict=False):
            rows = stop - start
            piece: dict[str, pa.Array | None] = {
                name: array.slice(start, rows)
                for name, array in arrays.items()
                if array is not None
            }
            piece[EMBEDDING_COLUMN] = self._entry_embedding(
                records, where, raw, rows, flags[start:stop]
            )
            ready += self._ready(piece, rows)
        return ready

    def _ready(self, arrays: dict[str, pa.Array | None], n: int) -> list[pa.RecordBatch]:
        """The record batches ready once ``arrays`` (``n`` rows) are added."""
        if not self.settled:
            if arrays.get(EMBEDDING_COLUMN) is None:
                self._pending.append((arrays, n))
                self.pending_bytes += sum(
                    a.get_total_buffer_size() for a in arrays.values() if a is not None
                )
                return []
            ready = self.settle(self.dim)
            ready.append(self._finish(arrays, n))
            return ready
        return [self._finish(arrays, n)]

    def _finish(self, arrays: dict[str, pa.Array | None], n: int) -> pa.RecordBatch:
        schema = self.schema
        if EMBEDDING_COLUMN in arrays and arrays[EMBEDDING_COLUMN] is None:
            arrays[EMBEDDING_COLUMN] = pa.nulls(n, embedding_type(self.dim))
        return pa.RecordBatch.from_arrays([arrays[name] for name in schema.names], schema=schema)

    # -- the columns ---------------------------------------------------------------

    def _columns(
        self,
        records: Sequence[Input],
        where: str,
        media: Mapping[str, bytes | None] | None,
        raw: bytes | None,
    ) -> tuple[dict[str, pa.Array | None], int]:
        """The arrays of the batch's columns, and its number of rows."""
        wanted = self._wanted
        out: dict[str, pa.Array | None] = {}
        add = out.__setitem__
        table = None
        if raw is not None and media is None and "image_bytes" not in wanted:
            table = table_arrow([raw])
        if table is not None:
            n = table[0]
            self._fast_columns(records, table, add)
        else:
            n = len(records)
            self._slow_columns(records, add, media)
        if EMBEDDING_COLUMN in wanted:
            flags = None if table is None else np.frombuffer(table[13], np.uint8)
            add(EMBEDDING_COLUMN, self._entry_embedding(records, where, raw, n, flags))
        return out, n

    def _entry_embedding(
        self,
        records: Sequence[Input],
        where: str,
        raw: bytes | None,
        n: int,
        flags: np.ndarray | None,
    ) -> pa.Array | None:
        """The embedding column of one batch entry (None: no input has the embedding);
        ``flags``: the C reader's flags of its inputs, when it read them."""
        if flags is not None and not (flags & _FLAG_EMBEDDINGS).any():
            return None  # no input of the entry has an embedding
        found = batch_vectors_packed(raw, self.options.embedding) if raw is not None else None
        if found is not None and len(found[1]) // 4 == n:
            return self._embedding_block(found, where)
        return self._embeddings(records, where)

    def _fast_columns(
        self, records: Sequence[Input], table: tuple[Any, ...], add: Callable[[str, Any], None]
    ) -> None:
        """The columns from the C reader's ``table_arrow`` (Arrow buffers, no Python object
        per row); only the inputs it flags (metadata, a url only hosted, and regions when
        it leaves them) are parsed, for those columns."""
        wanted = self._wanted
        (n, ids, kinds, urls, sizes, created, c_off, c_ids, c_names, c_val) = table[:10]
        (p_off, p_ids, texts, flag_bytes, metas, regions) = table[10:16]
        flags = np.frombuffer(flag_bytes, np.uint8)
        if "id" in wanted:
            add("id", strings(ids, n))
        if "input_type" in wanted:
            add("input_type", strings(kinds, n))
        if "url" in wanted:
            column = strings(urls, n)
            hosted = np.flatnonzero(flags & _FLAG_HOSTED).tolist()
            if hosted:
                filled = column.to_pylist()
                for i in hosted:
                    filled[i] = _hosted_url(records[i])
                column = pa.array(filled, pa.string())
            add("url", column)
        wh = np.frombuffer(sizes, np.int32).reshape(-1, 2)
        for name, values in (("width", wh[:, 0]), ("height", wh[:, 1])):
            if name in wanted:
                add(name, numbers(pa.int32(), values, values != 0))
        if "created_at" in wanted:
            micros = np.frombuffer(created, np.int64)
            add("created_at", numbers(pa.timestamp("us", tz="UTC"), micros, micros != _NO_TIME))
        if "concepts" in wanted:
            count = len(c_val) // 4
            values = pa.StructArray.from_arrays(
                [
                    strings(c_ids, count),
                    strings(c_names, count),
                    numbers(pa.float32(), np.frombuffer(c_val, np.float32)),
                ],
                fields=list(CONCEPT),
            )
            add("concepts", pa.ListArray.from_arrays(offsets(c_off), values))
        if "positive_concepts" in wanted:
            count = int(np.frombuffer(p_off, np.int32)[-1])
            add(
                "positive_concepts",
                pa.ListArray.from_arrays(offsets(p_off), strings(p_ids, count)),
            )
        if "text" in wanted:
            add("text", strings(texts, n))
        meta_keys = [k for k in self.options.metadata_columns if metadata_column_name(k) in wanted]
        if "metadata" in wanted or meta_keys:
            rows = np.flatnonzero(flags & _FLAG_METADATA).tolist()
            if rows or meta_keys:
                done = strings(metas, n).to_pylist()
                self._metadata_columns(records, meta_keys, add, rows=rows, done=done)
            else:
                add("metadata", strings(metas, n))
        if "regions" in wanted:
            if regions is not None:
                add("regions", _region_array(regions))
                return
            marked = np.flatnonzero(flags & _FLAG_REGIONS).tolist()
            built = _Regions()
            for i in marked:
                built.add(records[i].data.regions)
            counts = np.zeros(n, dtype=np.int32)
            counts[marked] = np.diff(np.array(built.offsets, dtype=np.int32))
            built.offsets = [0, *np.cumsum(counts).tolist()]
            add("regions", built.array())

    def _slow_columns(
        self,
        records: Sequence[Input],
        add: Callable[[str, Any], None],
        media: Mapping[str, bytes | None] | None,
    ) -> None:
        """The columns from the parsed inputs (protobuf's classes)."""
        wanted = self._wanted
        if "id" in wanted:
            add("id", pa.array([r.id for r in records], pa.string()))
        simple = wanted & {"input_type", "url", "width", "height", "text", "image_bytes"}
        if simple:
            self._media_columns(records, simple, add)
            if media is not None and "image_bytes" in wanted:
                add("image_bytes", pa.array([media.get(r.id) for r in records], pa.binary()))
        if "created_at" in wanted:
            stamps = [
                r.created_at.seconds * 1_000_000 + r.created_at.nanos // 1000
                if r.HasField("created_at") and _MIN_SECONDS <= r.created_at.seconds <= _MAX_SECONDS
                else None
                for r in records
            ]
            add("created_at", pa.array(stamps, pa.timestamp("us", tz="UTC")))
        if "concepts" in wanted or "positive_concepts" in wanted:
            self._concept_columns(records, add)
        meta_keys = [k for k in self.options.metadata_columns if metadata_column_name(k) in wanted]
        if "metadata" in wanted or meta_keys:
            self._metadata_columns(records, meta_keys, add)
        if "regions" in wanted:
            regions = _Regions()
            offsets = regions.offsets
            for r in records:
                found = r.data.regions
                if found:
                    regions.add(found)
                else:
                    offsets.append(offsets[-1])
            add("regions", regions.array())

    def _concept_columns(self, records: Sequence[Input], add: Callable[[str, Any], None]) -> None:
        """``concepts`` and ``positive_concepts``, in one pass."""
        concepts = _Concepts()
        ids, names, values = concepts.ids, concepts.names, concepts.values
        offsets = concepts.offsets
        positive: list[str] = []
        positive_offsets = [0]
        for r in records:
            for concept in r.data.concepts:
                concept_id = concept.id
                value = concept.value
                ids.append(concept_id)
                names.append(concept.name)
                values.append(value)
                if value > 0:
                    positive.append(concept_id)
            offsets.append(len(ids))
            positive_offsets.append(len(positive))
        if "concepts" in self._wanted:
            add("concepts", concepts.array())
        if "positive_concepts" in self._wanted:
            add(
                "positive_concepts",
                pa.ListArray.from_arrays(
                    pa.array(positive_offsets, pa.int32()), pa.array(positive, pa.string())
                ),
            )

    def _media_columns(
        self, records: Sequence[Input], wanted: frozenset[str], add: Callable[[str, Any], None]
    ) -> None:
        kinds: list[str | None] = []
        urls: list[str | None] = []
        widths: list[int | None] = []
        heights: list[int | None] = []
        texts: list[str | None] = []
        blobs: list[bytes | None] = []
        for r in records:
            data = r.data
            has = data.HasField
            if has("image"):
                kind: str | None = "image"
            elif has("video"):
                kind = "video"
            elif has("text"):
                kind = "text"
            elif has("audio"):
                kind = "audio"
            else:
                kind = None
            kinds.append(kind)
            if kind is None:
                urls.append(None)
                widths.append(None)
                heights.append(None)
                texts.append(None)
                blobs.append(None)
                continue
            media = getattr(data, kind)
            urls.append(media.url or _hosted_url(r))
            width = height = 0
            if kind == "image" and media.HasField("image_info"):
                width, height = media.image_info.width, media.image_info.height
            elif kind == "video" and media.HasField("video_info"):
                width, height = media.video_info.width, media.video_info.height
            widths.append(width or None)
            heights.append(height or None)
            texts.append(media.raw if kind == "text" else None)
            blobs.append(bytes(media.base64) or None if kind != "text" else None)
        columns = {
            "input_type": (kinds, pa.string()),
            "url": (urls, pa.string()),
            "width": (widths, pa.int32()),
            "height": (heights, pa.int32()),
            "text": (texts, pa.string()),
            "image_bytes": (blobs, pa.binary()),
        }
        for name in wanted:
            values, kind_type = columns[name]
            add(name, pa.array(values, kind_type))

    def _metadata_columns(
        self,
        records: Sequence[Input],
        keys: list[str],
        add: Callable[[str, Any], None],
        *,
        rows: list[int] | None = None,
        done: list[str | None] | None = None,
    ) -> None:
        """``metadata`` and the ``metadata.KEY`` columns; ``rows``: the only inputs whose
        metadata is still to write (None: any); ``done``: the JSON of the others (from
        the C reader; None where an input has none)."""
        n = len(done) if done is not None else len(records)
        texts: list[str | None] = list(done) if done is not None else [None] * n
        paths = [k.split(".") for k in keys]
        per_key: list[list[str | None]] = [[None] * n for _ in keys]
        if keys and done is not None:
            for i, text in enumerate(done):
                if text is not None:
                    doc = orjson.loads(text)
                    for path, column in zip(paths, per_key, strict=True):
                        column[i] = _metadata_text(_lookup(doc, path))
        for i in range(n) if rows is None else rows:
            data = records[i].data
            if not data.HasField("metadata"):
                continue
            doc = _json_struct(data.metadata)
            texts[i] = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS).decode()
            for path, column in zip(paths, per_key, strict=True):
                column[i] = _metadata_text(_lookup(doc, path))
        if "metadata" in self._wanted:
            add("metadata", pa.array(texts, pa.string()))
        for key, column in zip(keys, per_key, strict=True):
            add(metadata_column_name(key), pa.array(column, pa.string()))

    def _embedding_block(
        self, found: tuple[tuple[bytes, bytes, bytes], bytes, bytes | int], where: str
    ) -> pa.Array | None:
        """The embedding column from the C reader's ids, sizes and packed floats."""
        (id_offsets, id_bytes, _), dims_bytes, floats_bytes = found
        assert isinstance(floats_bytes, bytes)
        starts = np.frombuffer(id_offsets, np.int32)

        def id_at(i: int) -> str:
            return id_bytes[int(starts[i]) : int(starts[i + 1])].decode()

        dims = np.frombuffer(dims_bytes, np.uint32)
        count = len(dims)
        have = np.flatnonzero(dims)
        if not len(have):
            return None
        dim = self.dim
        if dim is None:
            dim = self.dim = int(dims[have[0]])
            self._first = (id_at(int(have[0])), where)
        odd = have[dims[have] != dim]
        if len(odd):
            i = int(odd[0])
            raise SchemaError(
                mixed_dims_message(where, id_at(i), int(dims[i]), dim, self.options.embedding),
                params=[PICK_EMBEDDING],
            )
        floats = np.frombuffer(floats_bytes, "<f4")
        if len(have) == count:
            return fixed_list(floats, dim)
        block = np.zeros((count, dim), dtype=np.float32)
        block[have] = floats.reshape(len(have), dim)
        valid = np.zeros(count, dtype=bool)
        valid[have] = True
        return fixed_list(block.reshape(-1), dim, valid)

    def _embeddings(self, records: Sequence[Input], where: str) -> pa.Array | None:
        which = self.options.embedding
        vectors: list[np.ndarray | None] = [embedding_of(r, which) for r in records]
        dim = self.dim
        for record, vector in zip(records, vectors, strict=True):
            if vector is None:
                continue
            if dim is None:
                dim = self.dim = len(vector)
                self._first = (record.id, where)
            elif len(vector) != dim:
                raise SchemaError(
                    mixed_dims_message(where, record.id, len(vector), dim, which),
                    params=[PICK_EMBEDDING],
                )
        if dim is None:
            return None
        block = np.zeros((len(records), dim), dtype=np.float32)
        valid = np.zeros(len(records), dtype=bool)
        for i, vector in enumerate(vectors):
            if vector is not None:
                block[i] = vector
                valid[i] = True
        flat = pa.array(block.reshape(-1))
        if valid.all():
            return pa.FixedSizeListArray.from_arrays(flat, dim)
        return pa.FixedSizeListArray.from_arrays(flat, dim, mask=pa.array(~valid))


#: How :func:`mixed_dims_message` names the parameter that picks the embedding (the
#: CLI: ``--embedding N``).
PICK_EMBEDDING = "embedding=N"


def mixed_dims_message(where: str, input_id: str, dim: int, first: int, which: int) -> str:
    """The error for an embedding whose size differs from the first one's (raise it with
    ``params=[PICK_EMBEDDING]``)."""
    return (
        f"{where}, input {input_id!r}: embedding {which} has {dim} dimensions, but earlier "
        f"inputs' have {first}; a table column holds one size, so pick an embedding that "
        f"all inputs share with {PICK_EMBEDDING} (or keep the inputs of one size with "
        "'clarifai-archive filter')"
    )
