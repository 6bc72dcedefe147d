"""Encode batches as JSON in other processes, in order: the CPU work of ``--to json|jsonl``.

Writing protobuf's JSON mapping costs about 40 us an input with 512-d embeddings, all of
it CPU. With several cores, :class:`JsonEncoder` hands each batch (its wire bytes) to a
pool of worker processes (forks of this one) and gives the results back in the batches'
order; at most ``2 * workers`` batches are in flight, so memory stays flat. With one
worker, or where workers cannot be forked safely, it encodes in this process. The output
is the same bytes either way.

Example::

    with contextlib.closing(JsonEncoder(workers=2)) as encoder:
        for batch in batches:
            for items in encoder.submit(batch, where="a.zip"):
                write(items)
        for items in encoder.drain():
            write(items)
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import orjson

from ..errors import SchemaError, ToolkitError
from ..jsonmap import (
    _OPTIONS,
    NulledNumbers,
    _dump,
    _json_objects,
    bad_numbers_as_null,
    current_nulls,
)
from ..messages import Input, InputBatch

__all__ = [
    "PARALLEL_MIN_BYTES",
    "JsonEncoder",
    "auto_workers",
    "can_fork_workers",
    "encode_inputs",
    "usable_cpus",
]

#: Sources smaller than this (batch bytes in all) are converted in this process: there,
#: forking workers and handing batches over would cost about what they save.
PARALLEL_MIN_BYTES = 32 * 1024**2
#: The most worker processes ``auto_workers`` picks.
MAX_AUTO_WORKERS = 4


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def auto_workers(total_batch_bytes: int) -> int:
    """Worker processes for sources of this size: one per usable CPU (up to 4) when big."""
    if total_batch_bytes < PARALLEL_MIN_BYTES:
        return 1
    return max(1, min(MAX_AUTO_WORKERS, usable_cpus()))


def encode_inputs(records: Sequence[Input]) -> list[bytes]:
    """Each input as one compact JSON object (protobuf's JSON mapping, proto field names)."""
    objects = _json_objects(records)
    try:
        return [orjson.dumps(obj, option=_OPTIONS) for obj in objects]
    except orjson.JSONEncodeError:
        for record, obj in zip(records, objects, strict=True):
            _dump(obj, f"input {record.id!r}")  # raises the SchemaError naming the input
        raise


def _encode_wire(data: bytes, null_numbers: bool) -> tuple[list[bytes], NulledNumbers | None]:
    """Worker side: one batch's wire bytes in, its inputs as JSON out, with the tally of
    metadata numbers written as null (``null_numbers``)."""
    with bad_numbers_as_null(null_numbers) as nulled:
        lines = encode_inputs(InputBatch.FromString(data).inputs)
    return lines, nulled


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


@contextlib.contextmanager
def _stop_signals_deferred() -> Iterator[None]:
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


def can_fork_workers() -> bool:
    """True where worker processes can be forked safely: Linux, no other thread running.

    A fork copies one thread only; another thread's locks would stay held in the copy.
    forkserver and spawn would run the caller's ``__main__`` again in each worker, which
    a library cannot ask of every script and notebook. So: fork, or no workers.
    """
    return sys.platform.startswith("linux") and threading.active_count() == 1


class JsonEncoder:
    """Batches in, their inputs as JSON out (one ``list[bytes]`` a batch), in order."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._pending: collections.deque[
            tuple[str, Future[tuple[list[bytes], NulledNumbers | None]]]
        ] = collections.deque()

    def __repr__(self) -> str:
        return f"<JsonEncoder workers={self.workers} in flight={len(self._pending)}>"

    @property
    def parallel(self) -> bool:
        """Whether the batches go to worker processes (decided at the first batch)."""
        return self._pool is not None

    def submit(self, batch: InputBatch, where: str) -> Iterator[list[bytes]]:
        """Queue ``batch`` (from ``where``, named in errors); yield the results that are
        due, oldest first."""
        if self.workers > 1 and self._pool is None and not can_fork_workers():
            self.workers = 1
        if self.workers == 1:
            try:
                yield encode_inputs(batch.inputs)
            except SchemaError as exc:
                raise SchemaError(f"{where}: {exc}", params=exc.params) from None
            return
        data = batch.SerializeToString()
        # Workers write bad numbers as null when this process does (bad_numbers_as_null).
        null_numbers = current_nulls() is not None
        if self._pool is None:
            with _stop_signals_deferred():
                # With a fork context, the pool forks every worker at the first submit,
                # before it starts its own thread.
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("fork"),
                    initializer=_worker_init,
                )
                future = self._pool.submit(_encode_wire, data, null_numbers)
        else:
            future = self._pool.submit(_encode_wire, data, null_numbers)
        self._pending.append((where, future))
        while len(self._pending) > 2 * self.workers:
            yield self._next()

    def drain(self) -> Iterator[list[bytes]]:
        """Yield every result still in flight, in order."""
        while self._pending:
            yield self._next()

    def _next(self) -> list[bytes]:
        where, future = self._pending.popleft()
        try:
            lines, tally = future.result()
        except SchemaError as exc:
            raise SchemaError(f"{where}: {exc}", params=exc.params) from None
        except BrokenProcessPool:
            raise ToolkitError(
                "a worker process stopped while converting (killed, or out of memory?); "
                "run again, with workers=1 to convert in one process",
                params=["workers=1"],
            ) from None
        nulled = current_nulls()
        if nulled is not None and tally is not None:
            nulled.add(tally)
        return lines

    def close(self) -> None:
        """Stop the workers; batches still queued are dropped."""
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
