"""Write record batches into a folder of Parquet files, streaming and atomically.

Example::

    with ParquetFolderWriter(Path("out"), schema, rows_per_file=100_000) as writer:
        for batch in batches:
            writer.write(batch)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.parquet as pq

from .._atomic import temp_sibling
from ..errors import OutputError

__all__ = ["DEFAULT_ROWS_PER_FILE", "ParquetFolderWriter", "part_name", "rows_per_group"]

#: Rows per Parquet file by default.
DEFAULT_ROWS_PER_FILE = 100_000
#: A row group holds at most this many rows, and about this many bytes of Arrow data.
_GROUP_ROWS = 16_384
_GROUP_BYTES = 32 * 1024**2
#: What a row of a column other than a fixed-size list counts for in sizing row groups.
_OTHER_COLUMN_BYTES = 64


def rows_per_group(schema: pa.Schema) -> int | None:
    """Rows in each row group (a file's last may hold fewer), from the schema alone, so
    that where row groups end does not depend on how the rows arrive (in entries, or in
    a cluster's parts): about :data:`_GROUP_BYTES` of data (an embedding of d floats is
    4d bytes a row, another column counts 64), at most :data:`_GROUP_ROWS`, a multiple of
    1,024 above that. None with a binary column (media bytes, too uneven to count on):
    a row group then ends once 32 MiB of Arrow data are waiting."""
    row_bytes = 0
    for field in schema:
        kind = field.type
        if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
            return None
        if pa.types.is_fixed_size_list(kind) and pa.types.is_primitive(kind.value_type):
            row_bytes += kind.list_size * kind.value_type.bit_width // 8
        else:
            row_bytes += _OTHER_COLUMN_BYTES
    rows = min(_GROUP_ROWS, _GROUP_BYTES // max(row_bytes, 1))
    if rows > 1024:
        rows -= rows % 1024
    return max(1, rows)


def part_name(number: int) -> str:
    """The file name of part ``number`` (from 0)."""
    return f"part-{number:05d}.parquet"


class ParquetFolderWriter:
    """A folder of Parquet files of one schema, of about ``rows_per_file`` rows each.

    Rows are gathered into row groups of :func:`rows_per_group` rows (up to 16k rows,
    about 32 MiB), so memory stays flat and the files are the same however the rows
    arrive.
    Parquet encodes a row group in a thread of its own (pyarrow releases the GIL) while
    the next one is gathered: at most one is in flight. The folder is written under a
    temporary name and appears at :meth:`close`; an existing folder is replaced then.
    :meth:`abort` leaves nothing behind.
    """

    def __init__(self, folder: Path, schema: pa.Schema, *, rows_per_file: int) -> None:
        if rows_per_file < 1:
            raise ValueError("rows_per_file must be at least 1")
        self.folder = Path(folder)
        self.schema = schema
        self.rows_per_file = rows_per_file
        self.rows = 0
        self.files = 0
        self._tmp = temp_sibling(self.folder)
        self._writer: pq.ParquetWriter | None = None
        self._in_file = 0
        self._group: list[pa.RecordBatch] = []
        self._group_size = rows_per_group(schema)
        self._group_rows = 0
        self._group_bytes = 0
        self._thread: ThreadPoolExecutor | None = None
        self._in_flight: Future[None] | None = None
        try:
            self._tmp.mkdir(parents=True)
        except OSError as exc:
            raise OutputError(f"{self.folder}: cannot write here ({exc.strerror or exc})") from None

    def write(self, batch: pa.RecordBatch) -> None:
        """Add one record batch (cut where a row group or a file fills up)."""
        if batch.schema is not self.schema and batch.schema != self.schema:
            raise ValueError("the batch's schema differs from the writer's")
        size = self._group_size
        start = 0
        while start < batch.num_rows:
            room = self.rows_per_file - self._in_file - self._group_rows
            if size is not None:
                room = min(room, size - self._group_rows)
            piece = batch if start == 0 and batch.num_rows <= room else batch.slice(start, room)
            start += piece.num_rows
            self._group.append(piece)
            self._group_rows += piece.num_rows
            self._group_bytes += piece.get_total_buffer_size()
            if self._in_file + self._group_rows >= self.rows_per_file:
                self._flush()
                self._close_file()
            elif self._group_rows >= (size or _GROUP_ROWS) or (
                size is None and self._group_bytes >= _GROUP_BYTES
            ):
                self._flush()

    def _flush(self) -> None:
        if not self._group:
            return
        if self._writer is None:
            path = self._tmp / part_name(self.files)
            try:
                self._writer = pq.ParquetWriter(path, self.schema, **self._options())
            except OSError as exc:
                raise OutputError(f"{path}: cannot write it ({exc})") from None
            self.files += 1
        table = pa.Table.from_batches(self._group, schema=self.schema)
        self._wait()
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="parquet-writer")
        started = threading.Event()
        self._in_flight = self._thread.submit(self._write_group, self._writer, table, started)
        # Wait (without the GIL) until the writer thread runs: else it waits for this
        # thread, busy reading, to let go of the GIL, up to the switch interval (5 ms)
        # each row group, and the writer thread is the slower of the two.
        started.wait()
        self._in_file += self._group_rows
        self.rows += self._group_rows
        self._group, self._group_rows, self._group_bytes = [], 0, 0

    def _write_group(
        self, writer: pq.ParquetWriter, table: pa.Table, started: threading.Event
    ) -> None:
        """Encode and write one row group (in the writer thread)."""
        started.set()
        try:
            writer.write_table(table, row_group_size=max(table.num_rows, 1))
        except OSError as exc:
            raise OutputError(f"{self.folder}: write failed ({exc})") from None

    def _wait(self) -> None:
        """Wait for the row group in flight (its error, if any, is raised here)."""
        future, self._in_flight = self._in_flight, None
        if future is not None:
            future.result()

    def _stop_thread(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None

    def _options(self) -> dict[str, object]:
        """Snappy and dictionaries, except for float vectors: random floats neither
        compress nor repeat, and trying costs most of the writing time."""
        names = self.schema.names
        vectors = [n for n in names if pa.types.is_fixed_size_list(self.schema.field(n).type)]
        if not vectors:
            return {"compression": "snappy"}
        plain = [n for n in names if n not in vectors]
        return {
            "compression": {n: ("none" if n in vectors else "snappy") for n in names},
            "use_dictionary": plain,
            "write_statistics": plain,
        }

    def _close_file(self) -> None:
        self._wait()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._in_file = 0

    def finish(self) -> None:
        """Write what is left and close the last file (:attr:`rows` and :attr:`files` are
        final then); the folder is still under its temporary name."""
        self._flush()
        if self.files == 0:  # no row at all: one empty file keeps the schema
            try:
                self._writer = pq.ParquetWriter(self._tmp / part_name(0), self.schema)
            except OSError as exc:
                raise OutputError(f"{self.folder}: write failed ({exc})") from None
            self.files = 1
        self._close_file()
        self._stop_thread()

    def close(self) -> None:
        """Write what is left and move the folder into place."""
        self.finish()
        old = None
        try:
            if self.folder.exists():
                old = temp_sibling(self.folder)
                os.replace(self.folder, old)
            os.replace(self._tmp, self.folder)
        except OSError as exc:
            self.abort()
            raise OutputError(f"{self.folder}: cannot move the output into place ({exc})") from None
        if old is not None:
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink()

    def abort(self) -> None:
        """Remove everything written."""
        with contextlib.suppress(Exception):
            self._wait()
        self._stop_thread()
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
        self._group = []
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> ParquetFolderWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
