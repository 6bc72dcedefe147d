"""``--to jsonl``: JSON Lines, one input a line, in protobuf's JSON mapping (proto names)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import IO, BinaryIO, ClassVar

from .._atomic import temp_sibling
from ..errors import OutputError, SchemaError
from ..jsonmap import iter_input_json
from ._base import BatchWork, ConvertJob, OutputKind, SourceBatch
from ._counts import ConvertCounts
from ._parallel import LINES_SCRATCH, add_nulls, batch_lines, encode_batch_lines

__all__ = ["JsonLinesConverter"]


class JsonLinesConverter:
    """One compact JSON object a line, ``\\n``-terminated, UTF-8: what pandas
    (``read_json(lines=True)``) and DuckDB (``read_json_auto``) read. Written under a
    temporary name and renamed when complete, or straight to a stream (``-o -``).

    Example::

        converter = JsonLinesConverter(ConvertJob(output=Path("out.jsonl"), sources=(src,)))
    """

    name: ClassVar[str] = "jsonl"
    summary: ClassVar[str] = "JSON Lines, one input a line (protobuf JSON mapping, snake_case)"
    output_kind: ClassVar[OutputKind] = "file"
    supports_media: ClassVar[bool] = False
    supports_stdout: ClassVar[bool] = True
    check_unknown: ClassVar[bool] = True
    reads_raw: bool = False
    batch_work: BatchWork | None = staticmethod(encode_batch_lines)
    batch_scratch: int = LINES_SCRATCH

    def __init__(self, job: ConvertJob) -> None:
        self._written = 0
        self._tmp = None
        self._dest = None
        if isinstance(job.output, os.PathLike):
            self._dest = job.output
            self._tmp = temp_sibling(job.output)
            try:
                self._stream: IO[bytes] | BinaryIO = open(self._tmp, "wb", buffering=1 << 20)  # noqa: SIM115
            except OSError as exc:
                raise OutputError(
                    f"{job.output}: cannot write here ({exc.strerror or exc})"
                ) from None
        else:
            self._stream = job.output

    def write_batch(self, batch: SourceBatch) -> None:
        if batch.result is None:
            self._write_long(batch)
            return
        lines, nulled = batch.result
        add_nulls(nulled)
        if not lines:
            return
        self._written += batch.count
        with self._output_errors():
            self._stream.write(batch_lines(batch, lines))

    def _write_long(self, batch: SourceBatch) -> None:
        """A batch that may hold a string longer than LONG_STRING: written here, a piece
        at a time, so memory never holds a line that a long escaped string made six
        times its size."""
        for record in batch.inputs:
            try:
                pieces = iter_input_json(record)
                with self._output_errors():
                    for piece in pieces:
                        self._stream.write(piece)
                    self._stream.write(b"\n")
            except SchemaError as exc:
                raise SchemaError(f"{batch.source}: {exc}", params=exc.params) from None
            self._written += 1

    @contextlib.contextmanager
    def _output_errors(self) -> Iterator[None]:
        """A failed write is an OutputError; a closed pipe (``| head``) stays itself."""
        try:
            yield
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputError(
                f"{self._dest or 'output'}: write failed ({exc.strerror or exc})"
            ) from None

    def finish(self) -> ConvertCounts:
        with self._output_errors():
            self._stream.flush()
        return ConvertCounts(written=self._written)

    def commit(self) -> None:
        if self._tmp is None or self._dest is None:
            return
        try:
            self._stream.close()
            os.replace(self._tmp, self._dest)
        except OSError as exc:
            self.abort()
            raise OutputError(f"{self._dest}: cannot write here ({exc.strerror or exc})") from None
        self._tmp = None

    def abort(self) -> None:
        if self._tmp is None:
            return
        with contextlib.suppress(OSError):
            self._stream.close()
        with contextlib.suppress(FileNotFoundError):
            self._tmp.unlink()
        self._tmp = None
