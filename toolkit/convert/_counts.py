"""What a converter reports when it finishes (:class:`ConvertCounts`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..media import MediaReport

__all__ = ["ConvertCounts"]


@dataclass(frozen=True)
class ConvertCounts:
    """The counts a converter's ``finish()`` returns; :class:`~toolkit.convert.ConvertReport`
    carries them under the same names. Counts that do not apply to a format stay 0 or empty.

    Example::

        return ConvertCounts(written=n)
    """

    #: Records written: inputs (json, jsonl, protobuf, sdk, parquet) or images (coco,
    #: yolo, voc).
    written: int = 0
    #: coco, yolo, voc: images, annotations (label rows, objects) and categories (classes).
    images: int = 0
    annotations: int = 0
    categories: int = 0
    #: coco, yolo, voc: inputs not exported, by type (``text``, ``audio``, ``video`` ...).
    skipped_inputs: Mapping[str, int] = field(default_factory=dict)
    #: coco, yolo, voc: regions without a positive concept, and without a usable shape.
    regions_without_concept: int = 0
    regions_without_shape: int = 0
    #: coco, yolo, voc: images (or video frames) left out because their size is unknown.
    images_without_size: tuple[str, ...] = ()
    #: sdk: annotation files and media files in the zip.
    annotation_files: int = 0
    media_files: int = 0
    #: parquet: Parquet files written.
    files: int = 0
    #: What happened to the media, when asked for.
    media: MediaReport | None = None

    def report_fields(self) -> dict[str, Any]:
        """The fields by name, values as they are (not copied: ``media`` stays a
        MediaReport), for :class:`~toolkit.convert.ConvertReport`."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
