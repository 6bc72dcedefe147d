"""Archives cut into partitions: ranges of batch entries, each read by a pure function.

A :class:`Part` names an archive (a local path or an fsspec URL such as ``s3://b/a.zip``)
and a range of its batch entries; :func:`read_part` turns it into a ``pyarrow.Table`` of
the Parquet schema (:mod:`toolkit.tabular`). The same part always gives the same rows,
so a scheduler may run it again (a worker lost, a speculative copy) without a row lost
or written twice. The plan (:func:`plan_parts`) is made on the client, which also fixes
the embedding size, so that every part has the same schema.

Example::

    plan = plan_parts(["a.zip", "memory://exports/b.zip"])
    tables = [read_part(part) for part in plan.parts]
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..archive import ArchiveReader, BatchEntry
from ..errors import ArchiveError
from ..limits import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    import pyarrow as pa

    from ..tabular.rows import RowOptions
    from .pool import WorkPool

__all__ = [
    "DEFAULT_PART_BYTES",
    "Part",
    "Plan",
    "is_url",
    "iter_part_tables",
    "open_reader",
    "plan_parts",
    "read_part",
    "read_part_to_file",
    "resolve_source",
]

#: Uncompressed bytes of batch entries per partition, about (Dask's advice: ~100 MB).
DEFAULT_PART_BYTES = 64 * 1024**2


def is_url(source: str) -> bool:
    """True when ``source`` is an fsspec URL (``s3://``, ``memory://``, ``file://``...)."""
    return "://" in source


def _local(source: str) -> str | None:
    """The local path of a ``file://`` URL or a plain path; None for other URLs."""
    if source.startswith("file://"):
        return source[len("file://") :]
    return None if is_url(source) else source


def resolve_source(source: str | os.PathLike[str], *, home: str | None = None) -> str:
    """A path or URL as given; a catalog reference ``DATASET[@VERSION]`` (not a file that
    exists) resolved to its archive's path, on the client."""
    text = os.fspath(source)
    if is_url(text) or Path(text).exists():
        return text
    from ..dataset import _resolve_ref

    return str(_resolve_ref(text, home, DEFAULT_LIMITS))


@contextlib.contextmanager
def open_reader(
    source: str,
    *,
    limits: Limits = DEFAULT_LIMITS,
    storage_options: Mapping[str, Any] | None = None,
) -> Iterator[ArchiveReader]:
    """An :class:`ArchiveReader` of a local path or an fsspec URL (read where it is stored,
    within ``limits``: the reader's safety checks apply on every worker)."""
    local = _local(source)
    if local is not None:
        with ArchiveReader(local, limits=limits, allow_empty=True) as reader:
            yield reader
        return
    import fsspec

    try:
        opened = fsspec.open(source, "rb", **dict(storage_options or {}))
        stream = opened.open()
    except FileNotFoundError:
        raise ArchiveError(f"{source}: no such file") from None
    except (OSError, ValueError, ImportError) as exc:
        raise ArchiveError(f"{source}: cannot open it ({exc})") from None
    try:
        with ArchiveReader(source, limits=limits, allow_empty=True, fileobj=stream) as reader:
            yield reader
    finally:
        stream.close()


@dataclass(frozen=True)
class Part:
    """Entries ``[first, stop)`` of the archive ``source``, and how to make their rows."""

    source: str
    first: int
    stop: int
    #: Names of the first and last entry, checked when read: the archive is unchanged.
    names: tuple[str, str]
    options: RowOptions
    #: The embedding size of the whole table (None: no input has one).
    dim: int | None
    limits: Limits = DEFAULT_LIMITS
    storage_options: Mapping[str, Any] = field(default_factory=dict)
    #: Position of the part in the plan (row order: by archive, then entry).
    number: int = 0
    #: Position of its archive among the sources.
    archive: int = 0


@dataclass(frozen=True)
class Plan:
    """The parts of some archives, in row order, and the schema they share."""

    parts: tuple[Part, ...]
    options: RowOptions
    dim: int | None
    #: Batch entries in all (for a progress bar).
    entries: int

    @property
    def schema(self) -> pa.Schema:
        return self.options.schema(self.dim)


def _ranges(entries: Sequence[BatchEntry], part_bytes: int) -> Iterator[tuple[int, int]]:
    """Consecutive entry ranges of about ``part_bytes`` uncompressed bytes (at least one
    entry each)."""
    start, size = 0, 0
    for entry in entries:
        if size and size + entry.size > part_bytes:
            yield start, entry.index
            start, size = entry.index, 0
        size += entry.size
    if start < len(entries):
        yield start, len(entries)


def _find_dim(reader: ArchiveReader, which: int) -> int | None:
    from ..tabular.stream import find_embedding_dim

    records = (r for entry in reader.entries for r in reader.read_batch(entry).inputs)
    return find_embedding_dim(records, which)


def plan_archives(
    paths_or_refs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    columns: Sequence[str] | None = None,
    *,
    embedding: int = 0,
    metadata_columns: Sequence[str] = (),
    part_bytes: int = DEFAULT_PART_BYTES,
    limits: Limits = DEFAULT_LIMITS,
    storage_options: Mapping[str, Any] | None = None,
    home: str | None = None,
) -> Plan:
    """:func:`plan_parts` with the arguments of ``read_archives`` (Dask's and Ray's): one
    archive or several, the columns and the row options of ``convert --to parquet``."""
    from ..tabular.rows import RowOptions

    if isinstance(paths_or_refs, (str, os.PathLike)):
        paths_or_refs = [paths_or_refs]
    if not paths_or_refs:
        raise ValueError("give at least one archive")
    options = RowOptions(
        embedding=embedding,
        metadata_columns=tuple(metadata_columns),
        columns=tuple(columns) if columns is not None else None,
    )
    return plan_parts(
        paths_or_refs,
        options,
        part_bytes=part_bytes,
        limits=limits,
        storage_options=storage_options,
        home=home,
    )


def plan_parts(
    sources: Sequence[str | os.PathLike[str]],
    options: RowOptions | None = None,
    *,
    part_bytes: int = DEFAULT_PART_BYTES,
    limits: Limits = DEFAULT_LIMITS,
    storage_options: Mapping[str, Any] | None = None,
    home: str | None = None,
) -> Plan:
    """Cut ``sources`` (paths, fsspec URLs or catalog references) into parts of about
    ``part_bytes`` uncompressed bytes each, reading only their zip directories, and the
    first entries up to the first embedding (its size fixes the schema)."""
    from ..tabular.rows import RowOptions

    if part_bytes < 1:
        raise ValueError("part_bytes must be at least 1")
    options = options or RowOptions()
    store = dict(storage_options or {})
    dim: int | None = None
    need_dim = options.wants_embedding
    parts: list[Part] = []
    entries = 0
    for archive, given in enumerate(sources):
        source = resolve_source(given, home=home)
        with open_reader(source, limits=limits, storage_options=store) as reader:
            if need_dim:
                dim = _find_dim(reader, options.embedding)
                need_dim = dim is None
            names = [e.name for e in reader.entries]
            entries += len(names)
            for first, stop in _ranges(reader.entries, part_bytes):
                parts.append(
                    Part(
                        source=source,
                        first=first,
                        stop=stop,
                        names=(names[first], names[stop - 1]),
                        options=options,
                        dim=None,
                        limits=limits,
                        storage_options=store,
                        archive=archive,
                    )
                )
    numbered = tuple(dataclasses.replace(p, dim=dim, number=i) for i, p in enumerate(parts))
    return Plan(parts=numbered, options=options, dim=dim, entries=entries)


def read_part(part: Part) -> pa.Table:
    """The rows of ``part`` as a ``pyarrow.Table`` of the plan's schema (one record batch
    per non-empty batch entry, as ``convert --to parquet`` writes them). In a Dask worker,
    blocks up to 32 MiB come from the heap meanwhile (:mod:`toolkit.distributed.malloc`)."""
    from ..convert import _gc_paused
    from .malloc import heap_for_large_blocks

    # Millions of short-lived objects and no cycles, as in convert; and no mmap a batch.
    with _gc_paused(), heap_for_large_blocks():
        return _read_part(part)


def _read_part(part: Part) -> pa.Table:
    import pyarrow as pa

    from ..tabular.rows import LazyRecords, RowsBuilder
    from ..tabular.stream import Chunk, add_chunks, group_chunks, where_of

    builder = RowsBuilder(part.options)
    builder.settle(part.dim)
    batches: list[pa.RecordBatch] = []
    with _reader_of(part) as r:
        entries = r.entries
        if (
            len(entries) < part.stop
            or entries[part.first].name != part.names[0]
            or entries[part.stop - 1].name != part.names[1]
        ):
            raise ArchiveError(
                f"{part.source}: the archive changed after the work was planned (entries "
                f"{part.first} to {part.stop - 1} are not those listed); run it again"
            )
        fast = r.flavour == "protobuf" and r.limits.max_metadata_depth >= 8

        def chunks() -> Iterator[Chunk]:
            for entry in entries[part.first : part.stop]:
                where = where_of(r, entry)
                if fast:
                    data = r.read_batch_bytes(entry)
                    yield where, LazyRecords(None, _parser(r, entry, data)), data
                else:
                    yield where, r.read_batch(entry).inputs, None

        # Entries in groups, as the single-process reader takes them: the C reader builds
        # a group's columns in one call (per entry, the Python around it cost 1.35x the CPU).
        for group in group_chunks(chunks()):
            batches.extend(b for b in add_chunks(builder, group) if len(b))
    return pa.Table.from_batches(batches, schema=builder.schema)


#: Readers of local archives kept open by each thread, the most recently used last.
_open_readers = threading.local()
_KEPT_READERS = 4


def _forget_readers() -> None:
    """In a forked child (a local process pool): the parent's readers share its file
    offsets with the parent and the other children, so the child opens its own."""
    global _open_readers
    _open_readers = threading.local()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_readers)


