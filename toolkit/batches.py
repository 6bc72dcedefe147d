"""One view of an archive's batches, read once, shared by every command that reads a
whole archive; the per-command checks are steps chained on it; the work per batch can
run in worker processes.

A :class:`Batch` is one batch entry of one source: its wire bytes, the parsed
``InputBatch`` (parsed on first use), its input ids, where each input starts in the
bytes, and what a converter asked to be worked out of it (:attr:`Batch.result`).
:func:`iter_batches` reads them in order. Steps take the batches and give them on:
:func:`refuse_repeated_ids` (an input id twice across the sources is a conflict) and
:func:`require_inputs` (a source with no inputs is refused unless allowed).

Batch entries are independent, so the CPU work on them (parsing, counting, JSON
encoding, vector extraction) can run anywhere. With ``work`` and ``workers > 1``,
:func:`iter_batches` hands RANGES of entries to forked worker processes; each opens the
archive itself, reads and parses its entries, runs ``work`` on each and sends back only
what ``work`` returns (with the ids and counts the steps need); the batches come back
in the archive's order, at most ``2 * workers`` ranges in flight, so memory stays flat.
The caller writes them in one place. With one worker, fewer than 2 usable CPUs or
another thread running (see :func:`can_fork_workers`), everything runs here, with the
same results.

Example::

    batches = iter_batches(readers, work=count_batch, workers=4)
    for batch in require_inputs(refuse_repeated_ids(batches, readers)):
        write(batch.result)
"""

from __future__ import annotations

import collections
import contextlib
import mmap
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from ._malloc import keep_freed_memory
from ._native import scan_batch
from ._wire import frame_offsets
from .archive import ArchiveReader, BatchEntry, encode_batch
from .errors import ArchiveError, ConflictError, EmptyArchiveError, ToolkitError
from .messages import Input, InputBatch
from .unknown import find_unknown_fields

# multiprocessing and the process pool load only where worker processes start (10 ms of
# every command's start otherwise).
if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

__all__ = [
    "MAX_AUTO_WORKERS",
    "PARALLEL_MIN_BYTES",
    "RANGE_BYTES",
    "Batch",
    "BatchWork",
    "Scratch",
    "auto_workers",
    "can_fork_workers",
    "iter_batches",
    "refuse_repeated_ids",
    "require_inputs",
    "usable_cpus",
    "wire_readable",
]

#: Work done on each batch (in a worker process when there are several): its result
#: travels back to the caller as :attr:`Batch.result`, so it should be compact.
BatchWork = Callable[["Batch"], Any]

#: Sources smaller than this (batch bytes in all) are read in this process: there,
#: forking workers would cost about what they save.
PARALLEL_MIN_BYTES = 32 * 1024**2
#: The most worker processes :func:`auto_workers` picks.
MAX_AUTO_WORKERS = 8

#: About this many bytes of batch entries make one range handed to a worker.
RANGE_BYTES = 2 * 1024**2
#: At most this many entries make one range.
RANGE_ENTRIES = 64


