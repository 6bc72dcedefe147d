"""Pairs of rows scoring at least a threshold, for ``duplicates``: exact or partitioned.

Two ways, chosen by size (``exact`` overrides):

- **exact** (at most :data:`EXACT_MAX` rows): every pair is scored, a block of rows
  against the rows after it, as matrix products.
- **partitioned** (more rows): the rows are split into ``nlist`` ~ sqrt(n) cells by a
  seeded k-means; each row is compared, as one matrix product a cell, with the members
  of the ``p`` cells nearest to it (its *probes*). A pair is found when either row
  probes the other's cell. ``p`` is chosen by measuring, before the search, on rows
  drawn with the seed: the smallest ``p`` whose pair recall reaches the target (a
  one-sided 95% lower bound) both on *made-up* pairs placed exactly at the threshold
  around the drawn rows (so it is measured even where the data holds no near-duplicates)
  and, when the drawn rows have at least :data:`REAL_MIN` real pairs, on those (found by
  exact search). Near-duplicates are far closer than typical neighbours, so a few
  probes find them even where a k-nearest-neighbour search would need most cells.
  Only the drawn rows are assigned to cells before ``p`` is chosen; then every row is,
  once, ``p`` cells deep. The work is one batched FAISS range search per cell and tile
  (the threshold applied in C++ on every core), no Python per row or pair: about
  ``n x p x n / nlist`` products, ~5 probes at 1M x 512 whether the rows cluster or not.

Either way every pair kept is re-scored one by one from the stored vectors (the same
arithmetic whichever cell or block found it), so the scores and the pairs above the
threshold do not depend on the blocking or the thread count.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import faiss
import numpy as np

from . import _engine as engine

__all__ = ["EXACT_MAX", "PairSearch", "threshold_pairs"]

#: Up to this many rows every pair is scored.
EXACT_MAX = 20_000
#: Probe counts tried, smallest first.
PROBES = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32)
#: Rows drawn to measure the pair recall of each probe count: made-up pairs around
#: :data:`SAMPLE` rows (cheap: one cell lookup each) and real pairs of the first
#: :data:`REAL_SAMPLE` of them (an exact scan of every row each).
SAMPLE = 2048
REAL_SAMPLE = 512
#: Real pairs among the drawn rows needed before they count in the choice.
REAL_MIN = 20
#: Rows a matrix product takes at a time (queries x members).
_ROWS = 4096
_COLS = 8192


@dataclass(frozen=True)
class PairSearch:
    """How the pairs were found, and the pair recall measured before the search."""

    method: str
    rows: int
    cells: int = 0
    probes: int = 0
    #: Pair recall of the chosen probes: on made-up pairs at the threshold, and on the
    #: real pairs of the drawn rows (``None`` when too few).
    recall_made_up: float = 1.0
    recall_real: float | None = None
    real_pairs: int = 0
    tried: tuple[dict[str, Any], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """A plain dict for JSON output."""
        out: dict[str, Any] = {"method": self.method, "rows": self.rows}
        if self.method == "partitioned":
            out.update(
                cells=self.cells,
                probes=self.probes,
                recall_made_up_pairs=round(self.recall_made_up, 4),
                recall_real_pairs=None if self.recall_real is None else round(self.recall_real, 4),
                real_pairs_sampled=self.real_pairs,
                tried=list(self.tried),
            )
        return out


def _bound(hits: int, total: int) -> float:
    """One-sided 95% lower bound of a proportion (normal approximation, as the tuning)."""
    if total == 0:
        return 1.0
    p = hits / total
    return p - 1.645 * math.sqrt(max(p * (1 - p), 0.0) / total)


def _candidate_cut(threshold: float, metric: str) -> float:
    """The bound a matrix-product value must pass to be re-scored (a little slack).

    cosine / ip: a dot product; l2: a squared distance (kept when at most the cut)."""
    if metric == "l2":
        return threshold * threshold * (1 + 1e-4) + 1e-9
    return threshold - 1e-4 * max(1.0, abs(threshold))


def _block_candidates(
    q: np.ndarray, m: np.ndarray, cut: float, metric: str
) -> tuple[np.ndarray, np.ndarray]:
    """(query index, member index) of the products passing the cut: a FAISS range search
    over the members (one matrix product a tile, the cut applied in C++ on every core)."""
    index = faiss.IndexFlatL2(m.shape[1]) if metric == "l2" else faiss.IndexFlatIP(m.shape[1])
    index.add(m)
    lims, _distances, labels = index.range_search(q, cut)
    queries = np.repeat(np.arange(len(q), dtype=np.int64), np.diff(lims).astype(np.int64))
    return queries, labels.astype(np.int64)


def rescore(vectors: np.ndarray, a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
    """Exact scores of row pairs (a[i], b[i]), each on its own (float32, as FAISS)."""
    out = np.empty(len(a), dtype=np.float32)
    step = 65536
    for start in range(0, len(a), step):
        x = np.asarray(vectors[a[start : start + step]], dtype=np.float32)
        y = np.asarray(vectors[b[start : start + step]], dtype=np.float32)
        if metric == "l2":
            diff = x - y
            out[start : start + step] = -np.sqrt(np.einsum("ij,ij->i", diff, diff))
        else:
            out[start : start + step] = np.einsum("ij,ij->i", x, y)
    return out


def _exact(
    vectors: np.ndarray,
    rows: np.ndarray,
    cut: float,
    metric: str,
    progress: Callable[[int], None] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (local indexes i < j) of the rows passing the cut."""
    matrix = np.ascontiguousarray(vectors[rows], dtype=np.float32)
    found_a: list[np.ndarray] = []
    found_b: list[np.ndarray] = []
    n = len(rows)
    for start in range(0, n, _ROWS):
        stop = min(n, start + _ROWS)
        q = matrix[start:stop]
        for col in range(start, n, _COLS):
            end = min(n, col + _COLS)
            qi, mi = _block_candidates(q, matrix[col:end], cut, metric)
            a, b = qi + start, mi + col
            keep = a < b
            found_a.append(a[keep])
            found_b.append(b[keep])
        if progress:
            progress(stop - start)
    return _joined(found_a), _joined(found_b)


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts).astype(np.int64) if parts else np.empty(0, np.int64)


