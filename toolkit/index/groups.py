"""Near-duplicate groups of an archive's inputs, by position, for ``split`` and ``dedupe``.

The inputs are numbered in the archive's order (their *ordinal*; an id may occur twice).
The groups come from :func:`~toolkit.index.find_duplicates`, either on an index folder
(its ids mapped back to ordinals) or on an exact in-memory index built from the
embeddings gathered while the archive is read (``n x d`` float32 in memory).

Example::

    gatherer = EmbeddingGatherer()
    for record in records:
        gatherer.add(record)
    groups = duplicate_groups(gatherer, threshold=0.95)   # [OrdinalGroup(ordinals, ...)]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from ..errors import SchemaError, param
from ..messages import Input
from . import _engine as engine
from ._collect import embedding_array, prepare_vector
from .core import SimilarityIndex
from .ops import DEFAULT_DUPLICATE_THRESHOLD, find_duplicates

__all__ = [
    "EmbeddingGatherer",
    "OrdinalGroup",
    "duplicate_groups",
    "in_memory_index",
]


@dataclass(frozen=True)
class OrdinalGroup:
    """Inputs (by ordinal, ascending) joined as near-duplicates, and their pair scores."""

    ordinals: tuple[int, ...]
    min_score: float
    max_score: float


class EmbeddingGatherer:
    """Gathers one embedding per input while an archive is read (cosine-normalised).

    Inputs without embedding number ``embedding``, with an unusable one (NaN, zero) or
    of another size than the first are left out (counted in :attr:`skipped`).
    """

    def __init__(self, *, embedding: int = 0, metric: str = "cosine") -> None:
        self.embedding = embedding
        self.metric = metric
        self.ids: list[str] = []
        self.ordinals: list[int] = []
        self.rows: list[np.ndarray] = []
        self.count = 0
        self.skipped = 0
        self.dimension: int | None = None

    def add(self, record: Input) -> None:
        """Look at the next input of the archive."""
        ordinal = self.count
        self.count += 1
        self.ids.append(record.id)
        vector = embedding_array(record, self.embedding)
        if vector is None or not vector.size:
            self.skipped += 1
            return
        if self.dimension is None:
            self.dimension = int(vector.shape[0])
        if vector.shape[0] != self.dimension:
            self.skipped += 1
            return
        prepared = prepare_vector(vector, self.metric)
        if prepared is None:
            self.skipped += 1
            return
        self.ordinals.append(ordinal)
        self.rows.append(np.array(prepared, dtype=np.float32))


def in_memory_index(
    vectors: np.ndarray, ids: Sequence[str], *, metric: str = "cosine"
) -> SimilarityIndex:
    """An exact (``flat``) :class:`SimilarityIndex` held in memory, over prepared vectors.

    Example::

        index = in_memory_index(np.eye(3, dtype="float32"), ["a", "b", "c"])
    """
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    n, d = matrix.shape
    faiss_index = faiss.IndexFlat(d, engine.faiss_metric(metric))
    if n:
        faiss_index.add(matrix)
    sidecar = {"dimension": d, "metric": metric, "kind": "flat", "count": n, "sources": []}
    return SimilarityIndex(Path("<memory>"), sidecar, list(ids), matrix, faiss_index)


def duplicate_groups(
    gatherer: EmbeddingGatherer,
    *,
    threshold: float | None = None,
    index: SimilarityIndex | str | os.PathLike[str] | None = None,
) -> list[OrdinalGroup]:
    """Near-duplicate groups of the gathered inputs (by ordinal), largest first.

    With ``index`` the pairs come from that index (its ids mapped to every ordinal that
    carries them; ids it lacks are never grouped); else from an exact in-memory index of
    the gathered embeddings. The threshold is a score (default 0.95 for cosine).
    """
    if index is not None:
        loaded = index if isinstance(index, SimilarityIndex) else SimilarityIndex.load(index)
        if threshold is None and loaded.metric != "cosine":
            raise ValueError(
                f"the index uses metric {loaded.metric!r}: give a threshold for near-duplicates"
            )
        where: dict[str, list[int]] = {}
        for ordinal, input_id in enumerate(gatherer.ids):
            where.setdefault(input_id, []).append(ordinal)
        groups = []
        for group in find_duplicates(loaded, threshold=threshold):
            ordinals = sorted(o for i in group.ids for o in where.get(i, ()))
            if len(ordinals) > 1:
                groups.append(OrdinalGroup(tuple(ordinals), group.min_score, group.max_score))
        return _sorted(groups)
    if not gatherer.rows:
        hint = param("index", ...)
        raise SchemaError(
            "no input carries an embedding, so near-duplicates cannot be found; export the "
            f"dataset version with embeddings, or give an index ({hint})",
            params=[hint],
        )
    matrix = np.stack(gatherer.rows)
    memory = in_memory_index(matrix, [str(o) for o in gatherer.ordinals], metric=gatherer.metric)
    value = DEFAULT_DUPLICATE_THRESHOLD if threshold is None else threshold
    groups = [
        OrdinalGroup(tuple(sorted(int(i) for i in g.ids)), g.min_score, g.max_score)
        for g in find_duplicates(memory, threshold=value)
    ]
    return _sorted(groups)


def _sorted(groups: list[OrdinalGroup]) -> list[OrdinalGroup]:
    return sorted(groups, key=lambda g: (-len(g.ordinals), g.ordinals[0]))
