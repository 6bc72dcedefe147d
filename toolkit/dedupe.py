"""Keep one input per group of near-duplicates.

``dedupe_archive`` reads the archive once to gather each input's embedding (or uses an
index folder) and what the ``keep`` rule needs, finds the near-duplicate groups (pairs
scoring at least the threshold, joined transitively: :func:`toolkit.index.find_duplicates`),
then copies every input but the other members of each group, as wire bytes, in the
archive's order. The output is written under a temporary name and moved into place when
complete; the source is never modified.

Which input of a group stays (``keep``), ties going to the first in the archive:

- ``first``: the first in the archive;
- ``largest``: the most pixels (``image_info``, or ``video_info``), else the most media
  bytes carried in the archive;
- ``most-labels``: the most labels (concepts on the input, its frames and its regions).

Example::

    report = dedupe_archive("export.zip", "unique.zip", threshold=0.95, keep="most-labels")
    for group in report.groups:
        print(group.kept, "replaces", group.removed)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, Literal

from ._rewrite import SourceBatch, Stream, open_sources
from .archive import Flavour
from .batches import iter_batches
from .limits import DEFAULT_LIMITS, Limits
from .messages import Input
from .records import iter_regions, media_bytes

__all__ = ["KEEP_RULES", "DedupeGroup", "DedupeReport", "dedupe_archive"]

KeepRule = Literal["first", "largest", "most-labels"]
KEEP_RULES: tuple[KeepRule, ...] = ("first", "largest", "most-labels")


@dataclass(frozen=True)
class DedupeGroup:
    """One group of near-duplicates: the input kept and those left out."""

    kept: str
    removed: tuple[str, ...]
    min_score: float
    max_score: float

    @property
    def size(self) -> int:
        """Inputs in the group."""
        return 1 + len(self.removed)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "size": self.size,
            "kept": self.kept,
            "removed": list(self.removed),
            "min_score": round(self.min_score, 6),
            "max_score": round(self.max_score, 6),
        }


@dataclass(frozen=True)
class DedupeReport:
    """What ``dedupe_archive`` did."""

    source: str
    output: str
    threshold: float
    keep: str
    inputs_read: int
    inputs_written: int
    #: Inputs that could not be compared (no usable embedding; not in the index).
    inputs_without_embedding: int
    #: Largest group first.
    groups: tuple[DedupeGroup, ...]

    @property
    def inputs_removed(self) -> int:
        """Inputs left out."""
        return self.inputs_read - self.inputs_written

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "source": self.source,
            "output": self.output,
            "threshold": self.threshold,
            "keep": self.keep,
            "inputs_read": self.inputs_read,
            "inputs_written": self.inputs_written,
            "inputs_removed": self.inputs_removed,
            "inputs_without_embedding": self.inputs_without_embedding,
            "groups": [g.to_dict() for g in self.groups],
        }


def _size(record: Input) -> int:
    data = record.data
    if data.HasField("image") and data.image.image_info.width > 0:
        return int(data.image.image_info.width) * int(data.image.image_info.height)
    if data.HasField("video") and data.video.video_info.width > 0:
        return int(data.video.video_info.width) * int(data.video.video_info.height)
    return 0


def _label_count(record: Input) -> int:
    data = record.data
    count = len(data.concepts)
    for frame in data.frames:
        count += len(frame.data.concepts)
    for region in iter_regions(record):
        count += len(region.data.concepts)
    return count


def _score(record: Input, keep: KeepRule) -> tuple[int, int]:
    if keep == "largest":
        return (_size(record), len(media_bytes(record)))
    if keep == "most-labels":
        return (_label_count(record), 0)
    return (0, 0)


def dedupe_archive(
    source: str | os.PathLike[str] | Stream,
    output: str | os.PathLike[str] | Stream,
    *,
    threshold: float | None = None,
    keep: KeepRule = "first",
    index: str | os.PathLike[str] | Any | None = None,
    embedding: int = 0,
    flavour: Flavour | None = None,
    batch_size: int | None = 128,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int], None] | None = None,
) -> DedupeReport:
    """Write ``source`` with one input per near-duplicate group (see the module docstring).

    ``threshold`` is a score (cosine similarity, default 0.95; an index built with
    ``ip`` or ``l2`` needs one). ``index`` (a folder or a loaded
    :class:`~toolkit.index.SimilarityIndex`) gives the pairs instead of an exact
    in-memory index of the archive's embedding number ``embedding``. ``progress`` is
    called with counts of inputs read (each input is read twice).

    Example::

        report = dedupe_archive("export.zip", "unique.zip", threshold=0.9, keep="largest")
        print(report.inputs_removed, [g.to_dict() for g in report.groups])
    """
    if keep not in KEEP_RULES:
        raise ValueError(f"unknown keep rule {keep!r}; use one of {', '.join(KEEP_RULES)}")
    from .index import SimilarityIndex
    from .index.groups import EmbeddingGatherer, duplicate_groups
    from .index.ops import DEFAULT_DUPLICATE_THRESHOLD
    from .subset import _rewrite_one, _source_name

    if index is not None and not isinstance(index, SimilarityIndex):
        index = SimilarityIndex.load(index)

    gatherer = EmbeddingGatherer(embedding=embedding)
    scores: list[tuple[int, int]] = []
    with ExitStack() as stack:
        (opened,) = open_sources([source], limits=limits, stack=stack)
        for batch in iter_batches([opened.reader]):
            for record in batch.inputs:
                gatherer.add(record)
                scores.append(_score(record, keep))
            if progress is not None:
                progress(len(batch))
        groups = duplicate_groups(gatherer, threshold=threshold, index=index)
        path = opened.path
        name = _source_name(source)
        ids = gatherer.ids
        drop = bytearray(len(ids))
        made: list[DedupeGroup] = []
        for group in groups:
            ordinals = list(group.ordinals)
            best = max(ordinals, key=lambda o: (scores[o], -o))
            for o in ordinals:
                if o != best:
                    drop[o] = 1
            made.append(
                DedupeGroup(
                    kept=ids[best],
                    removed=tuple(ids[o] for o in ordinals if o != best),
                    min_score=group.min_score,
                    max_score=group.max_score,
                )
            )
        ordinal = 0

        def select(batch: SourceBatch) -> list[bool] | None:
            nonlocal ordinal
            n = len(batch)
            flags = drop[ordinal : ordinal + n]
            ordinal += n
            if not any(flags):
                return None
            return [not flag for flag in flags]

        read, written, _ = _rewrite_one(
            path,
            output,
            select,
            flavour=flavour,
            batch_size=batch_size,
            limits=limits,
            progress=progress,
        )
    if threshold is None:
        threshold = DEFAULT_DUPLICATE_THRESHOLD
    without = gatherer.skipped if index is None else sum(1 for i in ids if i not in index)
    return DedupeReport(
        source=name,
        output=_source_name(output, "<stream>"),
        threshold=float(threshold),
        keep=keep,
        inputs_read=read,
        inputs_written=written,
        inputs_without_embedding=without,
        groups=tuple(made),
    )
