"""``--to protobuf``: the archive rewritten (normalised entry names, chosen batch size)."""

from __future__ import annotations

from typing import ClassVar

from ..archive import Flavour
from ._base import ArchiveConverter

__all__ = ["ProtobufConverter"]


class ProtobufConverter(ArchiveConverter):
    """Rewrites inputs as ``<split>/input-batch-000000_n<count>`` entries of ``batch_size``
    inputs, ``mimetype`` first and stored, as the official SDK reader expects. Each input's
    wire bytes are copied as they are, so fields the toolkit does not model survive.

    Example::

        converter = ProtobufConverter(ConvertJob(output=Path("out.zip"), sources=(src,)))
    """

    name: ClassVar[str] = "protobuf"
    summary: ClassVar[str] = "Clarifai-Data-Protobuf zip, rewritten (unknown fields kept)"
    flavour: ClassVar[Flavour] = "protobuf"
    check_unknown: ClassVar[bool] = False
