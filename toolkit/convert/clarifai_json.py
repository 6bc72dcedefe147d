"""``--to json``: a Clarifai-Data-JSON archive (protobuf's JSON mapping, proto field names)."""

from __future__ import annotations

from typing import ClassVar

from ..archive import Flavour
from ._base import ArchiveConverter, BatchWork, SourceBatch
from ._parallel import encode_batch_json

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
        items: list[bytes] = batch.result
        self._writer.add_json_inputs(items)
        self._added += len(items)
