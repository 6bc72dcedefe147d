"""``--to json``: a Clarifai-Data-JSON archive (protobuf's JSON mapping, proto field names)."""

from __future__ import annotations

from typing import ClassVar

from ..archive import Flavour
from ..errors import SchemaError
from ..jsonmap import join_input_json, split_input_json
from ._base import ArchiveConverter, BatchWork, SourceBatch
from ._parallel import add_nulls, encode_batch_json

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

    batch_work: BatchWork | None = staticmethod(encode_batch_json)

    def write_batch(self, batch: SourceBatch) -> None:
        if batch.result is None:
            self._write_long(batch)
            return
        items, nulled = batch.result
        add_nulls(nulled)
        self._add(items)

    def _write_long(self, batch: SourceBatch) -> None:
        """A batch that may hold a string longer than LONG_STRING: an input that holds
        one becomes an entry of its own, written a piece at a time; the others are
        batched as usual."""
        for record in batch.inputs:
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
