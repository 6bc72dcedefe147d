"""The settings of a conversion, as one frozen object (:class:`ConvertOptions`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..jsonmap import BadNumbers, check_bad_numbers
from ..limits import DEFAULT_LIMITS, Limits
from ._base import MediaChoice, check_split

__all__ = ["MEDIA_CHOICES", "ConvertOptions", "with_settings"]

MEDIA_CHOICES: tuple[MediaChoice, ...] = ("none", "embedded", "download")


@dataclass(frozen=True)
class ConvertOptions:
    """How :func:`~toolkit.convert.convert_archives` converts: every setting in one
    frozen object, checked when made (a bad value is a ValueError naming it). Settings
    that do not apply to the chosen format keep their defaults (else ValueError).

    Example::

        options = ConvertOptions(media="download", pat=read_pat(), allow_missing=True)
        convert_archives(["a.zip"], "coco", to="coco", options=options)
        convert_archives(["a.zip"], "yolo", to="yolo", options=replace(options, task="segment"))
    """

    #: coco, yolo, voc, sdk (and parquet's ``image_bytes``): ``"embedded"`` writes the
    #: bytes carried in the archive, ``"download"`` also fetches hosted copies (with
    #: ``pat``) and plain URLs.
    media: MediaChoice = "none"
    #: Media files fetched or written at once (None: 64 downloads, fewer while servers
    #: answer 429/503; 16 files without downloads), each with ``timeout`` seconds and
    #: ``retries`` tries more.
    jobs: int | None = None
    timeout: float = 30.0
    retries: int = 4
    #: The Clarifai key, sent only to Clarifai-hosted media URLs.
    pat: str | None = field(default=None, repr=False)
    #: Write the output even when some media failed (else MediaError, nothing written).
    allow_missing: bool = False
    #: Convert sources with no inputs (else EmptyArchiveError, nothing written).
    allow_empty: bool = False
    #: sdk: re-encode images as PNG.
    png: bool = False
    #: The folder of batch entries (json, protobuf) or of the SDK layout.
    split: str = "all"
    #: coco: each video frame that carries regions becomes an image.
    video_frames: bool = False
    #: yolo: ``detect`` (boxes) or ``segment`` (polygons).
    task: str = "detect"
    #: coco: input-level concepts become categories too.
    image_labels: bool = False
    #: json, protobuf: inputs per batch entry.
    batch_size: int = 128
    #: json, jsonl: processes that encode the JSON (None: one per usable CPU, up to 8,
    #: when the sources hold 32 MiB of batches or more, else 1).
    workers: int | None = None
    #: Replace a folder holding files a conversion did not write (else OutputError).
    force: bool = False
    limits: Limits = DEFAULT_LIMITS
    #: parquet: rows per file, the embedding in the ``embedding`` column, metadata keys
    #: (dotted paths) that get a column of their own.
    rows_per_file: int = 100_000
    embedding: int = 0
    metadata_columns: tuple[str, ...] = ()
    #: NaN and infinite metadata numbers: ``"error"`` (SchemaError naming the input) or
    #: ``"null"`` (written as null, counted in the report).
    bad_numbers: BadNumbers = "error"

    def __post_init__(self) -> None:
        if self.media not in MEDIA_CHOICES:
            raise ValueError(f"media must be one of {', '.join(MEDIA_CHOICES)}, not {self.media!r}")
        if self.rows_per_file < 1 or self.embedding < 0:
            raise ValueError("rows_per_file must be at least 1 and embedding 0 or more")
        jobs, workers = self.jobs, self.workers
        if (
            self.batch_size < 1
            or (jobs is not None and jobs < 1)
            or (workers is not None and workers < 1)
        ):
            raise ValueError("batch_size, jobs and workers must be at least 1")
        check_split(self.split)
        check_bad_numbers(self.bad_numbers)
        if not isinstance(self.metadata_columns, tuple):
            # A list is taken too (the field stays hashable and frozen).
            keys: Sequence[str] = self.metadata_columns
            object.__setattr__(self, "metadata_columns", tuple(keys))


def with_settings(options: ConvertOptions | None, settings: Mapping[str, Any]) -> ConvertOptions:
    """``options`` (or the defaults) with ``settings``, fields given as keyword arguments
    (the form of ``convert_archives(..., media=..., pat=...)`` before ``options``)."""
    base = options if options is not None else ConvertOptions()
    if not settings:
        return base
    names = {f.name for f in dataclasses.fields(ConvertOptions)}
    extra = sorted(set(settings) - names)
    if extra:
        raise TypeError(f"got an unexpected keyword argument {extra[0]!r}")
    return dataclasses.replace(base, **settings)


#: Extra keyword arguments for the :class:`~toolkit.media.MediaSink` of every conversion:
#: none in use. Tests set a short backoff and a seed here (``monkeypatch.setattr``), so
#: that retries run fast and in a fixed order.
_MEDIA_SINK_EXTRAS: dict[str, Any] = {}


def media_sink_extras() -> dict[str, Any]:
    """The extra :class:`~toolkit.media.MediaSink` arguments (empty outside tests)."""
    return dict(_MEDIA_SINK_EXTRAS)
