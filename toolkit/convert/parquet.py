"""``--to parquet``: a folder of Parquet files, one row per input (see toolkit.tabular).

The converter imports pyarrow only when a conversion starts, so that the command line
(which lists every format) starts without it.
"""

from __future__ import annotations

from typing import ClassVar

from ._base import BatchWork, ConvertJob, OutputKind, SourceBatch
from ._counts import ConvertCounts

__all__ = ["ParquetConverter"]


class ParquetConverter:
    """One Parquet row per input, files of about ``job.options.rows_per_file`` rows (see
    :class:`toolkit.convert._parquet_impl.ParquetConversion`, which does the work)."""

    name: ClassVar[str] = "parquet"
    summary: ClassVar[str] = "a folder of Parquet files, one row per input (pandas, DuckDB...)"
    output_kind: ClassVar[OutputKind] = "folder"
    supports_media: ClassVar[bool] = True
    supports_stdout: ClassVar[bool] = False
    check_unknown: ClassVar[bool] = False
    batch_work: BatchWork | None = None
    batch_scratch: int = 0
    #: The batches come as wire bytes (parsed on first use): the C reader builds most
    #: columns from them.
    reads_raw: bool = True

    def __init__(self, job: ConvertJob) -> None:
        from ._parquet_impl import ParquetConversion

        self._work = ParquetConversion(job)

    def write_batch(self, batch: SourceBatch) -> None:
        self._work.write_batch(batch)

    def finish(self) -> ConvertCounts:
        return self._work.finish()

    def commit(self) -> None:
        self._work.commit()

    def abort(self) -> None:
        self._work.abort()
