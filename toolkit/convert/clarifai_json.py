"""``--to json``: a Clarifai-Data-JSON archive (protobuf's JSON mapping, proto field names)."""

from __future__ import annotations

from typing import Any, ClassVar

from ..archive import ArchiveWriter
from ._base import ConvertJob, OutputKind, SourceBatch

__all__ = ["ClarifaiJsonConverter"]


class ClarifaiJsonConverter:
    """Writes ``mimetype`` = ``application/x.clarifai-data+json`` and one JSON ``InputBatch``
    per entry; ``json_format.Parse`` of an entry gives back the source inputs exactly.

    Example::

        converter = ClarifaiJsonConverter(ConvertJob(output=Path("out.zip"), sources=(src,)))
    """

    name: ClassVar[str] = "json"
    summary: ClassVar[str] = "Clarifai-Data-JSON zip (protobuf JSON mapping, snake_case names)"
    output_kind: ClassVar[OutputKind] = "file"
    supports_media: ClassVar[bool] = False
    supports_stdout: ClassVar[bool] = False
    check_unknown: ClassVar[bool] = True

    def __init__(self, job: ConvertJob) -> None:
        self._writer = ArchiveWriter(
            job.output_path, batch_size=job.batch_size, flavour="json", split=job.split
        )
        self._added = 0

    def write_batch(self, batch: SourceBatch) -> None:
        add = self._writer.add
        for record in batch.batch.inputs:
            add(record)
        self._added += len(batch.batch.inputs)

    def finish(self) -> dict[str, Any]:
        return {"written": self._added}

    def commit(self) -> None:
        self._writer.close()

    def abort(self) -> None:
        self._writer.abort()
