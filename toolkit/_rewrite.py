"""Copy inputs from archives into new archives without re-encoding what is unchanged.

Shared by ``merge``, ``subset`` (remove, filter) and ``split``. Each source batch is
parsed once (with the reader's limits), and its wire bytes are kept beside the parsed
message: inputs that are copied unchanged are written as slices of those bytes. A
source batch that fills an output batch on its own is written whole with the CRC-32 it
was checked against on reading (a stored entry: no second pass over its bytes), or as
its compressed bytes, file to file (a deflated entry:
:meth:`~toolkit.archive.ArchiveWriter.copy_entry`). Only inputs that change are
serialized again.

Example::

    with ExitStack() as stack:
        (source,) = open_sources([path], limits=DEFAULT_LIMITS, stack=stack)
        writer = output_writer(out, batch_size=128, flavour="protobuf")
        try:
            sink = BatchSink(writer, 128)
            for batch in iter_batches([source.reader]):
                sink.add_batch(batch)
            sink.flush()
            writer.close()
        except BaseException:
            writer.abort()
            raise
"""

from __future__ import annotations

import functools
import os
import queue
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from ._outputs import check_outputs
from ._wire import frame_offsets
from .archive import ArchiveReader, ArchiveWriter, BatchEntry, encode_batch
from .batches import Batch, iter_batches
from .limits import Limits
from .messages import Input

__all__ = [
    "BackgroundWriter",
    "BatchSink",
    "Destination",
    "Source",
    "SourceBatch",
    "check_not_a_source",
    "frame_offsets",
    "is_stream",
    "iter_source_batches",
    "output_writer",
    "open_destination",
    "open_sources",
]

#: Write protobuf outputs from a second thread (see :class:`BackgroundWriter`); tests turn
#: it off (``monkeypatch.setattr``) to write in the calling thread.
_BACKGROUND_WRITES = True

#: What the public functions accept as an archive: a path or a binary stream.
Stream = IO[bytes]


def is_stream(value: object) -> bool:
    """True for a file object (has ``read`` or ``write``), False for a path."""
    return hasattr(value, "read") or hasattr(value, "write")


@dataclass
class Source:
    """One opened source archive."""

    #: Position among the sources, from 0.
    index: int
    #: How the source is named in reports and messages (its path, or ``<stream N>``).
    name: str
    reader: ArchiveReader
    #: The file on disk (for streams, the temporary copy), used to refuse output == source.
    path: Path
    #: True when the source was given as a stream.
    streamed: bool = False


def open_sources(
    sources: Sequence[str | os.PathLike[str] | Stream],
    *,
    limits: Limits,
    stack: ExitStack,
) -> list[Source]:
    """Open every source (closed when ``stack`` closes); streams are copied to a temporary
    file first, because a zip needs random access."""
    opened: list[Source] = []
    spill_dir: Path | None = None
    for index, source in enumerate(sources):
        if is_stream(source):
            if spill_dir is None:
                spill_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            path = spill_dir / f"source-{index}.zip"
            with open(path, "wb") as out:
                shutil.copyfileobj(cast(Stream, source), out, 1 << 20)
            name = f"<stream {index + 1}>"
            streamed = True
        else:
            path = Path(source)  # type: ignore[arg-type]
            name = str(source)
            streamed = False
        reader = ArchiveReader(path, limits=limits, allow_empty=True)
        stack.callback(reader.close)
        opened.append(Source(index=index, name=name, reader=reader, path=path, streamed=streamed))
    return opened


def check_not_a_source(output: Path, sources: Iterable[Source]) -> None:
    """Refuse an output that is one of the sources (same path, symlink or hard link)."""
    check_outputs(
        {"-o": output},
        [source.path for source in sources if not source.streamed],
        existing_ok={"-o"},
    )


class Destination:
    """Where an output archive goes: a path (written atomically by ``ArchiveWriter``) or a
    stream (written to a temporary file, copied into the stream once complete)."""

    def __init__(self, output: str | os.PathLike[str] | Stream, stack: ExitStack) -> None:
        self.stream: Stream | None = None
        if is_stream(output):
            self.stream = output  # type: ignore[assignment]
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            self.path = folder / "output.zip"
            self.name = "<stream>"
        else:
            self.path = Path(output)  # type: ignore[arg-type]
            self.name = str(output)

    def finish(self) -> None:
        """Hand the finished archive over (a no-op for paths)."""
        if self.stream is None:
            return
        with open(self.path, "rb") as data:
            shutil.copyfileobj(data, self.stream, 1 << 20)
        self.path.unlink()


def open_destination(output: str | os.PathLike[str] | Stream, stack: ExitStack) -> Destination:
    """A :class:`Destination` for ``output``, its temporary files removed with ``stack``."""
    return Destination(output, stack)


# -- reading ------------------------------------------------------------------------


#: One batch of a source (see :mod:`toolkit.batches`).
SourceBatch = Batch


def iter_source_batches(source: Source) -> Iterator[Batch]:
    """``iter_batches([source.reader])``: kept only for ``dedupe.py`` (to go when it calls
    :func:`toolkit.batches.iter_batches` itself, as the other rewriters do)."""
    return iter_batches([source.reader])


# -- writing ------------------------------------------------------------------------


