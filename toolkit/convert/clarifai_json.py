"""``--to json``: a Clarifai-Data-JSON archive (protobuf's JSON mapping, proto field names)."""

from __future__ import annotations

from typing import ClassVar

from ..archive import Flavour
from ..errors import SchemaError
from ..jsonmap import LONG_STRING, join_input_json, split_input_json
from ._base import ArchiveConverter, ConvertJob, SourceBatch
from ._counts import ConvertCounts
from ._parallel import JsonEncoder

__all__ = ["ClarifaiJsonConverter"]


class ClarifaiJsonConverter(ArchiveConverter):
    """Writes ``mimetype`` = ``application/x.clarifai-data+json`` and one JSON ``InputBatch``
    per entry; ``json_format.Parse`` of an entry gives back the source inputs exactly.

    Example::

        converter = ClarifaiJsonConverter(ConvertJob(output=Path("out.zip"), sources=(src,)))
    """

    name: ClassVar[str] = "json"
    summary: ClassVar[str] = "Clarifai-Data-JSON zip (protobuf JSON mapping, snake_case names)"
    flavour: ClassVar[Flavour] = "json"
    check_unknown: ClassVar[bool] = True

    def __init__(self, job: ConvertJob) -> None:
        super().__init__(job)
        self._encoder = JsonEncoder(job.workers)

    def write_batch(self, batch: SourceBatch) -> None:
        if batch.entry.size > LONG_STRING:
            self._write_long(batch)
            return
        for items in self._encoder.submit(batch.batch, str(batch.source)):
            self._add(items)

    def _write_long(self, batch: SourceBatch) -> None:
        """A batch that may hold a string longer than LONG_STRING: an input that holds
        one becomes an entry of its own, written a piece at a time; the others are
        batched as usual (the batches in flight first, to keep the order)."""
        for items in self._encoder.drain():
            self._add(items)
        for record in batch.batch.inputs:
            try:
                parts, longs = split_input_json(record)
            except SchemaError as exc:
                raise SchemaError(f"{batch.source}: {exc}", params=exc.params) from None
            if longs:
                self._writer.add_json_pieces(join_input_json(parts, longs))
                self._added += 1
            else:
                self._add(parts)

    def _add(self, items: list[bytes]) -> None:
        self._writer.add_json_inputs(items)
        self._added += len(items)

    def finish(self) -> ConvertCounts:
        for items in self._encoder.drain():
            self._add(items)
        self._encoder.close()
        return super().finish()

    def abort(self) -> None:
        self._encoder.close()
        super().abort()