class Batch:
    """One batch entry of one source archive, read once.

    ``data`` holds the entry's wire bytes (protobuf flavour) when they were kept; the
    parsed batch is made from them on first use (:attr:`batch`). ``raw`` is set when the
    C reader checked those bytes (``toolkit._native.scan_batch``): a converter with its
    own reader of the wire format may then skip the parse. In the main process of a
    parallel run only the ids, the counts and :attr:`result` come back.
    """

    __slots__ = (
        "_count",
        "_data",
        "_offsets",
        "_parsed",
        "entry",
        "ids",
        "own_bytes",
        "raw",
        "reader",
        "result",
        "scratch",
        "source_index",
        "unknown_fields",
        "unknown_ids",
    )

    def __init__(
        self,
        reader: ArchiveReader,
        source_index: int,
        entry: BatchEntry,
        *,
        data: bytes | None = None,
        parsed: InputBatch | None = None,
        ids: list[str] | None = None,
        raw: bool = False,
        count: int | None = None,
    ) -> None:
        #: The archive it comes from, and its position among the sources (from 0).
        self.reader = reader
        self.source_index = source_index
        self.entry = entry
        self._data = data
        self._parsed = parsed
        self._offsets: list[int] | None = None
        self._count = count
        #: The input ids, in order (None until asked for: :meth:`input_ids`).
        self.ids = ids
        #: The entry's bytes, checked by the C reader, when the batch need not be parsed.
        self.raw: bytes | None = data if raw else None
        #: True while :attr:`data` is the source entry's own bytes (protobuf flavour), so
        #: that the entry can be copied as it is (:meth:`ArchiveWriter.copy_entry`).
        self.own_bytes = data is not None
        #: Ids of inputs with fields the toolkit does not model (when asked for), and
        #: where those fields are: (message type, field number).
        self.unknown_ids: list[str] = []
        self.unknown_fields: set[tuple[str, int]] = set()
        #: What the ``work`` given to :func:`iter_batches` returned for this batch.
        self.result: Any = None
        #: The shared memory of this batch's range (see :class:`Scratch`), in a parallel
        #: run that asked for it; else None.
        self.scratch: Scratch | None = None

    def __repr__(self) -> str:
        return f"<Batch {self.reader.path}:{self.entry.name} inputs={self.count}>"

    @property
    def source(self) -> os.PathLike[str]:
        """The source archive's path (named in messages)."""
        return self.reader.path

    @property
    def batch(self) -> InputBatch:
        """The parsed batch (parsed here on first use, within the reader's limits; read
        again from the archive when a worker process had its bytes)."""
        if self._parsed is None:
            data = self._data
            if data is None:
                data = self.reader.read_batch_bytes(self.entry)
            self._parsed = self.reader.parse_batch(self.entry, data)
        return self._parsed

    @property
    def inputs(self) -> Sequence[Input]:
        """The parsed inputs."""
        return self.batch.inputs

    @property
    def count(self) -> int:
        """How many inputs the batch holds."""
        if self._count is None:
            self._count = len(self.ids) if self.ids is not None else len(self.batch.inputs)
        return self._count

    @count.setter
    def count(self, value: int) -> None:
        # Set by a work that read the inputs from the wire bytes (it knows how many).
        self._count = value

    def __len__(self) -> int:
        return self.count

    @property
    def unparsed(self) -> bytes | None:
        """The wire bytes of a batch read with ``lazy`` (:func:`read_batch`) and not yet
        parsed, for a work that reads them itself; None once parsed, or for JSON."""
        return self._data if self._parsed is None and self.own_bytes else None

    def input_ids(self) -> list[str]:
        """The input ids, in order."""
        if self.ids is None:
            self.ids = [record.id for record in self.batch.inputs]
        return self.ids

    @property
    def data(self) -> bytes:
        """The batch's protobuf wire bytes (made from the parsed inputs for JSON sources)."""
        if self._data is None:
            self._data = encode_batch(
                record.SerializeToString(deterministic=True) for record in self.batch.inputs
            )
        return self._data

    @property
    def offsets(self) -> list[int]:
        """Start of each input's frame in :attr:`data`, plus the end."""
        if self._offsets is None:
            offsets = frame_offsets(self.data)
            if offsets is None or len(offsets) != self.count + 1:
                # Unknown fields beside the inputs: re-encode the inputs alone.
                self.batch  # noqa: B018 - parse before the bytes go
                self._data = None
                self.own_bytes = False
                offsets = frame_offsets(self.data)
                assert offsets is not None
            self._offsets = offsets
        return self._offsets


# -- reading ------------------------------------------------------------------------


