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

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from ..convert import FORMATS, ConvertReport
from ..errors import ConflictError, EmptyArchiveError
from ..limits import DEFAULT_LIMITS, Limits
from .parts import Part, is_url, iter_part_tables, plan_parts, resolve_source
from .pool import LOCAL_SCHEDULERS, WorkPool, check_scheduler

__all__ = ["LOCAL_SCHEDULERS", "check_scheduler", "convert_to_parquet"]


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
    pool = WorkPool(scheduler, workers)
    writer = ParquetFolderWriter(out, plan.schema, rows_per_file=rows_per_file)
    try:
        tables = iter_part_tables(pool, plan.parts, scratch=out.absolute().parent)
        for part, table in zip(plan.parts, tables, strict=True):
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
                        "allow_empty=True to write an empty output)",
                        params=["allow_empty=True"],
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
