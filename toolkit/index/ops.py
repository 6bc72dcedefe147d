"""What the index is for beyond one search: duplicates, evaluation, similar-id selection.

Example::

    index = SimilarityIndex.load("my-index")
    for group in find_duplicates(index, threshold=0.95):
        print(group.size, group.ids)
    print(evaluate_index(index).recall)
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..archive import ArchiveReader
from ..errors import SchemaError
from ..limits import DEFAULT_LIMITS, Limits
from ..subset import FilterCriteria
from . import _engine as engine
from ._collect import embedding_array, prepare_vector
from ._pairs import PairSearch, threshold_pairs
from ._select import Selection
from .core import SimilarityIndex

__all__ = [
    "DEFAULT_DUPLICATE_THRESHOLD",
    "DuplicateGroup",
    "EvalReport",
    "evaluate_index",
    "find_duplicates",
    "similar_ids",
]

#: Default ``duplicates`` threshold for cosine similarity.
DEFAULT_DUPLICATE_THRESHOLD = 0.95


# -- duplicates -------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateGroup:
    """Inputs joined by pairs scoring at least the threshold (a connected component)."""

    ids: tuple[str, ...]
    #: Weakest and strongest pair score inside the group.
    min_score: float
    max_score: float

    @property
    def size(self) -> int:
        """How many inputs the group holds."""
        return len(self.ids)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict for JSON output."""
        return {
            "size": self.size,
            "ids": list(self.ids),
            "min_score": round(self.min_score, 6),
            "max_score": round(self.max_score, 6),
        }


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each row's component label (its smallest row) for the edges a-b (hook and jump)."""
    label = np.arange(n, dtype=np.int64)
    if not len(a):
        return label
    while True:
        la, lb = label[a], label[b]
        low = np.minimum(la, lb)
        before = label.copy()
        np.minimum.at(label, la, low)
        np.minimum.at(label, lb, low)
        while True:  # point every row at its label's label until nothing moves
            jumped = label[label]
            if np.array_equal(jumped, label):
                break
            label = jumped
        if np.array_equal(label, before):
            return label


def find_duplicates(
    index: SimilarityIndex,
    *,
    threshold: float | None = None,
    exact: bool | None = None,
    target_recall: float = 0.95,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
    where: FilterCriteria | Selection | None = None,
    archives: Sequence[str | os.PathLike[str]] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    info: list[PairSearch] | None = None,
) -> list[DuplicateGroup]:
    """Groups of near-duplicate inputs, largest first.

    Every pair scoring at least ``threshold`` is an edge and the groups are the
    connected components, so A~B and B~C put A, B and C together.
    The threshold is a score: cosine similarity (default 0.95), inner product, or
    negated L2 distance (``-0.1`` = within distance 0.1); ``ip`` and ``l2`` need one.
    The pairs come from the stored vectors whatever the index kind: up to
    :data:`~toolkit.index._pairs.EXACT_MAX` inputs (or with ``exact=True``) every pair
    is scored; above, each input is compared with the inputs of the few k-means cells
    nearest to it, as many cells as reach ``target_recall`` of the pairs on rows drawn
    with ``seed`` (see :mod:`toolkit.index._pairs`; ``info``, when a list, receives how
    the pairs were found). ``where`` (criteria evaluated on ``archives``, or a
    :class:`Selection`) looks for duplicates among the matching inputs only.

    Example::

        groups = find_duplicates(SimilarityIndex.load("my-index"), threshold=0.9)
    """
    if threshold is None:
        if index.metric != "cosine":
            raise ValueError(
                f"the index uses metric {index.metric!r}: give a threshold (a score: "
                + (
                    "an inner product)"
                    if index.metric == "ip"
                    else "a negated distance, e.g. -0.1)"
                )
            )
        threshold = DEFAULT_DUPLICATE_THRESHOLD
    n = len(index)
    selection = index._selection(where, archives, limits)
    if selection is not None and not len(selection):
        return []
    engine.configure_threads()
    rows = selection.rows if selection is not None else np.arange(n, dtype=np.int64)
    a, b, scores, how = threshold_pairs(
        index.vectors,
        rows,
        float(threshold),
        index.metric,
        exact=exact,
        target=target_recall,
        seed=seed,
        progress=progress,
    )
    if info is not None:
        info.append(how)
    if not len(a):
        return []
    roots = _components(n, a, b)
    sizes = np.bincount(roots, minlength=n)
    members: dict[int, list[int]] = {}
    for row in np.flatnonzero(sizes[roots] > 1):
        members.setdefault(int(roots[row]), []).append(int(row))
    edge_roots = roots[a]
    order = np.argsort(edge_roots, kind="stable")
    bounds = np.flatnonzero(np.diff(edge_roots[order])) + 1
    values = scores.astype(np.float64)[order]
    low = dict(
        zip(
            edge_roots[order][np.r_[0, bounds]].tolist(),
            np.minimum.reduceat(values, np.r_[0, bounds]).tolist(),
            strict=True,
        )
    )
    high = dict(
        zip(
            edge_roots[order][np.r_[0, bounds]].tolist(),
            np.maximum.reduceat(values, np.r_[0, bounds]).tolist(),
            strict=True,
        )
    )
    groups = [
        DuplicateGroup(tuple(index.ids[r] for r in rows_), low[root], high[root])
        for root, rows_ in members.items()
    ]
    # Largest first, then the closest; scores are rounded so float noise cannot reorder ties.
    groups.sort(key=lambda g: (-g.size, -round(g.max_score, 5), g.ids[0]))
    return groups