def _probes(
    quantizer: faiss.Index, vectors: np.ndarray, rows: np.ndarray, depth: int
) -> np.ndarray:
    """The ``depth`` nearest cells of each row, nearest first (int32)."""
    out = np.empty((len(rows), depth), dtype=np.int32)
    if not len(rows):
        return out
    step = 65536
    for start in range(0, len(rows), step):
        block = np.ascontiguousarray(vectors[rows[start : start + step]], dtype=np.float32)
        _d, labels = quantizer.search(block, depth)
        out[start : start + len(block)] = labels
    return out


def _needed(own: np.ndarray, other_cell: np.ndarray) -> np.ndarray:
    """Per pair, 1 + the position of the other row's cell in this row's probes (big if absent)."""
    hit = own == other_cell[:, None]
    first = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, 1 << 30)
    return first


def _made_up_partners(
    sample: np.ndarray, threshold: float, metric: str, rng: np.random.Generator
) -> np.ndarray | None:
    """For each drawn vector, a made-up one scoring exactly the threshold with it."""
    d = sample.shape[1]
    direction = rng.standard_normal(sample.shape).astype(np.float64)
    x = sample.astype(np.float64)
    if metric == "l2":
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        return (x + (-threshold) * direction).astype(np.float32)
    if metric == "cosine":
        if threshold <= -1.0 or d < 2:
            return None
        score = min(threshold, 1.0)  # above 1 only identical vectors could (in float32) pass
        direction -= (direction * x).sum(axis=1, keepdims=True) * x
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        return (score * x + math.sqrt(1 - score**2) * direction).astype(np.float32)
    return None  # ip: no made-up pairs (any length scores differently); real pairs only