def read_batch(
    reader: ArchiveReader,
    source_index: int,
    entry: BatchEntry,
    *,
    scan: bool = False,
    check_unknown: bool = False,
    lazy: bool = False,
) -> Batch:
    """Read one entry: parsed, or (``scan``: for a converter that reads the wire bytes
    itself) checked by the C reader and parsed only when asked, or (``lazy``) kept as
    bytes for a work that reads them itself (:attr:`Batch.unparsed`; parsed on first use
    otherwise). Both only where the C reader can read the entry
    (:func:`wire_readable`). ``check_unknown`` finds the inputs with fields the toolkit
    does not model."""
    protobuf = reader.flavour == "protobuf"
    data = reader.read_batch_bytes(entry)
    if (scan or lazy) and not check_unknown and wire_readable(reader):
        if lazy:
            return Batch(reader, source_index, entry, data=data)
        ids = scan_batch(data)
        if ids is not None:
            return Batch(reader, source_index, entry, data=data, ids=ids, raw=True)
    parsed = reader.parse_batch(entry, data)
    batch = Batch(reader, source_index, entry, data=data if protobuf else None, parsed=parsed)
    if check_unknown and protobuf and entry.size:
        # Cheap test per batch (the entry's size is that of its wire bytes); the inputs
        # themselves are looked at only when it fires.
        parsed.DiscardUnknownFields()
        if parsed.ByteSize() != entry.size:
            for record in reader.parse_batch(entry, data).inputs:
                found = find_unknown_fields(record)
                if found:
                    batch.unknown_ids.append(record.id)
                    batch.unknown_fields |= found
    return batch


def wire_readable(reader: ArchiveReader) -> bool:
    """True when the C reader may read this reader's batch entries: protobuf flavour and
    a metadata limit of 8 or more. (It stops at 16 levels of nesting, metadata 5 deep:
    a lower limit is left to the parse, which checks it.)"""
    return reader.flavour == "protobuf" and reader.limits.max_metadata_depth >= 8


def iter_batches(
    readers: Sequence[ArchiveReader],
    *,
    scan: bool = False,
    check_unknown: bool = False,
    lazy: bool = False,
    work: BatchWork | None = None,
    workers: int = 1,
    ids: bool = True,
    task: str = "reading",
    scratch: int = 0,
) -> Iterator[Batch]:
    """Every batch of every source, in order (see :func:`read_batch` for ``scan``,
    ``check_unknown`` and ``lazy``).

    ``work`` is run on each batch, its return value kept as :attr:`Batch.result`. With
    ``workers > 1`` it runs in forked worker processes over ranges of entries (see the
    module's docstring); the batches then carry their ids (unless ``ids`` is False),
    counts, unknown fields and result, not their bytes. ``task`` words what the workers
    do, for the error when one of them dies. ``scratch`` (bytes) gives each range of a
    parallel run that much memory shared with the workers (:attr:`Batch.scratch`): a
    worker writes big results there instead of sending them back through a pipe.
    """
    if work is not None and workers > 1 and usable_cpus() >= 2 and can_fork_workers():
        job = _Job(readers, work, scan, check_unknown, ids, lazy)
        yield from _ParallelRun(readers, job, workers, task, scratch)
        return
    for index, reader in enumerate(readers):
        for entry in reader.entries:
            batch = read_batch(
                reader, index, entry, scan=scan, check_unknown=check_unknown, lazy=lazy
            )
            if work is not None:
                batch.result = work(batch)
            yield batch


def refuse_repeated_ids(
    batches: Iterable[Batch], readers: Sequence[ArchiveReader]
) -> Iterator[Batch]:
    """Step: refuse an input id seen twice (in one source, or in two). Memory holds the
    set of ids seen so far."""
    owner: dict[str, int] = {}
    for batch in batches:
        ids = batch.input_ids()
        index = batch.source_index
        fresh = dict.fromkeys(ids, index)
        if len(fresh) != len(ids) or not owner.keys().isdisjoint(fresh):
            _refuse_repeated(readers, owner, ids, index, batch.entry)
        owner.update(fresh)
        yield batch


