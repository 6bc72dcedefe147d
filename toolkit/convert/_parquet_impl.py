"""The work of ``--to parquet`` (pyarrow loads only when a conversion starts)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pyarrow as pa

from .._atomic import temp_sibling
from ..archive import ArchiveReader
from ..errors import OutputError
from ..media import MediaReport, MediaSink
from ..messages import Input
from ..tabular.parquet import ParquetFolderWriter
from ..tabular.rows import LazyRecords, RowOptions, RowsBuilder
from ..tabular.stream import (
    DEFAULT_HOLD_BYTES,
    GROUP_BYTES,
    GROUP_ENTRIES,
    find_embedding_dim,
    where_of,
)
from ._base import ConvertJob, SourceBatch
from ._counts import ConvertCounts
from ._options import media_sink_extras

__all__ = ["ParquetConversion"]


def _inputs_of(batch: SourceBatch) -> Callable[[], Sequence[Input]]:
    """Parses ``batch`` when called."""
    return lambda: batch.batch.inputs


class ParquetConversion:
    """Writes one Parquet row per input, a row group per few batch entries, files of
    about ``job.options.rows_per_file`` rows; the folder appears when complete."""

    def __init__(self, job: ConvertJob) -> None:
        self.job = job
        self.options = RowOptions(
            embedding=job.options.embedding,
            metadata_columns=tuple(job.options.metadata_columns),
            media=job.options.media != "none",
        )
        self._builder = RowsBuilder(self.options)
        self._writer: ParquetFolderWriter | None = None
        self._media_report: MediaReport | None = None
        self._scratch: Path | None = None
        self._group: list[SourceBatch] = []
        self._group_bytes = 0

    # -- media ------------------------------------------------------------------------

    def _download(self, batch: SourceBatch) -> dict[str, bytes | None]:
        """The media of the batch's inputs, fetched into a scratch folder and read back."""
        job = self.job
        if self._scratch is None:
            self._scratch = temp_sibling(job.output_path.with_name(job.output_path.name + "-media"))
        sink = MediaSink(
            self._scratch,
            mode="download",
            jobs=job.options.jobs,
            timeout=job.options.timeout,
            retries=job.options.retries,
            pat=job.options.pat,
            on_done=job.media_progress,
            limits=job.options.limits,
            **media_sink_extras(),
        )
        names: dict[str, str | None] = {}
        with sink:
            for record in batch.batch.inputs:
                names[record.id] = sink.submit(record)
            report = sink.close()
        self._media_report = (
            report if self._media_report is None else self._media_report.combined(report)
        )
        out: dict[str, bytes | None] = {}
        for input_id, name in names.items():
            name = report.renamed.get(input_id, name)
            if name is None or input_id in report.failed:
                out[input_id] = None
                continue
            path = self._scratch / name
            try:
                out[input_id] = path.read_bytes()
                path.unlink()
            except OSError as exc:
                raise OutputError(f"{path}: cannot read the media back ({exc})") from None
        return out

    # -- the protocol -----------------------------------------------------------------

    def write_batch(self, batch: SourceBatch) -> None:
        if not batch.count:
            return
        if batch.raw is not None and self.job.options.media != "download":
            # Gathered: the C reader builds the columns of several entries in one go.
            self._group.append(batch)
            self._group_bytes += len(batch.raw)
            if len(self._group) >= GROUP_ENTRIES or self._group_bytes > GROUP_BYTES:
                self._flush_group()
            return
        self._flush_group()
        records: Sequence[Input] = batch.batch.inputs
        media = self._download(batch) if self.job.options.media == "download" else None
        ready = self._builder.add(
            records, where=where_of(batch.reader, batch.entry), media=media, raw=batch.raw
        )
        self._write_ready(ready, batch)

    def _flush_group(self) -> None:
        """Add the gathered batches (their wire bytes) to the table."""
        group, self._group, self._group_bytes = self._group, [], 0
        if not group:
            return
        chunks = []
        for batch in group:
            assert batch.raw is not None
            records = LazyRecords(batch.count, _inputs_of(batch))
            chunks.append((where_of(batch.reader, batch.entry), records, batch.raw))
        self._write_ready(self._builder.add_group(chunks), group[-1])

    def _write_ready(self, ready: list[pa.RecordBatch], last: SourceBatch) -> None:
        """Write the record batches made ready, reading ahead for the embedding size once
        too many rows are held back (``last``: the latest batch added)."""
        builder = self._builder
        if not builder.settled and builder.pending_bytes > DEFAULT_HOLD_BYTES:
            ready += builder.settle(self._read_ahead(last))
        for record_batch in ready:
            self._write(record_batch)

    def _read_ahead(self, batch: SourceBatch) -> int | None:
        """The embedding size, from the entries after ``batch`` (read, not kept)."""
        which = self.options.embedding

        def records() -> Iterator[Input]:
            for entry in batch.reader.entries[batch.entry.index + 1 :]:
                yield from batch.reader.read_batch(entry).inputs
            for path in self.job.sources[batch.source_index + 1 :]:
                with ArchiveReader(
                    path, limits=self.job.options.limits, allow_empty=True
                ) as reader:
                    for entry in reader.entries:
                        yield from reader.read_batch(entry).inputs

        return find_embedding_dim(records(), which)

    def _write(self, record_batch: pa.RecordBatch) -> None:
        if self._writer is None:
            self._writer = ParquetFolderWriter(
                self.job.output_path,
                self._builder.schema,
                rows_per_file=self.job.options.rows_per_file,
            )
        self._writer.write(record_batch)

    def finish(self) -> ConvertCounts:
        self._flush_group()
        for record_batch in self._builder.settle(self._builder.dim):
            self._write(record_batch)
        if self._writer is None:
            self._writer = ParquetFolderWriter(
                self.job.output_path,
                self._builder.schema,
                rows_per_file=self.job.options.rows_per_file,
            )
        self._writer.finish()
        self._drop_scratch()
        media = None
        if self.job.options.media == "download":
            media = self._media_report or MediaReport()
        return ConvertCounts(written=self._writer.rows, files=self._writer.files, media=media)

    def commit(self) -> None:
        assert self._writer is not None
        self._writer.close()

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.abort()
        self._drop_scratch()

    def _drop_scratch(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