class BackgroundWriter:
    """Hand encoded batches to an :class:`ArchiveWriter` running in a second thread.

    Writing a batch is mostly its CRC (none for a batch written whole) and the ``write``
    calls (or the kernel's copy, for an entry copied whole), which release the GIL, so
    they overlap reading and parsing the next batch. At most ``depth`` batches wait.
    Only for the protobuf flavour; the wrapped writer must not be used directly until
    :meth:`close` or :meth:`abort` returns. An error in the thread is raised by the next
    call.

    Example::

        target = BackgroundWriter(ArchiveWriter(path))
        try:
            target.add_encoded_batch(data, count)
            target.close()
        except BaseException:
            target.abort()
            raise
    """

    def __init__(self, writer: ArchiveWriter, *, depth: int = 2) -> None:
        if writer.flavour != "protobuf":
            raise ValueError("BackgroundWriter writes the protobuf flavour only")
        self.writer = writer
        self.flavour = writer.flavour
        self.batch_size = writer.batch_size
        #: Calls for the writer's thread to make.
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._cancel = False
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="archive-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is not None or self._cancel:
                continue  # drain
            try:
                item()
            except BaseException as exc:  # handed to the caller's thread
                self._error = exc

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def add_encoded_batch(self, data: bytes, count: int, *, crc: int | None = None) -> None:
        """Queue one batch (``count`` inputs as ``InputBatch`` wire bytes, their CRC-32 if
        known: see :meth:`ArchiveWriter.add_encoded_batch`)."""
        self._check()
        if self._stopped:
            raise ValueError("the writer is closed")
        self._queue.put(functools.partial(self.writer.add_encoded_batch, data, count, crc=crc))

    def copy_entry(self, reader: ArchiveReader, entry: BatchEntry, count: int) -> None:
        """Queue one source entry to copy whole (see :meth:`ArchiveWriter.copy_entry`)."""
        self._check()
        if self._stopped:
            raise ValueError("the writer is closed")
        self._queue.put(functools.partial(self.writer.copy_entry, reader, entry, count))

    def _stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._queue.put(None)
            self._thread.join()

    def close(self) -> None:
        """Write what is queued, then finish the archive (moved into place)."""
        self._stop()
        if self._error is not None:
            self.writer.abort()
            raise self._error
        self.writer.close()

    def abort(self) -> None:
        """Drop what is queued and remove the archive being written."""
        self._cancel = True
        self._stop()
        self.writer.abort()


def output_writer(
    path: os.PathLike[str] | str,
    *,
    batch_size: int | None,
    flavour: str,
    split: str = "all",
) -> ArchiveWriter | BackgroundWriter:
    """An :class:`ArchiveWriter` for ``path``; for the protobuf flavour, run from a second
    thread (:class:`BackgroundWriter`). Both have ``close()`` and ``abort()``."""
    writer = ArchiveWriter(
        path,
        batch_size=batch_size or 128,
        flavour=flavour,  # type: ignore[arg-type]
        split=split,
    )
    if writer.flavour == "protobuf" and _BACKGROUND_WRITES:
        return BackgroundWriter(writer)
    return writer


class BatchSink:
    """Gather inputs into batches of ``batch_size`` for an :class:`ArchiveWriter`.

    Unchanged inputs travel as slices of their source batch's bytes; a source batch
    that fills a batch on its own is written as it is (with the source entry's CRC-32,
    or as its compressed bytes, when it is that entry's own bytes). With
    ``batch_size=None`` each source batch (less what is left out) stays one batch. Call
    :meth:`flush` at the end (and where a new batch should start).
    """

    def __init__(self, writer: ArchiveWriter | BackgroundWriter, batch_size: int | None) -> None:
        self.writer: Any = writer
        self.batch_size = batch_size
        self.protobuf = writer.flavour == "protobuf"
        self._chunks: list[Any] = []
        self._count = 0
        #: Inputs handed to the sink so far.
        self.added = 0

    def add_batch(self, source_batch: SourceBatch) -> None:
        """Every input of a source batch."""
        count = len(source_batch)
        if not count:
            return
        if self.protobuf and not self._count and count == (self.batch_size or count):
            entry = source_batch.entry
            if not source_batch.own_bytes:
                self.writer.add_encoded_batch(source_batch.data, count)
            elif entry.compress_type == zipfile.ZIP_STORED:
                # The bytes are in memory already: write them with the CRC-32 checked on
                # reading (no second pass over them to compute it).
                self.writer.add_encoded_batch(source_batch.data, count, crc=entry.crc)
            else:  # copy the compressed bytes, file to file (nothing to compress again)
                self.writer.copy_entry(source_batch.reader, entry, count)
            self.added += count
            return
        self.add_range(source_batch, 0, count)

    def add_range(self, source_batch: SourceBatch, start: int, stop: int) -> None:
        """Inputs ``start`` to ``stop`` (excluded) of a source batch, unchanged."""
        if start >= stop:
            return
        if not self.protobuf:
            self.writer.add_many(source_batch.inputs[start:stop])
            self.added += stop - start
            return
        offsets = source_batch.offsets
        view = memoryview(source_batch.data)
        size = self.batch_size
        while start < stop:
            take = stop - start if size is None else min(stop - start, size - self._count)
            self._chunks.append(view[offsets[start] : offsets[start + take]])
            self._count += take
            self.added += take
            start += take
            if size is not None and self._count >= size:
                self.flush()

    def add_input(self, record: Input) -> None:
        """One input that was changed (serialized here)."""
        self.added += 1
        if not self.protobuf:
            self.writer.add(record)
            return
        self._chunks.append(encode_batch([record.SerializeToString(deterministic=True)]))
        self._count += 1
        if self.batch_size is not None and self._count >= self.batch_size:
            self.flush()

    def end_source_batch(self) -> None:
        """Mark the end of a source batch (a batch boundary with ``batch_size=None``)."""
        if self.batch_size is None:
            self.flush()

    def flush(self) -> None:
        """Write what is gathered as one batch."""
        if not self.protobuf:
            return
        if self._count:
            chunks = self._chunks
            data = bytes(chunks[0]) if len(chunks) == 1 else b"".join(chunks)
            self.writer.add_encoded_batch(data, self._count)
            self._chunks = []
            self._count = 0