@contextlib.contextmanager
def _reader_of(part: Part) -> Iterator[ArchiveReader]:
    """The reader of ``part``'s archive. A local archive's reader stays open in this thread
    for the next part of the same file (a worker reads many): opening one checks its whole
    zip directory, 12 ms of CPU for 2,000 entries, 9% of reading a 64 MiB part (measured).
    It is kept by the file's identity (inode, size, modification time) and limits, so a
    file replaced since is opened anew; a reader that failed is closed."""
    local = _local(part.source)
    try:
        found = os.stat(local) if local is not None else None
    except OSError:
        found = None  # the reader says what is wrong
    if local is None or found is None:
        store = part.storage_options
        with open_reader(part.source, limits=part.limits, storage_options=store) as reader:
            yield reader
        return
    key = (local, part.limits, found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)
    kept: OrderedDict[tuple[Any, ...], ArchiveReader] | None = getattr(_open_readers, "kept", None)
    if kept is None:
        kept = _open_readers.kept = OrderedDict()
    if key in kept:
        reader = kept.pop(key)
    else:
        for stale in [k for k in kept if k[0] == local]:  # the file was replaced
            kept.pop(stale).close()
        reader = ArchiveReader(local, limits=part.limits, allow_empty=True)
    try:
        yield reader
    except BaseException:
        reader.close()
        raise
    kept[key] = reader
    while len(kept) > _KEPT_READERS:
        kept.popitem(last=False)[1].close()


