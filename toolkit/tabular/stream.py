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
from .rows import RowOptions, RowsBuilder, embedding_of

__all__ = ["DEFAULT_HOLD_BYTES", "find_embedding_dim", "iter_entries", "record_batch_reader"]

#: Rows held back while the embedding size is unknown, in bytes of Arrow data; past it the
#: rest of the archive is read ahead (parsed, not kept) to find the size.
DEFAULT_HOLD_BYTES = 64 * 1024**2

Keep = Callable[[Input], bool]
Item = tuple[ArchiveReader, BatchEntry]


def iter_entries(readers: Sequence[ArchiveReader]) -> Iterator[Item]:
    """Every (reader, batch entry) of the readers, in order."""
    for reader in readers:
        for entry in reader.entries:
            yield reader, entry


def find_embedding_dim(items: Iterable[Item], which: int, keep: Keep | None = None) -> int | None:
    """The size of the first embedding ``which`` among the (kept) inputs of ``items``."""
    for reader, entry in items:
        for record in reader.read_batch(entry).inputs:
            if keep is not None and not keep(record):
                continue
            vector = embedding_of(record, which)
            if vector is not None:
                return len(vector)
    return None


def where_of(reader: ArchiveReader, entry: BatchEntry) -> str:
    """How an error names a batch entry."""
    return f"{reader.path}: entry {entry.name!r}"


def iter_kept(
    readers: Sequence[ArchiveReader], keep: Keep | None = None, limit: int | None = None
) -> Iterator[tuple[int, Item, list[Input]]]:
    """(position, item, kept inputs) per batch entry, stopping after ``limit`` inputs."""
    left = limit
    for position, (reader, entry) in enumerate(iter_entries(readers)):
        if left is not None and left <= 0:
            return
        records = list(reader.read_batch(entry).inputs)
        if keep is not None:
            records = [r for r in records if keep(r)]
        if left is not None:
            records = records[:left]
            left -= len(records)
        yield position, (reader, entry), records


def iter_record_batches(
    readers: Sequence[ArchiveReader],
    options: RowOptions,
    *,
    keep: Keep | None = None,
    limit: int | None = None,
    hold_bytes: int | None = DEFAULT_HOLD_BYTES,
) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """The schema and record batches (one per batch entry) of the inputs ``keep`` accepts.

    Batches are read until the embedding size is known (at most ``hold_bytes`` of rows
    held; then the rest is read ahead for it); None holds any amount.
    """
    builder = RowsBuilder(options)
    source = iter_kept(readers, keep, limit)
    held: list[pa.RecordBatch] = []
    entries = list(iter_entries(readers))
    for position, item, records in source:
        if not records:
            continue
        held.extend(builder.add(records, where=where_of(*item)))
        if builder.settled:
            break
        if hold_bytes is not None and builder.pending_bytes > hold_bytes:
            dim = find_embedding_dim(entries[position + 1 :], options.embedding, keep)
            held.extend(builder.settle(dim))
            break
    else:
        held.extend(builder.settle(builder.dim))

    def generate() -> Iterator[pa.RecordBatch]:
        yield from held
        held.clear()
        for _position, item, records in source:
            if records:
                yield from builder.add(records, where=where_of(*item))

    return builder.schema, generate()


def record_batch_reader(
    readers: Sequence[ArchiveReader],
    options: RowOptions | None = None,
    *,
    keep: Keep | None = None,
    limit: int | None = None,
) -> pa.RecordBatchReader:
    """The table of the readers' inputs as a ``pyarrow.RecordBatchReader`` (nothing on disk).

    Example::

        with ArchiveReader("export.zip") as reader:
            for batch in record_batch_reader([reader]):
                print(batch.num_rows)
    """
    schema, batches = iter_record_batches(readers, options or RowOptions(), keep=keep, limit=limit)
    return pa.RecordBatchReader.from_batches(schema, batches)
