"""Stream an archive's inputs as Arrow record batches: the library side of ``--to parquet``.

Example::

    with ArchiveReader("export.zip") as reader:
        table = record_batch_reader([reader]).read_all()
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

import pyarrow as pa

from ..archive import ArchiveReader, BatchEntry
from ..messages import Input
from .rows import LazyRecords, RowOptions, RowsBuilder, embedding_of

__all__ = [
    "DEFAULT_HOLD_BYTES",
    "GROUP_BYTES",
    "GROUP_ENTRIES",
    "add_chunks",
    "find_embedding_dim",
    "group_chunks",
    "iter_chunks",
    "iter_record_batches",
    "record_batch_reader",
    "where_of",
]

#: Rows held back while the embedding size is unknown, in bytes of Arrow data; past it the
#: rest of the archive is read ahead (parsed, not kept) to find the size.
DEFAULT_HOLD_BYTES = 64 * 1024**2

#: How an error names a batch entry, its inputs (or those kept of them), and its wire
#: bytes when all of them are kept (the C reader then builds most columns from them).
Chunk = tuple[str, Sequence[Input], bytes | None]

#: Batch entries whose columns the C reader builds in one go (one Arrow array per column
#: for them all: per-entry overhead is most of the cost of small entries), and the most
#: wire bytes such a group holds.
GROUP_ENTRIES = 16
GROUP_BYTES = 16 * 1024**2


def group_chunks(chunks: Iterable[Chunk]) -> Iterator[list[Chunk]]:
    """Consecutive chunks with wire bytes, up to :data:`GROUP_ENTRIES` or
    :data:`GROUP_BYTES` together; a chunk without them alone."""
    group: list[Chunk] = []
    size = 0
    for chunk in chunks:
        raw = chunk[2]
        if raw is None:
            if group:
                yield group
                group, size = [], 0
            yield [chunk]
            continue
        if group and (len(group) >= GROUP_ENTRIES or size + len(raw) > GROUP_BYTES):
            yield group
            group, size = [], 0
        group.append(chunk)
        size += len(raw)
    if group:
        yield group


def add_chunks(builder: RowsBuilder, group: list[Chunk]) -> list[pa.RecordBatch]:
    """The record batches ready after adding a group of :func:`group_chunks`."""
    if group[0][2] is None:
        where, records, _ = group[0]
        return builder.add(records, where=where) if len(records) else []
    return builder.add_group(
        [(where, records, raw) for where, records, raw in group if raw is not None]
    )


def where_of(reader: ArchiveReader, entry: BatchEntry) -> str:
    """How an error names a batch entry."""
    return f"{reader.path}: entry {entry.name!r}"


def _parser(reader: ArchiveReader, entry: BatchEntry, data: bytes) -> Callable[[], Sequence[Input]]:
    """Parses ``data``, the bytes of ``entry``, when called."""
    return lambda: reader.parse_batch(entry, data).inputs


def iter_chunks(readers: Sequence[ArchiveReader]) -> Iterator[Chunk]:
    """Every batch entry of the readers, in order, as a chunk (parsed only when needed)."""
    for reader in readers:
        for entry in reader.entries:
            # The C reader stops at 16 levels of nesting (metadata 5 deep): a lower
            # metadata limit than 8 is left to the parse, which checks it.
            if reader.flavour != "protobuf" or reader.limits.max_metadata_depth < 8:
                yield where_of(reader, entry), reader.read_batch(entry).inputs, None
                continue
            data = reader.read_batch_bytes(entry)
            records = LazyRecords(None, _parser(reader, entry, data))
            yield where_of(reader, entry), records, data


def find_embedding_dim(records: Iterable[Input], which: int) -> int | None:
    """The size of the first embedding ``which`` among ``records`` (None: there is none)."""
    for record in records:
        vector = embedding_of(record, which)
        if vector is not None:
            return len(vector)
    return None


def iter_record_batches(
    chunks: Iterable[Chunk],
    options: RowOptions,
    *,
    read_ahead: Callable[[], int | None] | None = None,
    hold_bytes: int | None = DEFAULT_HOLD_BYTES,
) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """The schema and the record batches of ``chunks`` (one per group of up to
    :data:`GROUP_ENTRIES` chunks the C reader reads, one per chunk where the inputs carry
    the embedding, or are parsed).

    Chunks are read until the embedding size is known. Past ``hold_bytes`` of rows held
    back, ``read_ahead()`` gives the size (it reads the rest without keeping it); None:
    hold any amount.
    """
    builder = RowsBuilder(options)
    source = group_chunks(chunks)
    held: list[pa.RecordBatch] = []
    for group in source:
        held.extend(add_chunks(builder, group))
        if builder.settled:
            break
        if hold_bytes is not None and read_ahead is not None and builder.pending_bytes > hold_bytes:
            held.extend(builder.settle(read_ahead()))
            break
    else:
        held.extend(builder.settle(builder.dim))

    def generate() -> Iterator[pa.RecordBatch]:
        yield from held
        held.clear()
        for group in source:
            yield from add_chunks(builder, group)

    return builder.schema, generate()


def record_batch_reader(
    readers: Sequence[ArchiveReader], options: RowOptions | None = None
) -> pa.RecordBatchReader:
    """The table of the readers' inputs as a ``pyarrow.RecordBatchReader`` (nothing on disk).

    Example::

        with ArchiveReader("export.zip") as reader:
            for batch in record_batch_reader([reader]):
                print(batch.num_rows)
    """
    options = options or RowOptions()
    which = options.embedding

    def read_ahead() -> int | None:
        return find_embedding_dim(
            (r for _, records, _ in iter_chunks(readers) for r in records), which
        )

    schema, batches = iter_record_batches(iter_chunks(readers), options, read_ahead=read_ahead)
    return pa.RecordBatchReader.from_batches(schema, batches)