def threshold_pairs(
    vectors: np.ndarray,
    rows: np.ndarray,
    threshold: float,
    metric: str,
    *,
    exact: bool | None = None,
    target: float = 0.95,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, PairSearch]:
    """Pairs ``(a, b, scores)`` of ``rows`` (a < b, sorted) scoring at least ``threshold``.

    ``vectors`` may be memory-mapped; ``rows`` are sorted row numbers to look among.
    ``exact`` None chooses by size (:data:`EXACT_MAX`); ``target`` is the pair recall the
    partitioned search's probes are chosen for.
    """
    rows = np.asarray(rows, dtype=np.int64)
    n = len(rows)
    cut = _candidate_cut(threshold, metric)
    if metric == "l2" and threshold > 0:  # a negated distance is never positive
        empty = np.empty(0, np.int64)
        if progress:
            progress(n)
        return empty, empty, np.empty(0, np.float32), PairSearch("exact", n)
    if exact is None:
        exact = n <= EXACT_MAX
    if exact or n < 2 * engine.IVF_MIN:
        a, b = _exact(vectors, rows, cut, metric, progress)
        info = PairSearch("exact", n)
    else:
        a, b, info = _partitioned(vectors, rows, threshold, cut, metric, target, seed, progress)
    ga, gb = rows[a], rows[b]
    scores = rescore(vectors, ga, gb, metric)
    keep = scores >= threshold
    ga, gb, scores = ga[keep], gb[keep], scores[keep]
    order = np.lexsort((gb, ga))
    return ga[order], gb[order], scores[order], info


def _partitioned(
    vectors: np.ndarray,
    rows: np.ndarray,
    threshold: float,
    cut: float,
    metric: str,
    target: float,
    seed: int,
    progress: Callable[[int], None] | None,
) -> tuple[np.ndarray, np.ndarray, PairSearch]:
    n = len(rows)
    d = vectors.shape[1]
    rng = np.random.default_rng(seed)
    nlist = engine.choose_nlist(n)
    train = np.sort(rng.choice(n, size=min(n, nlist * engine.TRAIN_PER_LIST), replace=False))
    kmeans = faiss.Kmeans(d, nlist, niter=10, seed=seed, max_points_per_centroid=256)
    kmeans.train(np.ascontiguousarray(vectors[rows[train]], dtype=np.float32))
    quantizer = kmeans.index
    depth = min(PROBES[-1], nlist)
    p, info = _choose_probes(vectors, rows, quantizer, depth, threshold, cut, metric, target, rng)
    # One pass over every row for its p nearest cells (the fewer, the cheaper the heap).
    probes = _probes(quantizer, vectors, rows, p)
    cell = probes[:, 0].astype(np.int64)
    # Queries of each cell: the rows probing it (first p probes), grouped by cell.
    flat_cells = probes[:, :p].reshape(-1).astype(np.int64)
    flat_rows = np.repeat(np.arange(n, dtype=np.int64), p)
    order = np.argsort(flat_cells, kind="stable")
    q_bounds = np.searchsorted(flat_cells[order], np.arange(nlist + 1))
    q_sorted = flat_rows[order]
    m_order = np.argsort(cell, kind="stable")
    m_bounds = np.searchsorted(cell[m_order], np.arange(nlist + 1))
    found_a: list[np.ndarray] = []
    found_b: list[np.ndarray] = []
    for c in range(nlist):
        members = m_order[m_bounds[c] : m_bounds[c + 1]]
        queries = q_sorted[q_bounds[c] : q_bounds[c + 1]]
        if len(members) and len(queries):
            m_mat = np.ascontiguousarray(vectors[rows[members]], dtype=np.float32)
            for start in range(0, len(queries), _ROWS):
                q_idx = queries[start : start + _ROWS]
                q_mat = np.ascontiguousarray(vectors[rows[q_idx]], dtype=np.float32)
                for col in range(0, len(members), _COLS):
                    qi, mi = _block_candidates(q_mat, m_mat[col : col + _COLS], cut, metric)
                    a, b = q_idx[qi], members[mi + col]
                    keep = a != b
                    found_a.append(np.minimum(a[keep], b[keep]))
                    found_b.append(np.maximum(a[keep], b[keep]))
        if progress and len(members):
            progress(len(members))
    a, b = _joined(found_a), _joined(found_b)
    if len(a):
        keys = np.unique(a * n + b)
        a, b = keys // n, keys % n
    info = PairSearch(
        "partitioned",
        n,
        cells=nlist,
        probes=p,
        recall_made_up=info.recall_made_up,
        recall_real=info.recall_real,
        real_pairs=info.real_pairs,
        tried=info.tried,
    )
    return a, b, info


