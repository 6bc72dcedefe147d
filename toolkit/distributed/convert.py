"""``convert --to parquet --scheduler``: the parts read by a pool or a Dask cluster, written
here as one Parquet dataset.

Workers build the Arrow tables (parsing, the costly part); this process receives them in
row order (archive, then entry), a few parts ahead at most, refuses repeated input ids,
and writes the files with the same writer as the single-process conversion, so the
output is the same files holding the same rows. A part is a pure function of (archive,
entry range): a part run twice (a worker lost and its task run again) gives the same
table, and only the first copy is kept.

Example::

    report = convert_to_parquet(["a.zip", "b.zip"], "table", scheduler="tcp://10.0.0.5:8786")
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..convert import FORMATS, ConvertReport
from ..errors import ConflictError, EmptyArchiveError
from ..limits import DEFAULT_LIMITS, Limits
from .parts import Part, is_url, plan_parts, read_part, resolve_source

__all__ = ["LOCAL_SCHEDULERS", "check_scheduler", "convert_to_parquet"]

#: Schedulers that need no cluster; anything else is a Dask scheduler address.
LOCAL_SCHEDULERS = ("processes", "threads")


def check_scheduler(scheduler: str) -> str:
    """``scheduler`` when it is ``processes``, ``threads`` or a ``tcp://HOST:PORT`` (or
    ``tls://``) address; else a ValueError saying what to give."""
    if scheduler in LOCAL_SCHEDULERS:
        return scheduler
    scheme, _, rest = scheduler.partition("://")
    host, _, port = rest.rpartition(":")
    if scheme in ("tcp", "tls") and host and port.isdigit():
        return scheduler
    raise ValueError(
        f"scheduler {scheduler!r}: give processes, threads or a Dask scheduler's address "
        "such as tcp://10.0.0.5:8786"
    )


class _Pool:
    """Submits parts and hands back their tables in plan order, ``window`` ahead at most."""

    def __init__(self, scheduler: str, workers: int | None) -> None:
        self.scheduler = scheduler
        self._executor: Executor | None = None
        self._client: Any = None
        if scheduler == "threads":
            self.width = workers or (os.cpu_count() or 1)
            self._executor = ThreadPoolExecutor(self.width)
        elif scheduler == "processes":
            self.width = workers or (os.cpu_count() or 1)
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            self._executor = ProcessPoolExecutor(
                self.width, mp_context=multiprocessing.get_context(method)
            )
        else:
            try:
                from distributed import Client
            except ImportError:
                raise ValueError(
                    "a Dask scheduler address needs the dask extra: "
                    "pip install 'clarifai-archive-toolkit[dask]'"
                ) from None
            try:
                self._client = Client(scheduler, timeout="20s", set_as_default=False)
            except OSError as exc:
                raise ValueError(
                    f"scheduler {scheduler}: cannot connect ({exc}); is the Dask scheduler "
                    "running there?"
                ) from None
            found = len(self._client.scheduler_info().get("workers", {}))
            self.width = workers or max(found, 1)

    def _submit(self, part: Part) -> Any:
        if self._client is not None:
            # The key names the part and nothing else: the same task, retried, is the same.
            key = f"clarifai-archive-part-{part.number:08d}-{id(self):x}"
            return self._client.submit(read_part, part, key=key, pure=False)
        assert self._executor is not None
        return self._executor.submit(read_part, part)

    def tables(self, parts: Sequence[Part]) -> Iterator[tuple[Part, Any]]:
        """``(part, table)`` for each part, in order."""
        window = 2 * self.width
        pending: deque[tuple[Part, Any]] = deque()
        todo = iter(parts)
        try:
            for part in todo:
                pending.append((part, self._submit(part)))
                if len(pending) >= window:
                    break
            while pending:
                part, future = pending.popleft()
                table = future.result()
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append((nxt, self._submit(nxt)))
                yield part, table
        finally:
            for _, future in pending:
                future.cancel()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        if self._client is not None:
            self._client.close()


