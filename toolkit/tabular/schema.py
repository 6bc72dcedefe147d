"""The table of an archive: one row per input, its columns defined once, as data.

:data:`COLUMNS` is the contract (names, types, meaning). :func:`table_schema` makes the
``pyarrow`` schema from it for one conversion, and :func:`columns_markdown` the README's
table, so the writer and the documentation cannot drift.

Example::

    schema = table_schema(embedding_dim=512)
    print(schema.field("embedding").type)      # fixed_size_list<item: float>[512]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

__all__ = [
    "COLUMNS",
    "CONCEPT",
    "EMBEDDING_COLUMN",
    "METADATA_PREFIX",
    "REGION",
    "REGION_KINDS",
    "Column",
    "columns_markdown",
    "embedding_type",
    "table_schema",
]

#: A label: concept id, name and value (always present; 0.0 is a negative label).
CONCEPT = pa.struct(
    [("id", pa.string()), ("name", pa.string()), ("value", pa.float32())],
)
#: A bounding box, normalised to [0, 1] like the archive's.
BOX = pa.struct(
    [
        ("left_col", pa.float32()),
        ("top_row", pa.float32()),
        ("right_col", pa.float32()),
        ("bottom_row", pa.float32()),
    ]
)
POINT = pa.struct([("row", pa.float32()), ("col", pa.float32())])
#: What kind of region a row of ``regions`` is (the first shape it carries, in this order).
REGION_KINDS = ("box", "polygon", "point", "mask", "span", "other")
REGION = pa.struct(
    [
        ("id", pa.string()),
        ("kind", pa.string()),
        ("box", BOX),
        ("polygon", pa.list_(POINT)),
        ("concepts", pa.list_(CONCEPT)),
    ]
)
EMBEDDING_COLUMN = "embedding"
#: Columns made by ``--metadata-columns a,b.c`` are named ``metadata.a``, ``metadata.b.c``.
METADATA_PREFIX = "metadata."


def embedding_type(dim: int | None) -> pa.DataType:
    """``fixed_size_list<float32, dim>``; the null type when no input has that embedding."""
    return pa.null() if dim is None else pa.list_(pa.float32(), dim)


@dataclass(frozen=True)
class Column:
    """One column of the table."""

    name: str
    #: Its Arrow type (None for the embedding, whose size depends on the archive).
    type: pa.DataType | None
    #: What it holds, for the README.
    doc: str
    #: Only written when asked for (``image_bytes``: with ``--media``).
    optional: bool = False


#: The columns, in table order (the ``metadata.KEY`` columns follow ``metadata``).
COLUMNS: tuple[Column, ...] = (
    Column("id", pa.string(), "input id"),
    Column("input_type", pa.string(), "`image`, `video`, `text` or `audio` (null: none)"),
    Column("url", pa.string(), "the media's `url`, else its hosted original (null: none)"),
    Column("width", pa.int32(), "image or video width in pixels (null when unknown)"),
    Column("height", pa.int32(), "image or video height in pixels (null when unknown)"),
    Column("created_at", pa.timestamp("us", tz="UTC"), "creation time (null when unset)"),
    Column(
        "concepts",
        pa.list_(CONCEPT),
        "input-level labels; `value` always present, 0.0 for a negative label",
    ),
    Column("positive_concepts", pa.list_(pa.string()), "ids of the concepts with value > 0"),
    Column(
        "metadata",
        pa.string(),
        "the metadata Struct as JSON, keys sorted (null when none); "
        "`--metadata-columns a,b.c` adds `metadata.a`, `metadata.b.c` (string: a string "
        "value as is, any other value as JSON)",
    ),
    Column(
        "regions",
        pa.list_(REGION),
        "the input's regions; `kind` is " + "\\|".join(REGION_KINDS) + " (the first shape "
        "held); `box` is null without a box; `polygon` holds a polygon's points, a point "
        "region's point or a region's keypoints",
    ),
    Column(
        EMBEDDING_COLUMN,
        None,
        "embedding 0 (`--embedding N`: another), bit-for-bit "
        "the archive's floats; null where an input has none (the null type when none has)",
    ),
    Column("text", pa.string(), "the raw text of a text input"),
    Column(
        "image_bytes",
        pa.binary(),
        "the media bytes (image, video or audio), only with `--media embedded\\|download`",
        optional=True,
    ),
)
_BY_NAME = {c.name: c for c in COLUMNS}


def metadata_column_name(key: str) -> str:
    """The column name of metadata key ``key`` (a dotted path)."""
    return METADATA_PREFIX + key


def table_schema(
    *,
    embedding_dim: int | None,
    metadata_columns: Sequence[str] = (),
    media: bool = False,
    columns: Sequence[str] | None = None,
) -> pa.Schema:
    """The Arrow schema of one conversion.

    ``columns`` picks and orders columns (names of :data:`COLUMNS` or ``metadata.KEY``
    columns); by default every column, ``image_bytes`` only with ``media``.

    Example::

        table_schema(embedding_dim=None, columns=["id", "concepts"])
    """
    fields: dict[str, pa.Field] = {}
    for column in COLUMNS:
        if column.optional and not media:
            continue
        kind = embedding_type(embedding_dim) if column.type is None else column.type
        fields[column.name] = pa.field(column.name, kind)
        if column.name == "metadata":
            for key in metadata_columns:
                name = metadata_column_name(key)
                fields[name] = pa.field(name, pa.string())
    if columns is None:
        return pa.schema(list(fields.values()))
    missing = [c for c in columns if c not in fields]
    if missing:
        raise ValueError(f"unknown column {missing[0]!r}; choose from {', '.join(fields)}")
    return pa.schema([fields[c] for c in columns])


def known_column(name: str) -> bool:
    """True when ``name`` is a column of :data:`COLUMNS` or a ``metadata.KEY`` column."""
    return name in _BY_NAME or (name.startswith(METADATA_PREFIX) and len(name) > 9)


def columns_markdown() -> str:
    """The README's table of the columns, made from :data:`COLUMNS`."""
    lines = ["| column | type | holds |", "| --- | --- | --- |"]
    for column in COLUMNS:
        kind = "fixed_size_list<float32, d>" if column.type is None else str(column.type)
        kind = kind.replace("item: ", "").replace("element: ", "")
        lines.append(f"| `{column.name}` | `{kind}` | {column.doc} |")
    return "\n".join(lines) + "\n"