def require_inputs(batches: Iterable[Batch]) -> Iterator[Batch]:
    """Step: refuse a source with no inputs (after its last batch), unless its reader
    allows empty archives."""
    current: ArchiveReader | None = None
    seen_any = True
    for batch in batches:
        if batch.reader is not current:
            _check_seen(current, seen_any)
            current, seen_any = batch.reader, False
        seen_any = seen_any or batch.count > 0
        yield batch
    _check_seen(current, seen_any)


def _check_seen(reader: ArchiveReader | None, seen_any: bool) -> None:
    if reader is not None and not seen_any and not reader.allow_empty:
        raise EmptyArchiveError(
            f"{reader.path}: the archive holds no inputs; nothing was written (pass "
            "allow_empty=True to write an empty output)",
            params=["allow_empty=True"],
        )


def _refuse_repeated(
    readers: Sequence[ArchiveReader],
    owner: dict[str, int],
    ids: list[str],
    index: int,
    entry: BatchEntry,
) -> None:
    """Raise the conflict for the first of ``ids`` seen before (in ``owner``, the ids of
    the batches before, or earlier in ``ids``)."""
    for input_id in ids:
        if input_id in owner:
            raise _conflict(readers, owner[input_id], index, input_id, entry)
        owner[input_id] = index


def _conflict(
    readers: Sequence[ArchiveReader], first: int, second: int, input_id: str, entry: BatchEntry
) -> ConflictError:
    if first == second:
        return ConflictError(
            f"{readers[second].path}: input id {input_id!r} appears twice (again in entry "
            f"{entry.name!r}); an output cannot hold two inputs with one id. Keep one with "
            "'clarifai-archive merge', which decides what to do with repeated ids"
        )
    return ConflictError(
        f"input id {input_id!r} is in both {readers[first].path} and {readers[second].path}; "
        "convert does not merge. Combine them first with 'clarifai-archive merge', which "
        "decides what to keep, then convert the merged archive"
    )


# -- worker processes ---------------------------------------------------------------


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def auto_workers(total_batch_bytes: int) -> int:
    """Worker processes for sources of this size: one per usable CPU (up to
    :data:`MAX_AUTO_WORKERS`) when big, else 1."""
    if total_batch_bytes < PARALLEL_MIN_BYTES:
        return 1
    return max(1, min(MAX_AUTO_WORKERS, usable_cpus()))


def can_fork_workers() -> bool:
    """True where worker processes can be forked safely: Linux, no other thread running,
    and not inside a daemonic process.

    A fork copies one thread only; another thread's locks would stay held in the copy.
    forkserver and spawn would run the caller's ``__main__`` again in each worker, which
    a library cannot ask of every script and notebook. So: fork, or no workers. A
    daemonic process (a ``multiprocessing.Pool`` worker, a Dask worker) may not have
    children at all (found by the long fuzz, which runs commands in a pool's workers).
    """
    import multiprocessing

    return (
        sys.platform.startswith("linux")
        and threading.active_count() == 1
        and not multiprocessing.current_process().daemon
    )


