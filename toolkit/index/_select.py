"""Filtered nearest-neighbour search: the rows a filter keeps, searched before ranking.

A :class:`Selection` is the sorted set of index rows that match some criteria. A search
restricted to it never returns another row, so ``k`` hits are the ``k`` nearest rows
that match (not ``k`` hits filtered down afterwards). Three ways, chosen per call:

- ``flat`` index, or any index when the selected vectors fit :data:`ANN_EXACT_BYTES`:
  exact over the selected rows (gathered into one matrix, kept with the selection for
  the next query, when they fit :data:`EXACT_BYTES`; else block by block);
- other kinds, when the selected rows' 8-bit codes fit :data:`SCAN_BYTES`: a scan of
  the selected rows quantized to 8 bits a dimension (``IndexScalarQuantizer``, built once
  per selection and kept with it: a quarter of the float32 bytes to read per query), its
  best ``max(100, 10 k)`` re-scored exactly from the stored vectors;
- larger selections: the FAISS index with an id selector
  (``SearchParametersIVF(sel=IDSelectorBatch, nprobe=...)`` with ``nprobe`` raised by
  the inverse of the fraction kept; for HNSW ``efSearch`` likewise), ``ivfpq``
  candidates re-ranked exactly as in an unfiltered search.

A few queries (fewer than :data:`_FEW_QUERIES`) scan the selection on one thread: FAISS
parallelises a scan over the queries, and for one query the OpenMP start-up and a busy
machine's descheduled threads cost more than the scan (measured on 10,000 x 512 rows,
2 cores under load: 1.0 ms on one thread, 15 ms on two).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import faiss
import numpy as np

from . import _engine as engine

__all__ = [
    "ANN_EXACT_BYTES",
    "EXACT_BYTES",
    "SCAN_BYTES",
    "Selection",
    "filtered_search",
    "selected_scores",
]

#: A flat index gathers the selected vectors when they take at most this many bytes.
EXACT_BYTES = 64 << 20
#: Other kinds search the selected vectors exactly up to this many bytes (measured on
#: 10,000 x 512 selected rows, one thread: exact 0.6 ms, the 8-bit scan 1.1 ms).
ANN_EXACT_BYTES = 32 << 20
#: Other kinds scan the selection's 8-bit codes when they take at most this many bytes.
SCAN_BYTES = 32 << 20
#: Candidates of the 8-bit scan re-scored exactly: at least this many, else 10 per hit.
_SCAN_DEPTH = 100
#: Rows the 8-bit quantizer learns its ranges from.
_SQ_TRAIN = 65536
#: Fewer queries than this scan a selection on one thread.
_FEW_QUERIES = 20


@contextlib.contextmanager
def _threads_for(queries: int) -> Iterator[None]:
    """One OpenMP thread while a few queries scan (restored after)."""
    if queries >= _FEW_QUERIES:
        yield
        return
    with engine.one_thread():
        yield


#: Rows gathered at a time when a selection is searched exactly block by block.
_BLOCK_BYTES = 32 << 20
#: Highest efSearch a filtered HNSW search raises to.
_MAX_EF = 4096


class Selection:
    """Rows of an index that a filter keeps (sorted, unique), with cached helpers.

    Example::

        selection = index.select(FilterCriteria(concepts=("cat",)))
        hits = index.search(query, k=10, where=selection)
    """

    def __init__(self, rows: Any, total: int) -> None:
        array = np.unique(np.asarray(rows, dtype=np.int64))
        if array.size and (array[0] < 0 or array[-1] >= total):
            raise ValueError(f"rows must lie in 0..{total - 1}")
        self.rows = array
        self.total = total
        self._selector: Any = None
        self._gathered: np.ndarray | None = None
        self._mask: np.ndarray | None = None
        self._quantized: Any = None

    def __len__(self) -> int:
        return int(self.rows.size)

    def __repr__(self) -> str:
        return f"Selection({len(self)} of {self.total} rows)"

    @property
    def fraction(self) -> float:
        """Share of the collection selected."""
        return len(self) / self.total if self.total else 0.0

    @property
    def mask(self) -> np.ndarray:
        """A boolean mask over every row."""
        if self._mask is None:
            mask = np.zeros(self.total, dtype=bool)
            mask[self.rows] = True
            self._mask = mask
        return self._mask

    def selector(self) -> Any:
        """A FAISS ``IDSelectorBatch`` of the rows (labels are rows)."""
        if self._selector is None:
            self._selector = faiss.IDSelectorBatch(self.rows)
        return self._selector

    def gathered(self, vectors: np.ndarray) -> np.ndarray | None:
        """The selected vectors as one contiguous matrix, when they fit ``EXACT_BYTES``."""
        if self._gathered is None:
            if len(self) * vectors.shape[1] * 4 > EXACT_BYTES:
                return None
            self._gathered = np.ascontiguousarray(vectors[self.rows], dtype=np.float32)
        return self._gathered

    def quantized(self, vectors: np.ndarray, metric: str) -> Any:
        """The selected vectors in a FAISS 8-bit scalar quantizer (local row numbers)."""
        if self._quantized is None:
            d = vectors.shape[1]
            index = faiss.IndexScalarQuantizer(
                d, faiss.ScalarQuantizer.QT_8bit, engine.faiss_metric(metric)
            )
            rows = self.rows
            if len(rows) > _SQ_TRAIN:
                picked = np.random.default_rng(0).choice(len(rows), _SQ_TRAIN, replace=False)
                sample = rows[np.sort(picked)]
            else:
                sample = rows
            index.train(np.ascontiguousarray(vectors[sample], dtype=np.float32))
            step = max(1, _BLOCK_BYTES // (d * 4))
            for start in range(0, len(rows), step):
                index.add(np.ascontiguousarray(vectors[rows[start : start + step]], "float32"))
            self._quantized = index
        return self._quantized

    def path(self, kind: str, dimension: int) -> str:
        """How a search over this selection runs: ``exact``, ``scan`` or ``id-selector``."""
        if kind == "flat" or len(self) * dimension * 4 <= ANN_EXACT_BYTES:
            return "exact"
        if len(self) * dimension <= SCAN_BYTES:
            return "scan"
        return "id-selector"


def _empty(nq: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((nq, k), -np.inf, dtype=np.float32), np.full((nq, k), -1, dtype=np.int64)


def _exact(
    vectors: np.ndarray, selection: Selection, queries: np.ndarray, k: int, metric: str
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k over the selected rows (``faiss.knn`` per block, merged in a heap)."""
    rows = selection.rows
    nq = queries.shape[0]
    k = max(1, min(k, len(rows)))
    gathered = selection.gathered(vectors)
    if gathered is not None:
        scores, local = engine.exact_knn(gathered, queries, k, metric, block=max(1, len(rows)))
        out = np.where(local >= 0, rows[np.maximum(local, 0)], -1)
        return scores, out
    heap = faiss.ResultHeap(nq, k, keep_max=metric != "l2")
    fmetric = engine.faiss_metric(metric)
    step = max(1, _BLOCK_BYTES // (vectors.shape[1] * 4))
    for start in range(0, len(rows), step):
        part = rows[start : start + step]
        block = np.ascontiguousarray(vectors[part], dtype=np.float32)
        kk = min(k, len(part))
        distances, labels = faiss.knn(queries, block, kk, metric=fmetric)
        labels = np.where(labels >= 0, part[np.maximum(labels, 0)], -1)
        if kk < k:
            fill = np.inf if metric == "l2" else -np.inf
            distances = np.hstack([distances, np.full((nq, k - kk), fill, "float32")])
            labels = np.hstack([labels, np.full((nq, k - kk), -1, "int64")])
        heap.add_result(np.ascontiguousarray(distances), np.ascontiguousarray(labels))
    heap.finalize()
    scores = engine.to_scores(heap.D, metric).astype(np.float32)
    scores[heap.I < 0] = -np.inf
    return scores, heap.I


def filtered_search(
    index: faiss.Index,
    kind: str,
    vectors: np.ndarray,
    queries: np.ndarray,
    k: int,
    params: engine.SearchParams,
    metric: str,
    selection: Selection,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k ``(scores, rows)`` of each query among the selected rows only."""
    nq = queries.shape[0]
    if not len(selection):
        return _empty(nq, max(1, k))
    path = selection.path(kind, vectors.shape[1])
    if path == "exact":
        selection.gathered(vectors)  # made on all threads, once
        with _threads_for(nq):
            return _exact(vectors, selection, queries, k, metric)
    k = max(1, min(k, len(selection)))
    if path == "scan":
        quantized = selection.quantized(vectors, metric)
        depth = min(len(selection), max(_SCAN_DEPTH, 10 * k))
        with _threads_for(nq):
            _d, local = quantized.search(queries, depth)
        candidates = np.where(local >= 0, selection.rows[np.maximum(local, 0)], -1)
        return engine.rerank(vectors, queries, candidates, k, metric)
    widen = 1.0 / max(selection.fraction, 1e-9)
    sel = selection.selector()
    search_params: Any
    if kind in ("ivf", "ivfpq"):
        nlist = faiss.extract_index_ivf(index).nlist
        nprobe = min(nlist, max(1, math.ceil((params.nprobe or 1) * widen)))
        search_params = faiss.SearchParametersIVF(sel=sel, nprobe=nprobe)  # type: ignore[call-arg]
        if kind == "ivfpq":
            depth = min(len(selection), (k + 1) * max(1, params.rerank or 1))
            _d, candidates = index.search(queries, depth, params=search_params)
            return engine.rerank(vectors, queries, candidates, k, metric)
    elif kind == "hnsw":
        ef = min(_MAX_EF, max(k, math.ceil((params.ef_search or 64) * widen)))
        search_params = faiss.SearchParametersHNSW(sel=sel, efSearch=ef)  # type: ignore[attr-defined]
    else:  # pragma: no cover - flat is always exact
        search_params = faiss.SearchParameters(sel=sel)  # type: ignore[call-arg]
    distances, labels = index.search(queries, k, params=search_params)
    scores = engine.to_scores(distances, metric).astype(np.float32)
    scores[labels < 0] = -np.inf
    return scores, labels


def selected_scores(
    vectors: np.ndarray, selection: Selection, query: np.ndarray, metric: str
) -> np.ndarray:
    """Exact scores of the selected rows against one query, in ``selection.rows`` order."""
    rows = selection.rows
    out = np.empty(len(rows), dtype=np.float32)
    step = max(1, _BLOCK_BYTES // (vectors.shape[1] * 4))
    for start in range(0, len(rows), step):
        out[start : start + step] = engine.exact_scores(
            vectors, rows[start : start + step], query, metric
        )
    return out