def convert_to_parquet(
    sources: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    scheduler: str = "processes",
    workers: int | None = None,
    rows_per_file: int = 100_000,
    embedding: int = 0,
    metadata_columns: Sequence[str] = (),
    allow_empty: bool = False,
    force: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    part_bytes: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ConvertReport:
    """What ``convert_archives(sources, output, to="parquet")`` writes, with the archives
    read by ``scheduler``: ``processes`` (a local pool of ``workers`` processes, one per CPU
    by default), ``threads`` or a Dask scheduler's address (``tcp://HOST:PORT``; its
    workers must reach the archives: a shared folder, or fsspec URLs such as ``s3://``).

    The folder holds the same files and rows as the single-process conversion. ``progress``
    is called with the batch entries of each part written.

    Example::

        convert_to_parquet(["a.zip", "b.zip"], "table", scheduler="processes", workers=4)
    """
    from ..convert import _check_output
    from ..tabular.parquet import ParquetFolderWriter
    from ..tabular.rows import RowOptions
    from .parts import DEFAULT_PART_BYTES

    check_scheduler(scheduler)
    if rows_per_file < 1 or embedding < 0:
        raise ValueError("rows_per_file must be at least 1 and embedding 0 or more")
    if not sources:
        raise ValueError("give at least one source archive")
    out = Path(output)
    local = [Path(os.fspath(s)) for s in sources if not is_url(os.fspath(s))]
    _check_output(FORMATS["parquet"], out, local, force)
    options = RowOptions(embedding=embedding, metadata_columns=tuple(metadata_columns))
    resolved = [resolve_source(s) for s in sources]
    plan = plan_parts(resolved, options, part_bytes=part_bytes or DEFAULT_PART_BYTES, limits=limits)
    owner: dict[str, int] = {}
    rows_by_source = [0] * len(resolved)
    entries = 0
    pool = _Pool(scheduler, workers)
    writer = ParquetFolderWriter(out, plan.schema, rows_per_file=rows_per_file)
    try:
        for part, table in pool.tables(plan.parts):
            ids = table.column("id").to_pylist()
            fresh = dict.fromkeys(ids, part.archive)
            if len(fresh) != len(ids) or not owner.keys().isdisjoint(fresh):
                raise _repeated(owner, ids, part, resolved)
            owner.update(fresh)
            rows_by_source[part.archive] += len(ids)
            for batch in table.to_batches():
                writer.write(batch)
            entries += part.stop - part.first
            if progress is not None:
                progress(part.stop - part.first)
        if not allow_empty:
            for source, rows in zip(resolved, rows_by_source, strict=True):
                if not rows:
                    raise EmptyArchiveError(
                        f"{source}: the archive holds no inputs; nothing was written (pass "
                        "--allow-empty to write an empty output)"
                    )
        writer.close()
    except BaseException:
        writer.abort()
        raise
    finally:
        pool.close()
    return ConvertReport(
        format="parquet",
        output=str(out),
        sources=tuple(os.fspath(s) for s in sources),
        inputs=writer.rows,
        batches=entries,
        written=writer.rows,
        files=writer.files,
    )


def _repeated(
    owner: dict[str, int], ids: list[str], part: Part, sources: Sequence[str]
) -> ConflictError:
    """The error for the first of ``ids`` seen before (in an earlier part or this one)."""
    seen: dict[str, int] = {}
    for input_id in ids:
        first = owner.get(input_id, seen.get(input_id))
        if first is None:
            seen[input_id] = part.archive
            continue
        if first == part.archive:
            return ConflictError(
                f"{part.source}: input id {input_id!r} appears twice; an output cannot hold "
                "two inputs with one id. Keep one with 'clarifai-archive merge', which "
                "decides what to do with repeated ids"
            )
        return ConflictError(
            f"input id {input_id!r} is in both {sources[first]} and {part.source}; convert "
            "does not merge. Combine them first with 'clarifai-archive merge', which decides "
            "what to keep, then convert the merged archive"
        )
    raise AssertionError("no repeated id")  # pragma: no cover