def read_part_to_file(part: Part, folder: str) -> str:
    """:func:`read_part`, written as an Arrow IPC file in ``folder``; its path. Local worker
    processes hand tables over this way: through a pipe, pickling copies them several
    times (5x slower than the reading itself, measured)."""
    import pyarrow as pa

    table = read_part(part)
    path = os.path.join(folder, f"part-{part.number:08d}.arrow")
    temporary = f"{path}.{os.getpid()}.tmp"
    with pa.OSFile(temporary, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    os.replace(temporary, path)
    return path


def iter_part_tables(pool: WorkPool, parts: Sequence[Part], *, scratch: Path) -> Iterator[pa.Table]:
    """The tables of ``parts``, in order, read by ``pool``: a local process pool writes them
    to Arrow files in a folder made under ``scratch`` (removed at the end), which this
    process maps; threads and Dask workers hand them over directly."""
    import pyarrow as pa

    if pool.scheduler != "processes":
        yield from pool.map(read_part, parts)
        return
    folder = tempfile.mkdtemp(prefix=".clarifai-archive-parts-", dir=scratch)
    try:
        for path in pool.map(functools.partial(read_part_to_file, folder=folder), parts):
            with pa.memory_map(path) as source:
                table = pa.ipc.open_file(source).read_all()
            os.unlink(path)
            yield table
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _parser(reader: ArchiveReader, entry: BatchEntry, data: bytes) -> Any:
    return lambda: reader.parse_batch(entry, data).inputs
