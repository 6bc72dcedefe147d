"""``--to json``: a Clarifai-Data-JSON archive (protobuf's JSON mapping, proto field names)."""

from __future__ import annotations

from typing import Any, ClassVar

from ..archive import Flavour
from ._base import ArchiveConverter, ConvertJob, SourceBatch
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
        for items in self._encoder.submit(batch.batch, str(batch.source)):
            self._add(items)

    def _add(self, items: list[bytes]) -> None:
        self._writer.add_json_inputs(items)
        self._added += len(items)

    def finish(self) -> dict[str, Any]:
        for items in self._encoder.drain():
            self._add(items)
        self._encoder.close()
        return super().finish()

    def abort(self) -> None:
        self._encoder.close()
        super().abort()