def _choose_probes(
    vectors: np.ndarray,
    rows: np.ndarray,
    quantizer: faiss.Index,
    depth: int,
    threshold: float,
    cut: float,
    metric: str,
    target: float,
    rng: np.random.Generator,
) -> tuple[int, PairSearch]:
    """The fewest probes whose pair recall on drawn rows reaches ``target``.

    Only the drawn rows (and the partners of their real pairs) are assigned to cells
    here, ``depth`` deep; the caller assigns every row once, as deep as chosen.
    """
    n = len(rows)
    drawn_all = np.sort(rng.choice(n, size=min(n, SAMPLE), replace=False))
    sample = np.ascontiguousarray(vectors[rows[drawn_all]], dtype=np.float32)
    _d, drawn_probes = quantizer.search(sample, depth)
    # Made-up partners exactly at the threshold: the hardest pairs to find.
    partners = _made_up_partners(sample, threshold, metric, rng)
    made_up = np.empty(0, dtype=np.int64)
    if partners is not None:
        _d, partner_probes = quantizer.search(partners, depth)
        made_up = np.minimum(
            _needed(drawn_probes, partner_probes[:, 0]),
            _needed(partner_probes, drawn_probes[:, 0]),
        )
    # Real pairs of some drawn rows, by exact search over every row.
    picked = np.sort(rng.permutation(len(drawn_all))[:REAL_SAMPLE])
    drawn = drawn_all[picked]
    sample = np.ascontiguousarray(vectors[rows[drawn]], dtype=np.float32)
    real_a: list[np.ndarray] = []
    real_b: list[np.ndarray] = []
    for start in range(0, n, _COLS):
        block = np.ascontiguousarray(vectors[rows[start : start + _COLS]], dtype=np.float32)
        qi, mi = _block_candidates(sample, block, cut, metric)
        real_a.append(drawn[qi])
        real_b.append(mi + start)
    ra, rb = _joined(real_a), _joined(real_b)
    keep = ra != rb
    ra, rb = ra[keep], rb[keep]
    if len(ra):
        scores = rescore(vectors, rows[ra], rows[rb], metric)
        keep = scores >= threshold
        ra, rb = ra[keep], rb[keep]
    # Each row of a real pair, assigned to its cells (rows probed once each).
    involved, where = np.unique(np.concatenate([ra, rb]), return_inverse=True)
    pair_probes = _probes(quantizer, vectors, rows[involved], depth)
    pa, pb = pair_probes[where[: len(ra)]], pair_probes[where[len(ra) :]]
    real = np.minimum(_needed(pa, pb[:, 0]), _needed(pb, pa[:, 0]))
    use_real = len(real) >= REAL_MIN
    tried: list[dict[str, Any]] = []
    chosen = None
    for p in [x for x in PROBES if x < depth] + [depth]:
        made_up_hits = int((made_up <= p).sum())
        real_hits = int((real <= p).sum())
        entry: dict[str, Any] = {"probes": p}
        # Nothing to measure (ip without enough real pairs): every probe there is.
        ok = bool(len(made_up) or use_real)
        if len(made_up):
            entry["recall_made_up_pairs"] = round(made_up_hits / len(made_up), 4)
            ok = ok and _bound(made_up_hits, len(made_up)) >= target
        if use_real:
            entry["recall_real_pairs"] = round(real_hits / len(real), 4)
            ok = ok and _bound(real_hits, len(real)) >= target
        tried.append(entry)
        chosen = (p, made_up_hits, real_hits)
        if ok:
            break
    assert chosen is not None
    p, made_up_hits, real_hits = chosen
    return p, PairSearch(
        "partitioned",
        n,
        probes=p,
        recall_made_up=made_up_hits / len(made_up) if len(made_up) else 1.0,
        recall_real=real_hits / len(real) if use_real else None,
        real_pairs=len(real),
        tried=tuple(tried),
    )