# -- evaluation -------------------------------------------------------------------------


@dataclass(frozen=True)
class EvalReport:
    """Recall against exact search and single-query latency of an index."""

    kind: str
    metric: str
    count: int
    queries: int
    search_params: dict[str, int]
    #: recall@k for k in 1, 10, 100 (those not above the collection size).
    recall: dict[int, float]
    latency_ms_p50: float
    latency_ms_p99: float
    exact_latency_ms_p50: float
    threads: int
    notes: tuple[str, ...] = field(default=())

    @property
    def speedup(self) -> float:
        """Median exact-search time over median index-search time."""
        return self.exact_latency_ms_p50 / self.latency_ms_p50 if self.latency_ms_p50 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A plain dict for JSON output."""
        return {
            "kind": self.kind,
            "metric": self.metric,
            "count": self.count,
            "queries": self.queries,
            "search_params": self.search_params,
            "recall": {f"recall@{k}": round(v, 4) for k, v in self.recall.items()},
            "latency_ms": {
                "p50": round(self.latency_ms_p50, 4),
                "p99": round(self.latency_ms_p99, 4),
            },
            "exact_latency_ms_p50": round(self.exact_latency_ms_p50, 4),
            "speedup_vs_exact": round(self.speedup, 1),
            "threads": self.threads,
            "notes": list(self.notes),
        }


def evaluate_index(
    index: SimilarityIndex,
    *,
    queries: int = 200,
    ks: Sequence[int] = (1, 10, 100),
    seed: int = 12345,
    exact_queries: int = 20,
) -> EvalReport:
    """Recall@k against exact search and query latency, on queries sampled from the index.

    Queries are rows drawn with ``seed`` (a different draw from the build's tuning
    queries); each query's own row is left out of both answers, as ``search
    --like`` does. Latency is one :meth:`SimilarityIndex.search` call per query
    (id mapping included), p50 and p99; ``exact_latency_ms_p50`` times a
    brute-force FAISS search of one query over all vectors, for the speed-up.

    Example::

        report = evaluate_index(SimilarityIndex.load("my-index"))
        print(report.recall[10], report.latency_ms_p50)
    """
    threads = engine.configure_threads()
    n = len(index)
    ks = sorted({k for k in ks if 0 < k < n} or {max(1, n - 1)})
    rows = engine.tuning_queries(n, seed, queries)
    matrix = np.ascontiguousarray(index.vectors[rows])
    top = max(ks)
    truth_scores, truth_rows = engine.exact_knn(index.vectors, matrix, top + 1, index.metric)
    truth, _ = engine.drop_self(truth_rows, truth_scores, rows, top)
    params = index.search_params
    found_scores, found_rows = engine.ann_search(
        index.faiss_index, index.kind, index.vectors, matrix, top + 1, params, index.metric
    )
    found, _ = engine.drop_self(found_rows, found_scores, rows, top)
    recall = {k: engine.recall_at(found, truth, k) for k in ks}
    timings = []
    for qi in range(len(rows)):
        vector = matrix[qi]
        started = time.perf_counter()
        index.search(vector, k=10)
        timings.append(time.perf_counter() - started)
    exact_times = []
    for qi in range(min(exact_queries, len(rows))):
        started = time.perf_counter()
        engine.exact_knn(index.vectors, matrix[qi : qi + 1], 10, index.metric, block=1 << 20)
        exact_times.append(time.perf_counter() - started)
    notes = []
    if index.metric == "cosine":
        notes.append("scores are cosine similarities")
    return EvalReport(
        kind=index.kind,
        metric=index.metric,
        count=n,
        queries=len(rows),
        search_params=params.to_dict(),
        recall=recall,
        latency_ms_p50=float(np.percentile(timings, 50) * 1e3) if timings else 0.0,
        latency_ms_p99=float(np.percentile(timings, 99) * 1e3) if timings else 0.0,
        exact_latency_ms_p50=float(np.percentile(exact_times, 50) * 1e3) if exact_times else 0.0,
        threads=threads,
        notes=tuple(notes),
    )


# -- similar ids (for filter --like) -------------------------------------------------


def _check_selection(k: int | None, min_score: float | None) -> None:
    if k is None and min_score is None:
        raise ValueError("give k, min_score or both")
    if k is not None and k < 1:
        raise ValueError("k must be at least 1")


def similar_ids(
    source: SimilarityIndex | str | os.PathLike[str],
    like_ids: Iterable[str],
    *,
    k: int | None = None,
    min_score: float | None = None,
    embedding: int = 0,
    metric: str = "cosine",
    include_queries: bool = False,
    where: FilterCriteria | None = None,
    archive: str | os.PathLike[str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> set[str]:
    """Ids of the inputs similar to any of ``like_ids`` (each query left out of its own hits).

    ``source`` is a loaded index, an index folder, or an archive: for an archive the
    search is exact and streamed over its own embeddings (number ``embedding``,
    compared by ``metric``), two passes and constant memory. ``k`` keeps each
    query's k nearest, ``min_score`` those scoring at least that much (both: the k
    nearest that score enough). With an index and only ``min_score`` the scan is
    exact over the stored vectors. ``include_queries`` adds ``like_ids`` themselves.
    ``where`` keeps only the inputs that match those criteria as candidates, before the
    nearest are chosen (for an index they are evaluated on ``archive``, by default its
    source archives), so ``k`` counts matching inputs.

    Example::

        keep = similar_ids("clarifai-data-protobuf.zip", ["img-0007"], k=3)
    """
    _check_selection(k, min_score)
    wanted = list(dict.fromkeys(like_ids))
    if not wanted:
        raise ValueError("give at least one input id")
    if where is not None:
        where = dataclasses.replace(where, limit=None)
        if where.is_empty:
            where = None
    if isinstance(source, SimilarityIndex) or Path(source).is_dir():
        index = source if isinstance(source, SimilarityIndex) else SimilarityIndex.load(source)
        selection = None
        if where is not None:
            selection = index.select(
                where, archives=[archive] if archive is not None else None, limits=limits
            )
        found = _similar_in_index(index, wanted, k=k, min_score=min_score, selection=selection)
    else:
        if metric not in engine.METRICS:
            choices = ", ".join(engine.METRICS)
            raise ValueError(f"unknown metric {metric!r}; choose one of {choices}")
        found = _similar_in_archive(
            Path(source),
            wanted,
            k=k,
            min_score=min_score,
            embedding=embedding,
            metric=metric,
            limits=limits,
            where=where,
        )
    if include_queries:
        found.update(wanted)
    return found


def _similar_in_index(
    index: SimilarityIndex,
    wanted: list[str],
    *,
    k: int | None,
    min_score: float | None,
    selection: Selection | None = None,
) -> set[str]:
    if k is not None:
        return {
            hit.id
            for hits in index.search_like(wanted, k, min_score=min_score, where=selection)
            for hit in hits
        }
    assert min_score is not None
    out: set[str] = set()
    for input_id in wanted:
        own = index.row(input_id)
        scores = index.exact_scores(np.array(index.vectors[own]))
        scores[own] = -np.inf
        if selection is not None:
            scores[~selection.mask] = -np.inf
        out.update(index.ids[r] for r in np.flatnonzero(scores >= min_score))
    return out


def _similar_in_archive(
    path: Path,
    wanted: list[str],
    *,
    k: int | None,
    min_score: float | None,
    embedding: int,
    metric: str,
    limits: Limits,
    where: FilterCriteria | None = None,
) -> set[str]:
    queries: dict[str, np.ndarray] = {}
    with ArchiveReader(path, limits=limits) as reader:
        for input_id in wanted:
            record = reader.get_input(input_id)
            vector = embedding_array(record, embedding)
            if vector is None or not vector.size:
                raise SchemaError(
                    f"{path}: input {input_id!r} has no embedding number {embedding}, so "
                    "nothing can be similar to it"
                )
            prepared = prepare_vector(vector, metric)
            if prepared is None:
                raise SchemaError(f"{path}: input {input_id!r} has a NaN or all-zero embedding")
            queries[input_id] = prepared
    dims = {v.shape[0] for v in queries.values()}
    if len(dims) > 1:
        raise SchemaError(f"{path}: the chosen inputs' embeddings differ in size ({sorted(dims)})")
    dim = dims.pop()
    names = list(queries)
    matrix = np.stack([queries[i] for i in names])
    q = len(names)
    keep_k = k if k is not None else 0
    best_scores = np.full((q, keep_k), -np.inf, dtype=np.float32)
    best_ids: list[list[str | None]] = [[None] * keep_k for _ in range(q)]
    selected: set[str] = set()
    with ArchiveReader(path, limits=limits) as reader:
        for _entry, batch in reader.iter_batches():
            ids: list[str] = []
            vectors: list[np.ndarray] = []
            for record in batch.inputs:
                if where is not None and not where.matches(record):
                    continue
                vector = embedding_array(record, embedding)
                if vector is None or vector.shape[0] != dim:
                    continue
                prepared = prepare_vector(vector, metric)
                if prepared is None:
                    continue
                ids.append(record.id)
                vectors.append(prepared)
            if not ids:
                continue
            block = np.stack(vectors)
            if metric == "l2":
                scores = -np.sqrt(
                    np.maximum(((block[None, :, :] - matrix[:, None, :]) ** 2).sum(axis=2), 0.0)
                )
            else:
                scores = matrix @ block.T
            for qi, name in enumerate(names):
                row_scores = scores[qi].copy()
                for j, input_id in enumerate(ids):
                    if input_id == name:
                        row_scores[j] = -np.inf
                if k is None:
                    assert min_score is not None
                    selected.update(ids[j] for j in np.flatnonzero(row_scores >= min_score))
                    continue
                merged = np.concatenate([best_scores[qi], row_scores])
                merged_ids = best_ids[qi] + list(ids)
                order = np.argsort(-merged, kind="stable")[:keep_k]
                best_scores[qi] = merged[order]
                best_ids[qi] = [merged_ids[o] for o in order]
    if k is not None:
        for qi in range(q):
            for score, hit_id in zip(best_scores[qi], best_ids[qi], strict=True):
                if hit_id is None or score == -np.inf:
                    continue
                if min_score is not None and score < min_score:
                    continue
                selected.add(hit_id)
    return selected
