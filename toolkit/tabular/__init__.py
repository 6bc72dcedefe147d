"""The archive as a table: one row per input, for Arrow, Parquet and pandas.

Example::

    from toolkit import ArchiveReader
    from toolkit.tabular import RowOptions, record_batch_reader

    with ArchiveReader("clarifai-data-protobuf.zip") as reader:
        table = record_batch_reader([reader], RowOptions(embedding=0)).read_all()
"""

from __future__ import annotations

from .rows import RowOptions, RowsBuilder, embedding_of
from .schema import COLUMNS, REGION_KINDS, Column, columns_markdown, table_schema
from .stream import DEFAULT_HOLD_BYTES, find_embedding_dim, record_batch_reader

__all__ = [
    "COLUMNS",
    "DEFAULT_HOLD_BYTES",
    "REGION_KINDS",
    "Column",
    "RowOptions",
    "RowsBuilder",
    "columns_markdown",
    "embedding_of",
    "find_embedding_dim",
    "record_batch_reader",
    "table_schema",
]
