"""``--to protobuf``: the archive rewritten (normalised entry names, chosen batch size)."""

from __future__ import annotations

from typing import Any, ClassVar

from ..archive import ArchiveWriter
from ._base import ConvertJob, OutputKind, SourceBatch

__all__ = ["ProtobufConverter"]


class ProtobufConverter:
    """Rewrites inputs as ``<split>/input-batch-000000_n<count>`` entries of ``batch_size``
    inputs, ``mimetype`` first and stored, as the official SDK reader expects. Each input's
    wire bytes are copied as they are, so fields the toolkit does not model survive.

    Example::

        converter = ProtobufConverter(ConvertJob(output=Path("out.zip"), sources=(src,)))
    """

    name: ClassVar[str] = "protobuf"
    summary: ClassVar[str] = "Clarifai-Data-Protobuf zip, rewritten (unknown fields kept)"
    output_kind: ClassVar[OutputKind] = "file"
    supports_media: ClassVar[bool] = False
    supports_stdout: ClassVar[bool] = False
    check_unknown: ClassVar[bool] = False

    def __init__(self, job: ConvertJob) -> None:
        self._writer = ArchiveWriter(
            job.output_path, batch_size=job.batch_size, flavour="protobuf", split=job.split
        )
        self._added = 0

    def write_batch(self, batch: SourceBatch) -> None:
        add = self._writer.add_serialized
        for record in batch.batch.inputs:
            add(record.SerializeToString(deterministic=True))
        self._added += len(batch.batch.inputs)

    def finish(self) -> dict[str, Any]:
        return {"written": self._added}

    def commit(self) -> None:
        self._writer.close()

    def abort(self) -> None:
        self._writer.abort()