_STOP_SIGNALS = frozenset(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def _worker_init() -> None:
    # The worker is a fork of the main process and has its signal handlers. Ctrl-C reaches
    # the whole process group: the main process decides what happens (it stops the pool),
    # so workers ignore it; SIGTERM and SIGHUP just end them, without the main process's
    # clean-up of its outputs.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in _STOP_SIGNALS - {signal.SIGINT}:
        signal.signal(signum, signal.SIG_DFL)
    # Keep freed memory for the next batch rather than fault it in again (toolkit/_malloc.py).
    keep_freed_memory()


@contextlib.contextmanager
def stop_signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back while workers are forked; they are raised right after.

    A handler that raises (as the CLI's does) while ``fork`` runs its after-fork
    callbacks has its exception printed and lost, and the command would go on. Any
    thread may receive the signal (numpy's BLAS threads too), so it is the Python
    handler that waits here, not the signal.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # pragma: no cover - handlers can only be set in the main thread
        return
    caught: list[int] = []
    previous = {}
    for signum in _STOP_SIGNALS:
        handler = signal.getsignal(signum)
        if handler is not None:
            previous[signum] = handler
            signal.signal(signum, lambda n, _frame: caught.append(n))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(caught):
            signal.raise_signal(signum)


class Scratch:
    """The memory one range of entries shares with the worker that reads it: the worker
    takes room in it for its results (:meth:`take`) and sends back only where they lie;
    the main process reads them there (:meth:`get`) before the range's memory is used
    again, :func:`iter_batches` having moved on by ``2 * workers + 1`` ranges."""

    __slots__ = ("used", "view")

    def __init__(self, view: memoryview) -> None:
        self.view = view
        self.used = 0

    def take(self, size: int) -> tuple[int, memoryview] | None:
        """``(offset, room)``: ``size`` bytes of room, or None when the range's memory is
        full (the result then goes back through the pipe)."""
        start = self.used
        if start + size > len(self.view):
            return None
        self.used = start + size
        return start, self.view[start : start + size]

    def get(self, offset: int, size: int) -> memoryview:
        """The ``size`` bytes a worker wrote at ``offset``."""
        return self.view[offset : offset + size]


#: What a forked worker works on: set in the main process just before the fork (the
#: workers inherit it, so ``work`` may be any callable, a closure too).
_JOB: _Job | None = None
#: The worker's own readers, one per source, opened on first use.
_OPENED: dict[int, ArchiveReader] = {}


class _Job:
    def __init__(
        self,
        readers: Sequence[ArchiveReader],
        work: BatchWork,
        scan: bool,
        check_unknown: bool,
        ids: bool,
        lazy: bool = False,
    ) -> None:
        self.sources = [(r.path, r.limits, r.entries) for r in readers]
        self.work = work
        self.scan = scan
        self.check_unknown = check_unknown
        self.ids = ids
        self.lazy = lazy
        #: Memory shared with the workers (anonymous, mapped before the fork), cut into
        #: one slot per range in flight; None when not asked for.
        self.shared: mmap.mmap | None = None
        self.slot_bytes = 0

    def slot(self, number: int) -> Scratch | None:
        """The scratch memory of slot ``number``, or None."""
        if self.shared is None:
            return None
        start = number * self.slot_bytes
        return Scratch(memoryview(self.shared)[start : start + self.slot_bytes])


#: What a worker sends back for one batch: count, ids, unknown ids and fields, result.
_Outcome = tuple[int, "list[str] | None", list[str], "set[tuple[str, int]]", Any]


def _worker_reader(source_index: int) -> ArchiveReader:
    """This worker's own reader of a source (its own file handle), checked to list the
    same entries as the main process's."""
    reader = _OPENED.get(source_index)
    if reader is None:
        assert _JOB is not None
        path, limits, entries = _JOB.sources[source_index]
        reader = ArchiveReader(path, limits=limits, allow_empty=True)
        if reader.entries != entries:
            reader.close()
            raise ArchiveError(f"{path}: the archive changed while it was being read")
        _OPENED[source_index] = reader
    return reader


def _run_range(
    source_index: int, start: int, stop: int, slot: int = 0
) -> tuple[list[_Outcome], Exception | None]:
    """Worker side: read entries ``start`` to ``stop`` of a source and work on each
    (with the shared memory of ``slot``, when there is some). An error stops the range:
    the batches before it come back with it."""
    job = _JOB
    assert job is not None
    out: list[_Outcome] = []
    try:
        reader = _worker_reader(source_index)
        scratch = job.slot(slot)
        for entry in reader.entries[start:stop]:
            batch = read_batch(
                reader,
                source_index,
                entry,
                scan=job.scan,
                check_unknown=job.check_unknown,
                lazy=job.lazy,
            )
            batch.scratch = scratch
            result = job.work(batch)
            ids = batch.input_ids() if job.ids else None
            out.append((batch.count, ids, batch.unknown_ids, batch.unknown_fields, result))
    except Exception as exc:  # raised in the main process, after the batches before it
        return out, exc
    return out, None


def _ranges(readers: Sequence[ArchiveReader]) -> Iterator[tuple[int, int, int]]:
    """``(source, start, stop)`` ranges of entries, about :data:`RANGE_BYTES` each."""
    for index, reader in enumerate(readers):
        entries = reader.entries
        start = 0
        while start < len(entries):
            stop, size = start, 0
            while stop < len(entries) and stop - start < RANGE_ENTRIES and size < RANGE_BYTES:
                size += entries[stop].size
                stop += 1
            yield index, start, stop
            start = stop


class _ParallelRun:
    """Iterate the batches of a parallel run (see :func:`iter_batches`)."""

    def __init__(
        self,
        readers: Sequence[ArchiveReader],
        job: _Job,
        workers: int,
        task: str,
        scratch: int = 0,
    ) -> None:
        self.readers = readers
        self.job = job
        self.workers = workers
        self.task = task
        self.scratch = scratch

    def __iter__(self) -> Iterator[Batch]:
        global _JOB
        pending: collections.deque[
            tuple[int, int, int, Future[tuple[list[_Outcome], Exception | None]]]
        ] = collections.deque()
        ranges = _ranges(self.readers)
        pool: ProcessPoolExecutor | None = None
        # Ranges alive at once: 2 * workers in flight and the one being handed out, so a
        # slot of shared memory is used again only once its range is done with.
        slots = 2 * self.workers + 1
        if self.scratch > 0:
            self.job.shared = mmap.mmap(-1, self.scratch * slots)
            self.job.slot_bytes = self.scratch
        try:
            for number, (source_index, start, stop) in enumerate(ranges):
                slot = number % slots
                if pool is None:
                    with stop_signals_deferred():
                        _JOB = self.job
                        try:
                            # With a fork context, the pool forks every worker at the
                            # first submit, before it starts its own thread.
                            import multiprocessing
                            from concurrent.futures import ProcessPoolExecutor

                            pool = ProcessPoolExecutor(
                                max_workers=self.workers,
                                mp_context=multiprocessing.get_context("fork"),
                                initializer=_worker_init,
                            )
                            future = pool.submit(_run_range, source_index, start, stop, slot)
                        finally:
                            _JOB = None
                else:
                    future = pool.submit(_run_range, source_index, start, stop, slot)
                pending.append((source_index, start, slot, future))
                while len(pending) > 2 * self.workers:
                    yield from self._collect(*pending.popleft())
            while pending:
                yield from self._collect(*pending.popleft())
        finally:
            pending.clear()
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def _collect(
        self,
        source_index: int,
        start: int,
        slot: int,
        future: Future[tuple[list[_Outcome], Exception | None]],
    ) -> Iterator[Batch]:
        from concurrent.futures.process import BrokenProcessPool

        try:
            outcomes, error = future.result()
        except BrokenProcessPool:
            raise ToolkitError(
                f"a worker process stopped while {self.task} (killed, or out of memory?); "
                "run again, with workers=1 to work in one process",
                params=["workers=1"],
            ) from None
        reader = self.readers[source_index]
        scratch = self.job.slot(slot)
        for offset, (count, ids, unknown_ids, unknown_fields, result) in enumerate(outcomes):
            batch = Batch(
                reader, source_index, reader.entries[start + offset], ids=ids, count=count
            )
            batch.unknown_ids = unknown_ids
            batch.unknown_fields = unknown_fields
            batch.result = result
            batch.scratch = scratch
            yield batch
        if error is not None:
            raise error
