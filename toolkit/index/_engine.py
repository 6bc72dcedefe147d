"""FAISS underneath: choosing an index, training it, searching it, tuning its search.

Conventions: vectors are float32 ``(n, d)``; ``D, I`` are FAISS's distances and
labels (labels are row numbers of ``vectors.npy``); a *score* is always "higher is
more similar": the cosine similarity, the inner product, or the negated Euclidean
distance.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import mmap
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

# Idle OpenMP threads sleep instead of spinning: on a busy machine, spinning
# threads waiting for a descheduled one made small FAISS jobs (PQ training) 5-7x
# slower. Only takes effect if FAISS is first imported here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import faiss  # noqa: E402
import numpy as np  # noqa: E402

from ..errors import LimitError, SchemaError, param

log = logging.getLogger(__name__)

METRICS = ("cosine", "ip", "l2")
KINDS = ("auto", "flat", "ivf", "ivfpq", "hnsw")

#: ``auto`` searches exactly below this many vectors.
FLAT_MAX = 50_000
#: Vectors per IVF list when training (FAISS warns below 39).
TRAIN_PER_LIST = 40
#: Fewest vectors an IVF index is built for.
IVF_MIN = 64
#: Nearest neighbours the tuning aims at (recall@10).
TUNE_K = 10
#: Queries the tuning draws from the collection.
TUNE_QUERIES = 256
#: HNSW graph degree and construction depth.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 64

#: ``auto`` looks past IVF when the tuning needs more than this share of the lists.
MOST_LISTS = 0.5
#: Rows an HNSW graph is first tried on before one is built over every row (and five
#: times as many, when the collection has more than ten times as many).
HNSW_TRIAL = 20_000
#: Queries timed one at a time when ``auto`` compares kinds: at most this many, and at
#: least :data:`LATENCY_MIN_QUERIES` (more while under :data:`LATENCY_SECONDS` spent).
LATENCY_QUERIES = 128
LATENCY_MIN_QUERIES = 32
LATENCY_SECONDS = 3.0

_NPROBES = (1, 2, 3, 4, 6, 8, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 384, 512)
_EF_SEARCH = (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)
#: Re-ranking depths tried for ``ivfpq``, as multiples of k.
_RERANK = (4, 8, 16, 32, 64)

_threads_set = False


def configure_threads() -> int:
    """Let FAISS use the cores this process may run on, never more (OMP_NUM_THREADS wins)."""
    global _threads_set
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    wanted = cores
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        wanted = min(int(env), cores)
    if not _threads_set or faiss.omp_get_max_threads() > wanted:
        faiss.omp_set_num_threads(max(1, wanted))
        _threads_set = True
    return max(1, wanted)


def faiss_metric(metric: str) -> int:
    """The FAISS metric constant for a toolkit metric name."""
    return faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT


def to_scores(distances: np.ndarray, metric: str) -> np.ndarray:
    """FAISS distances to scores (higher is more similar)."""
    if metric == "l2":
        return np.asarray(-np.sqrt(np.maximum(distances, 0.0)))
    return distances


# -- planning ------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What to build: the kind, its FAISS factory string and the RAM the index needs."""

    kind: str
    factory: str
    estimated_bytes: int
    nlist: int = 0
    pq_m: int = 0
    reason: str = ""

    def params(self) -> dict[str, Any]:
        """Build parameters for the sidecar."""
        out: dict[str, Any] = {"factory": self.factory}
        if self.nlist:
            out["nlist"] = self.nlist
        if self.pq_m:
            out.update(pq_m=self.pq_m, pq_bits=4, rerank_from="vectors.npy")
        if self.kind == "hnsw":
            out.update(hnsw_m=HNSW_M, ef_construction=HNSW_EF_CONSTRUCTION)
        return out


def choose_nlist(n: int, *, fast_scan: bool = False) -> int:
    """IVF lists: the power of two nearest sqrt(n), with at least 40 training vectors each.

    ``fast_scan`` (4-bit PQ fast-scan codes, ``ivfpq``): the power of two nearest
    sqrt(n) / 2. Such a list holds a few bytes a vector that SIMD scans in about a
    nanosecond each, so lists twice as long cost the search little, while building
    (assigning every vector to its list: n x nlist x d) takes half the work. Measured
    on 1M x 512 (decaying spectrum, 2 cores): 512 lists against 1,024 built in 11 s
    of training and adding instead of 19 s, with a tuned single query of 0.70 ms
    against 0.66 ms at recall@10 0.95.
    """
    root = math.sqrt(n) / 2 if fast_scan else math.sqrt(n)
    nlist = 2 ** round(math.log2(max(1.0, root)))
    while nlist > 1 and nlist * TRAIN_PER_LIST > n:
        nlist //= 2
    return int(max(1, min(nlist, 65536)))


def _pq_choices(d: int) -> list[int]:
    """Sub-quantiser counts for 4-bit PQ: divisors of d from d/2 down to d/32 (at least 4)."""
    top = max(1, d // 2)
    out = [m for m in range(top, 0, -1) if d % m == 0 and m >= min(4, top)]
    low = max(4, d // 32) if d >= 8 else 1
    return [m for m in out if m >= low] or [top]


def estimate_bytes(kind: str, n: int, d: int, *, nlist: int = 0, pq_m: int = 0) -> int:
    """RAM the FAISS index of a kind takes for n vectors of d dimensions (roughly)."""
    if kind == "flat":
        return n * d * 4
    if kind == "ivf":
        return n * (d * 4 + 8) + nlist * d * 4
    if kind == "ivfpq":
        return n * ((pq_m + 1) // 2 + 8) + nlist * d * 4 + pq_m * 16 * (d // max(pq_m, 1)) * 4
    if kind == "hnsw":
        return n * (d * 4 + HNSW_M * 2 * 4 + 16)
    raise ValueError(kind)


#: How errors name the memory budget (the CLI: ``--memory-budget``).
_BUDGET = param("memory_budget", None)


def plan_index(
    kind: str, n: int, d: int, *, memory_budget: int | None = None, flat_max: int = FLAT_MAX
) -> Plan:
    """Choose what to build (the ``auto`` rule lives here).

    ``auto``: exact ``flat`` search below ``flat_max`` vectors when it fits the
    budget; otherwise ``ivfpq``: an inverted file with nlist ~ sqrt(n) / 2 lists and
    4-bit product-quantisation fast-scan codes of d/2 bytes a vector, searched
    with exact re-ranking of the candidates from ``vectors.npy``. When the memory
    budget is smaller, the codes shrink (d/4, d/8, ... bytes) and the re-ranking
    gets deeper. Vectors with fewer than 16 dimensions get ``ivf`` (uncompressed).
    """
    budget = memory_budget if memory_budget is not None else None
    nlist = choose_nlist(n)
    fast_nlist = choose_nlist(n, fast_scan=True)

    def fits(size: int) -> bool:
        return budget is None or size <= budget

    if kind == "auto":
        flat_size = estimate_bytes("flat", n, d)
        if n < flat_max and fits(flat_size):
            return Plan("flat", "Flat", flat_size, reason=f"{n} vectors < {flat_max}: exact search")
        if n < IVF_MIN:
            raise LimitError(
                f"the memory budget of {budget} bytes is too small for {n} vectors "
                f"({flat_size} bytes needed); raise {_BUDGET}",
                params=[_BUDGET],
            )
        if d < 16:
            size = estimate_bytes("ivf", n, d, nlist=nlist)
            if fits(size):
                return Plan("ivf", f"IVF{nlist},Flat", size, nlist=nlist, reason="d < 16")
            raise LimitError(
                f"the memory budget of {budget} bytes is too small for {n} x {d} vectors "
                f"({size} bytes needed); raise {_BUDGET}",
                params=[_BUDGET],
            )
        for pq_m in _pq_choices(d):
            size = estimate_bytes("ivfpq", n, d, nlist=fast_nlist, pq_m=pq_m)
            if fits(size):
                why = f"{n} vectors >= {flat_max}" if n >= flat_max else "flat over budget"
                return Plan(
                    "ivfpq",
                    f"IVF{fast_nlist},PQ{pq_m}x4fs",
                    size,
                    nlist=fast_nlist,
                    pq_m=pq_m,
                    reason=why,
                )
        smallest = estimate_bytes("ivfpq", n, d, nlist=fast_nlist, pq_m=_pq_choices(d)[-1])
        raise LimitError(
            f"the memory budget of {budget} bytes is too small for {n} x {d} vectors: the "
            f"smallest index needs about {smallest} bytes; raise {_BUDGET}",
            params=[_BUDGET],
        )
    if kind == "flat":
        plan = Plan("flat", "Flat", estimate_bytes("flat", n, d), reason="asked for")
    elif kind == "hnsw":
        plan = Plan("hnsw", f"HNSW{HNSW_M},Flat", estimate_bytes("hnsw", n, d), reason="asked for")
    elif kind in ("ivf", "ivfpq"):
        if n < IVF_MIN:
            asked, flat = param("kind", kind), param("kind", "flat")
            raise SchemaError(
                f"only {n} vectors: {asked} needs at least {IVF_MIN}; use {flat} (or auto)",
                params=[asked, flat],
            )
        if kind == "ivf":
            size = estimate_bytes("ivf", n, d, nlist=nlist)
            plan = Plan("ivf", f"IVF{nlist},Flat", size, nlist=nlist, reason="asked for")
        else:
            choices = _pq_choices(d)
            pq_m = next(
                (
                    m
                    for m in choices
                    if fits(estimate_bytes("ivfpq", n, d, nlist=fast_nlist, pq_m=m))
                ),
                choices[-1],
            )
            size = estimate_bytes("ivfpq", n, d, nlist=fast_nlist, pq_m=pq_m)
            plan = Plan(
                "ivfpq",
                f"IVF{fast_nlist},PQ{pq_m}x4fs",
                size,
                nlist=fast_nlist,
                pq_m=pq_m,
                reason="asked for",
            )
    else:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    if not fits(plan.estimated_bytes):
        auto = param("kind", "auto")
        raise LimitError(
            f"a {plan.kind} index of {n} x {d} vectors needs about {plan.estimated_bytes} bytes, "
            f"over the memory budget of {budget}; raise {_BUDGET} or use {auto}",
            params=[_BUDGET, auto],
        )
    return plan


# -- building --------------------------------------------------------------------


def iter_blocks(vectors: np.ndarray, block: int = 65536) -> Iterator[tuple[int, np.ndarray]]:
    """``(start, rows)`` blocks of a (memory-mapped) matrix, as contiguous arrays."""
    for start in range(0, vectors.shape[0], block):
        yield start, np.ascontiguousarray(vectors[start : start + block])


def flat_rows(index: faiss.Index) -> np.ndarray:
    """The ``(n, d)`` rows an exact (flat) index holds, as a view of its own memory."""
    flat = faiss.downcast_index(index)
    n, d = int(flat.ntotal), int(flat.d)
    if not n:
        return np.empty((0, d), dtype=np.float32)
    xb = flat.get_xb()  # type: ignore[attr-defined]
    rows: np.ndarray = faiss.rev_swig_ptr(xb, n * d).reshape(n, d)
    return rows


def release_pages(vectors: np.ndarray) -> None:
    """Unmap the pages of a read-only memory-mapped matrix from this process (they stay
    in the page cache, and are mapped again when read): its resident memory drops."""
    mapping = getattr(vectors, "_mmap", None)
    if mapping is None or not hasattr(mmap, "MADV_DONTNEED"):
        return
    with contextlib.suppress(OSError, ValueError):
        mapping.madvise(mmap.MADV_DONTNEED)


def new_index(plan: Plan, d: int, metric: str) -> faiss.Index:
    """An empty, untrained FAISS index for a plan."""
    index = faiss.index_factory(d, plan.factory, faiss_metric(metric))
    if plan.kind == "hnsw":
        faiss.downcast_index(index).hnsw.efConstruction = HNSW_EF_CONSTRUCTION  # type: ignore[attr-defined]
    return index


def train_and_add(
    plan: Plan,
    vectors: np.ndarray,
    metric: str,
    *,
    train_rows: np.ndarray,
    seed: int,
    note: Callable[[str], None] | None = None,
) -> faiss.Index:
    """Build the FAISS index for ``plan`` over every row of ``vectors``."""
    n, d = vectors.shape
    index = new_index(plan, d, metric)
    if plan.kind in ("ivf", "ivfpq"):
        ivf = faiss.extract_index_ivf(index)
        ivf.cp.niter = 10
        ivf.cp.seed = seed
        ivf.cp.max_points_per_centroid = 256
        sample = np.ascontiguousarray(vectors[np.sort(train_rows)])
        if note:
            note(f"training {plan.factory} on {len(sample)} vectors")
        started = time.perf_counter()
        # The coarse k-means is one big matrix product a round: all cores. The PQ is
        # many tiny k-means: one thread is faster than two there. Fast-scan codes
        # (by_residual off) do not depend on the lists, so the PQ trains in a thread of
        # its own meanwhile, on the core the k-means leaves idle at times.
        apart = plan.kind == "ivfpq" and not ivf.by_residual
        with ThreadPoolExecutor(1, thread_name_prefix="train-pq") as pool:
            codes = pool.submit(_train_codes_alone, plan, d, metric, sample) if apart else None
            clustering = faiss.Clustering(d, plan.nlist, ivf.cp)
            clustering.train(sample, ivf.quantizer)
            ivf.quantizer.is_trained = True
            if codes is not None:
                _take_codes(index, codes.result())
            elif plan.kind == "ivfpq":
                with one_thread():
                    index.train(sample)  # the quantizer is trained: this trains the PQ only
            else:
                index.train(sample)
        pq: Any = getattr(faiss.downcast_index(ivf), "pq", None) if plan.kind == "ivfpq" else None
        if hasattr(pq, "sync_transposed_centroids"):
            # The transposed copy of the PQ centroids lets FAISS encode a vector a third
            # faster (it is not written with the index).
            pq.sync_transposed_centroids()
        log.info("trained %s in %.1f s", plan.factory, time.perf_counter() - started)
    if note:
        note(f"adding {n} vectors to {plan.factory}")
    if plan.kind == "flat" and n:
        # An exact index is its rows: sized once (adding block by block grows its
        # buffer by doubling, holding the old one meanwhile: 1.5x the vectors), then
        # filled block by block; the same bytes as adding them.
        flat = faiss.downcast_index(index)
        flat.codes.resize(n * d * 4)  # type: ignore[attr-defined]
        flat.ntotal = n
        rows_of_index = flat_rows(flat)
        for start, rows in iter_blocks(vectors):
            rows_of_index[start : start + len(rows)] = rows
            release_pages(vectors)
        return index
    # Kinds that keep the vectors themselves (all but ivfpq) would otherwise hold them
    # twice: in the index and in the pages of a memory-mapped source, read once here.
    holds_vectors = plan.kind != "ivfpq"
    for _start, rows in iter_blocks(vectors):
        index.add(rows)
        if holds_vectors:
            release_pages(vectors)
    return index


def _train_codes_alone(plan: Plan, d: int, metric: str, sample: np.ndarray) -> faiss.Index:
    """An index of ``plan`` (ivfpq, fast-scan) whose PQ is trained on ``sample`` exactly as
    ``index.train`` trains it once the coarse quantizer is trained: its quantizer holds
    placeholder centroids, which FAISS then leaves alone (the codes never look at them)."""
    with one_thread():
        index = new_index(plan, d, metric)
        ivf = faiss.extract_index_ivf(index)
        ivf.quantizer.add(np.zeros((plan.nlist, d), dtype=np.float32))
        index.train(sample)
    return index


def _take_codes(index: faiss.Index, trained: faiss.Index) -> None:
    """Give ``index`` (its coarse quantizer trained) the PQ trained by
    :func:`_train_codes_alone`: it is then trained as ``index.train`` would leave it."""
    ivf = faiss.downcast_index(faiss.extract_index_ivf(index))
    ivf.pq = faiss.downcast_index(faiss.extract_index_ivf(trained)).pq  # type: ignore[attr-defined]
    ivf.is_trained = True
    index.is_trained = True


def train_sample(n: int, nlist: int, exclude: np.ndarray, seed: int) -> np.ndarray:
    """Rows to train on: up to 40 per list, drawn without the tuning queries when possible."""
    rng = np.random.default_rng(seed + 1)
    want = min(n, max(nlist * TRAIN_PER_LIST, 16 * 39))
    pool = np.setdiff1d(np.arange(n), exclude, assume_unique=True) if len(exclude) else None
    if pool is None or len(pool) < want:
        pool = np.arange(n)
    if len(pool) <= want:
        return pool
    return np.sort(rng.choice(pool, size=want, replace=False))


# -- searching ---------------------------------------------------------------------


def ivf_params(nprobe: int, index: Any = None) -> Any:
    """Per-call IVF search parameters (FAISS's own type hints lack the keyword).

    With ``index``, ``nprobe`` is capped at its number of lists: probing more is the
    same search, and a huge value (an edited sidecar, ``--nprobe 10**20``) would
    otherwise overflow FAISS's ``size_t`` or size its buffers.
    """
    if index is not None:
        with contextlib.suppress(RuntimeError, AttributeError):
            nprobe = min(nprobe, int(faiss.extract_index_ivf(index).nlist))
    return faiss.SearchParametersIVF(nprobe=max(1, nprobe))  # type: ignore[call-arg]


def hnsw_params(ef_search: int) -> Any:
    """Per-call HNSW search parameters."""
    return faiss.SearchParametersHNSW(efSearch=ef_search)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SearchParams:
    """Search-time settings; 0 means "not used by this kind"."""

    nprobe: int = 0
    rerank: int = 0
    ef_search: int = 0

    def to_dict(self) -> dict[str, int]:
        """Only the settings this kind uses."""
        return {k: v for k, v in vars(self).items() if v}

    @classmethod
    def from_dict(cls, value: dict[str, Any] | None) -> SearchParams:
        """From the sidecar's ``search_params``."""
        value = value or {}
        return cls(
            nprobe=int(value.get("nprobe", 0)),
            rerank=int(value.get("rerank", 0)),
            ef_search=int(value.get("ef_search", 0)),
        )


def exact_scores(
    vectors: np.ndarray, rows: np.ndarray, query: np.ndarray, metric: str
) -> np.ndarray:
    """Exact scores of some rows against one query."""
    block = vectors[rows]
    if metric == "l2":
        return np.asarray(-np.sqrt(np.maximum(((block - query) ** 2).sum(axis=1), 0.0)))
    return np.asarray(block @ query)


def ann_search(
    index: faiss.Index,
    kind: str,
    vectors: np.ndarray,
    queries: np.ndarray,
    k: int,
    params: SearchParams,
    metric: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k ``(scores, rows)`` of each query; rows are -1 (score -inf) where fewer exist.

    Equal scores come by row number, whatever order FAISS's heap (which differs between
    its SIMD paths and versions) left them in; a few more than k are asked for, so that a
    tie at the k-th place is settled by row number too.
    """
    nq = queries.shape[0]
    k = max(1, min(k, index.ntotal)) if index.ntotal else 1
    if index.ntotal == 0:
        return np.full((nq, k), -np.inf, dtype=np.float32), np.full((nq, k), -1, dtype=np.int64)
    wide = min(k + _TIE_SLACK, index.ntotal)
    if kind == "flat":
        distances, labels = index.search(queries, wide)
    elif kind == "ivf":
        distances, labels = index.search(queries, wide, params=ivf_params(params.nprobe, index))
    elif kind == "hnsw":
        # efSearch past the vector count explores nothing more; capped, a huge value
        # cannot size FAISS's candidate lists.
        ef = max(min(params.ef_search or 64, index.ntotal), wide)
        distances, labels = index.search(queries, wide, params=hnsw_params(ef))
    elif kind == "ivfpq":
        depth = min(index.ntotal, (k + 1) * max(1, params.rerank or 1))
        _d, candidates = index.search(queries, depth, params=ivf_params(params.nprobe, index))
        return rerank(vectors, queries, candidates, k, metric)
    else:  # pragma: no cover - validated earlier
        raise ValueError(kind)
    scores = to_scores(distances, metric).astype(np.float32)
    scores[labels < 0] = -np.inf
    return _best_first(scores, labels, k)


#: Extra results asked of FAISS so that ties at the k-th place are settled by row number.
_TIE_SLACK = 8


def _best_first(scores: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best of each row of results: higher scores first, equal scores by row."""
    last = np.iinfo(np.int64).max
    order = np.lexsort((np.where(rows >= 0, rows, last), -scores), axis=-1)[:, :k]
    return np.take_along_axis(scores, order, axis=1), np.take_along_axis(rows, order, axis=1)


def rerank(
    vectors: np.ndarray, queries: np.ndarray, candidates: np.ndarray, k: int, metric: str
) -> tuple[np.ndarray, np.ndarray]:
    """Re-score candidate rows exactly from the stored vectors and keep the best k."""
    return best_candidates(rerank_scores(vectors, queries, candidates, metric), candidates, k)


def rerank_scores(
    vectors: np.ndarray, queries: np.ndarray, candidates: np.ndarray, metric: str
) -> np.ndarray:
    """Exact scores of candidate rows (``(nq, depth)``; -inf where a candidate is -1).

    Works on groups of queries at once (a gather and a batched dot product), with
    groups small enough to keep the gathered rows under ~64 MB. Each score depends on
    its row and query alone, so the scores of a prefix of the candidates are a prefix
    of these (the tuning scores the deepest candidates once for every depth it tries).
    """
    nq, depth = candidates.shape
    d = queries.shape[1]
    out = np.full((nq, depth), -np.inf, dtype=np.float32)
    group = max(1, (16 << 20) // max(1, depth * d))
    # One buffer for every group's gathered rows (a fresh array each time costs its
    # page faults again); the copies are the same values.
    gathered = np.empty((min(group, nq) * depth, d), dtype=vectors.dtype)
    for start in range(0, nq, group):
        cand = candidates[start : start + group]
        valid = cand >= 0
        rows = np.where(valid, cand, 0)
        if rows.size and int(rows.max()) >= len(vectors):  # as indexing would refuse it
            raise IndexError(f"row {int(rows.max())} is out of bounds for {len(vectors)} rows")
        picked = gathered[: rows.size]
        np.take(vectors, rows.reshape(-1), axis=0, out=picked, mode="clip")
        block = picked.reshape(rows.shape[0], depth, d)
        q = queries[start : start + group]
        if metric == "l2":
            diff = block - q[:, None, :]
            scores = -np.sqrt(np.maximum(np.einsum("qrd,qrd->qr", diff, diff), 0.0))
        else:
            scores = np.einsum("qrd,qd->qr", block, q)
        out[start : start + len(cand)] = np.where(valid, scores, -np.inf).astype(np.float32)
    return out


def best_candidates(
    scores: np.ndarray, candidates: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The k best ``(scores, rows)`` of each query's scored candidates: best first, equal
    scores by row number (so results do not depend on FAISS's order), -1 past the end."""
    nq, depth = candidates.shape
    k = min(k, depth)
    valid = candidates >= 0
    order = np.lexsort((np.where(valid, candidates, np.iinfo(np.int64).max), -scores), axis=-1)
    order = order[:, :k]
    top_scores = np.take_along_axis(scores, order, axis=1)
    top_rows = np.take_along_axis(candidates, order, axis=1)
    top_rows[~np.isfinite(top_scores)] = -1
    out_scores = np.full((nq, k), -np.inf, dtype=np.float32)
    out_rows = np.full((nq, k), -1, dtype=np.int64)
    out_scores[:] = top_scores
    out_rows[:] = top_rows
    return out_scores, out_rows


def exact_knn(
    vectors: np.ndarray, queries: np.ndarray, k: int, metric: str, *, block: int = 65536
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k ``(scores, rows)`` over all rows, a block at a time (faiss.knn + ResultHeap);
    equal scores by row number, as :func:`ann_search` gives them."""
    n = vectors.shape[0]
    want = max(1, min(k, n))
    k = min(want + _TIE_SLACK, n) if n else want
    fmetric = faiss_metric(metric)
    heap = faiss.ResultHeap(queries.shape[0], k, keep_max=metric != "l2")
    for start, rows in iter_blocks(vectors, block):
        distances, labels = faiss.knn(queries, rows, min(k, rows.shape[0]), metric=fmetric)
        labels = np.where(labels >= 0, labels + start, -1)
        if distances.shape[1] < k:
            pad = k - distances.shape[1]
            fill = np.inf if metric == "l2" else -np.inf
            distances = np.hstack([distances, np.full((len(distances), pad), fill, "float32")])
            labels = np.hstack([labels, np.full((len(labels), pad), -1, "int64")])
        heap.add_result(np.ascontiguousarray(distances), np.ascontiguousarray(labels))
    heap.finalize()
    scores = to_scores(heap.D, metric).astype(np.float32)
    scores[heap.I < 0] = -np.inf
    return _best_first(scores, heap.I, want)


def drop_self(
    rows: np.ndarray, scores: np.ndarray, own: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Remove each query's own row from its results and keep k."""
    nq = rows.shape[0]
    out_rows = np.full((nq, k), -1, dtype=np.int64)
    out_scores = np.full((nq, k), -np.inf, dtype=np.float32)
    for qi in range(nq):
        keep = (rows[qi] != own[qi]) & (rows[qi] >= 0)
        r, s = rows[qi][keep][:k], scores[qi][keep][:k]
        out_rows[qi, : len(r)] = r
        out_scores[qi, : len(s)] = s
    return out_rows, out_scores


def recall_per_query(found: np.ndarray, truth: np.ndarray, k: int) -> np.ndarray:
    """Each query's fraction of its true top-k rows found in its top-k results."""
    values = []
    for f, t in zip(found, truth, strict=True):
        true_rows = set(int(x) for x in t[:k] if x >= 0)
        if true_rows:
            values.append(len(true_rows & set(int(x) for x in f[:k] if x >= 0)) / len(true_rows))
    return np.asarray(values, dtype=np.float64)


def recall_at(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    """Mean fraction of each query's true top-k rows found in its top-k results."""
    values = recall_per_query(found, truth, k)
    return float(values.mean()) if values.size else 1.0


def recall_bound(values: np.ndarray) -> float:
    """One-sided 95% lower confidence bound of the mean recall (mean - 1.645 SE)."""
    if values.size < 2:
        return float(values.mean()) if values.size else 1.0
    return float(values.mean() - 1.645 * values.std(ddof=1) / np.sqrt(values.size))


# -- tuning ------------------------------------------------------------------------


@dataclass(frozen=True)
class Tuning:
    """Chosen search parameters and the recall they reached on the tuning queries."""

    params: SearchParams
    recall: float
    queries: int
    tried: tuple[tuple[dict[str, int], float, float], ...]
    bound: float = 1.0

    def to_dict(self, target: float) -> dict[str, Any]:
        """The sidecar's ``tuning`` section."""
        return {
            "target_recall_at_10": target,
            "recall_at_10": round(self.recall, 4),
            "recall_at_10_lower_bound": round(self.bound, 4),
            "queries": self.queries,
            "k": TUNE_K,
            "rule": "the cheapest settings whose recall@10 lower bound (mean - 1.645 standard "
            "errors over the queries) reaches the target",
            "queries_from": "rows of the index, drawn with the seed and left out of the IVF "
            "training sample; each query's own row is left out of its results and of the "
            "exact answer, as search --like does",
            "tried": [
                {"params": p, "recall_at_10": round(r, 4), "lower_bound": round(b, 4)}
                for p, r, b in self.tried
            ],
        }


def tuning_queries(n: int, seed: int, count: int = TUNE_QUERIES) -> np.ndarray:
    """Rows drawn (seeded) to tune and measure the search."""
    rng = np.random.default_rng(seed)
    count = min(count, n)
    return np.sort(rng.choice(n, size=count, replace=False)) if count else np.empty(0, "int64")


def _cost(kind: str, params: SearchParams, n: int, d: int, nlist: int, pq_m: int) -> float:
    """A deterministic cost model (nanoseconds, roughly) to choose among settings."""
    if kind == "ivfpq":
        # Measured on 1M x 512 (IVF1024,PQ256x4fs): ~0.054 ns per code byte-pair
        # scanned, ~0.15 ns per centroid dimension, ~0.8 ns per re-ranked dimension.
        scan = params.nprobe * (n / max(nlist, 1)) * max(pq_m, 1) * 0.054 + nlist * d * 0.15
        return scan + params.rerank * TUNE_K * d * 0.8
    return float(params.nprobe or params.ef_search)


def tune(
    index: faiss.Index,
    kind: str,
    vectors: np.ndarray,
    metric: str,
    query_rows: np.ndarray,
    *,
    target: float,
    nlist: int = 0,
    pq_m: int = 0,
) -> Tuning:
    """Find the cheapest search settings whose recall@10 on the queries reaches ``target``.

    "Reaches" means the one-sided 95% lower bound of the mean recall does, so the
    recall on new queries is at least the target with high probability, not just on
    these queries. The exact answer comes from a brute-force pass over ``vectors``.
    ``ivf`` raises ``nprobe``; ``ivfpq`` raises ``nprobe`` for each re-ranking depth
    and keeps the cheapest pair by a fixed cost model (so the choice does not depend
    on machine load); ``hnsw`` raises ``efSearch``. When nothing reaches the target,
    the most thorough setting tried is kept and its recall recorded. ``flat`` is exact:
    nothing to tune or measure.
    """
    n, d = vectors.shape
    k = TUNE_K
    if not len(query_rows) or kind == "flat":
        # Exact search is the exact answer: recall 1 by construction, not measured
        # (measuring it would take two exact passes over every row, 5 s at 1M x 512).
        return Tuning(SearchParams(), 1.0, 0, ())
    queries = np.ascontiguousarray(vectors[query_rows])
    truth_scores, truth_rows = exact_knn(vectors, queries, k + 1, metric)
    truth, _ = drop_self(truth_rows, truth_scores, query_rows, k)
    tried: list[tuple[dict[str, int], float, float]] = []

    def score(params: SearchParams, rows: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
        found, _ = drop_self(rows, scores, query_rows, k)
        values = recall_per_query(found, truth, k)
        mean = float(values.mean()) if values.size else 1.0
        bound = recall_bound(values)
        tried.append((params.to_dict(), mean, bound))
        return mean, bound

    def measure(params: SearchParams) -> tuple[float, float]:
        scores, rows = ann_search(index, kind, vectors, queries, k + 1, params, metric)
        return score(params, rows, scores)

    if kind in ("hnsw", "ivf"):
        if kind == "hnsw":
            steps = [SearchParams(ef_search=ef) for ef in _EF_SEARCH]
        else:
            steps = [SearchParams(nprobe=p) for p in _NPROBES if p < nlist]
            steps.append(SearchParams(nprobe=nlist))
        chosen, mean, bound = steps[-1], 0.0, 0.0
        for params in steps:
            mean, bound = measure(params)
            chosen = params
            if bound >= target:
                break
        return Tuning(chosen, mean, len(query_rows), tuple(tried), bound)
    # ivfpq: one search per nprobe at the deepest re-ranking; shallower depths are
    # prefixes of the same candidate lists (FAISS returns them best first).
    probes = [p for p in _NPROBES if p < nlist] + [nlist]
    deepest = _RERANK[-1]
    depth = min(n, (k + 1) * deepest)
    reached: dict[int, tuple[int, float, float]] = {}
    fallback = (SearchParams(nprobe=nlist, rerank=deepest), 0.0, 0.0)
    for nprobe in probes:
        _d, candidates = index.search(queries, depth, params=ivf_params(nprobe))
        # Scored once, to the deepest depth still tried; each depth takes its prefix.
        widest = max((min(depth, (k + 1) * f) for f in _RERANK if f not in reached), default=depth)
        exact = rerank_scores(vectors, queries, candidates[:, :widest], metric)
        for factor in _RERANK:
            if factor in reached:
                continue
            params = SearchParams(nprobe=nprobe, rerank=factor)
            # The depth a search for k results uses: a query's own row takes one of
            # the slots here, so this errs on the safe side for search --like.
            width = min(depth, (k + 1) * factor)
            scores, rows = best_candidates(exact[:, :width], candidates[:, :width], k + 1)
            mean, bound = score(params, rows, scores)
            if bound >= target:
                reached[factor] = (nprobe, mean, bound)
            elif factor == deepest:
                fallback = (params, mean, bound)
        if reached:
            # Stop once probing more lists alone costs more than the best setting found.
            best_cost = min(
                _cost(kind, SearchParams(nprobe=p, rerank=f), n, d, nlist, pq_m)
                for f, (p, _m, _b) in reached.items()
            )
            if _cost(kind, SearchParams(nprobe=nprobe + 1), n, d, nlist, pq_m) >= best_cost:
                break
            if len(reached) == len(_RERANK):
                break
    if not reached:
        params, mean, bound = fallback
        return Tuning(params, mean, len(query_rows), tuple(tried), bound)
    options = [
        (SearchParams(nprobe=p, rerank=f), mean, bound) for f, (p, mean, bound) in reached.items()
    ]
    options.sort(key=lambda item: (_cost(kind, item[0], n, d, nlist, pq_m), item[0].rerank))
    params, mean, bound = options[0]
    return Tuning(params, mean, len(query_rows), tuple(tried), bound)


# -- past IVF: when the vectors have no structure to exploit -------------------------


def needs_most_lists(tuning: Tuning, nlist: int, target: float) -> bool:
    """Whether IVF had to probe most lists (or all and still missed) to reach the target."""
    return tuning.bound < target or tuning.params.nprobe > MOST_LISTS * nlist


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """FAISS on one OpenMP thread in this thread (restored after)."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def single_query_ms(
    index: faiss.Index,
    kind: str,
    vectors: np.ndarray,
    queries: np.ndarray,
    params: SearchParams,
    metric: str,
    wall: list[float] | None = None,
) -> float:
    """Median CPU time of one-query searches (k = 10) in milliseconds.

    Each query is searched alone on one thread, after one warm-up, and timed by the CPU
    time of this thread (user + system): on a shared machine the time another process
    holds the core is not counted, so kinds timed minutes apart compare fairly. At most
    :data:`LATENCY_QUERIES` queries, stopping after :data:`LATENCY_MIN_QUERIES` once
    :data:`LATENCY_SECONDS` have passed. ``wall``, when a list, receives the median wall
    time (ms) too.
    """
    cpu_times: list[float] = []
    wall_times: list[float] = []
    started = time.perf_counter()
    with one_thread():
        for qi in range(-1, min(len(queries), LATENCY_QUERIES)):
            query = queries[max(qi, 0) : max(qi, 0) + 1]
            cpu, clock = time.thread_time(), time.perf_counter()
            ann_search(index, kind, vectors, query, TUNE_K + 1, params, metric)
            if qi >= 0:
                cpu_times.append(time.thread_time() - cpu)
                wall_times.append(time.perf_counter() - clock)
            if len(cpu_times) >= LATENCY_MIN_QUERIES and (
                time.perf_counter() - started > LATENCY_SECONDS
            ):
                break
    if wall is not None:
        wall.append(float(np.median(wall_times) * 1e3) if wall_times else 0.0)
    return float(np.median(cpu_times) * 1e3) if cpu_times else 0.0


def fastest(times: dict[str, float], reached: dict[str, bool]) -> str | None:
    """The kind with the smallest time among those that reached the target (first wins a
    tie, in the order timed); None when none did."""
    best: str | None = None
    for kind, ms in times.items():
        if reached.get(kind) and (best is None or ms < times[best]):
            best = kind
    return best


@dataclass
class Alternative:
    """What ``auto`` built and measured when IVF needed most lists."""

    plan: Plan
    index: faiss.Index
    tuning: Tuning
    measured: dict[str, Any]


def past_ivf(
    ivf_plan: Plan,
    ivf_index: faiss.Index,
    ivf_tuning: Tuning,
    vectors: np.ndarray,
    metric: str,
    query_rows: np.ndarray,
    *,
    target: float,
    memory_budget: int | None,
    note: Callable[[str], None] | None = None,
) -> Alternative:
    """IVF needed most lists: keep whichever of IVF, exact search and HNSW is fastest.

    Each is timed on one-query searches of the tuning queries at the settings that
    reach the target (IVF only if it reached it; exact search always does), by the
    median CPU time a query (:func:`single_query_ms`; the wall times are recorded too).
    HNSW graphs are first built and tuned on rows that are not tuning queries (see
    :func:`_hnsw_trials`); only when they reach the target, and their time predicted for
    every row beats the best so far, is one built over every row, tuned and timed. A
    kind that does not fit ``memory_budget`` is not tried; when nothing else fits, IVF
    stays. The rule itself is :func:`fastest`.
    """
    n, d = vectors.shape

    def fits(size: int) -> bool:
        return memory_budget is None or size <= memory_budget

    queries = np.ascontiguousarray(vectors[query_rows[:LATENCY_QUERIES]])
    times: dict[str, float] = {}
    walls: dict[str, float] = {}
    reached: dict[str, bool] = {}
    built: dict[str, Alternative] = {}
    measured: dict[str, Any] = {
        "why": f"{ivf_plan.kind} needed nprobe {ivf_tuning.params.nprobe} of "
        f"{ivf_plan.nlist} lists (recall@10 lower bound {ivf_tuning.bound:.3f})",
        "nprobe": ivf_tuning.params.nprobe,
        "nlist": ivf_plan.nlist,
        "ivf_recall_at_10_lower_bound": round(ivf_tuning.bound, 4),
        "rule": "the fastest one-query search of those reaching the target: median CPU time "
        "a query on one thread (ms)",
        "single_query_ms": times,
        "single_query_wall_ms": walls,
        "queries_timed": {
            "at_least": min(len(queries), LATENCY_MIN_QUERIES),
            "at_most": len(queries),
        },
    }

    def timed(alternative: Alternative, *, always: bool = False) -> float:
        kind = alternative.plan.kind
        wall: list[float] = []
        ms = single_query_ms(alternative.index, kind, vectors, queries,
                             alternative.tuning.params, metric, wall)  # fmt: skip
        times[kind] = round(ms, 3)
        walls[kind] = round(wall[0], 3) if wall else times[kind]
        reached[kind] = always or alternative.tuning.bound >= target
        built[kind] = alternative
        return ms

    timed(Alternative(ivf_plan, ivf_index, ivf_tuning, measured))

    def best_ms() -> float:
        kind = fastest(times, reached)
        return times[kind] if kind is not None else math.inf

    flat_size = estimate_bytes("flat", n, d)
    if fits(flat_size):
        if note:
            note(f"{measured['why']}: timing exact search")
        plan = Plan("flat", "Flat", flat_size, reason="")
        index = train_and_add(plan, vectors, metric, train_rows=np.empty(0, "int64"), seed=0)
        tuning = tune(index, "flat", vectors, metric, query_rows, target=target)
        # Exact search always reaches the target (its recall is 1 up to ties).
        timed(Alternative(plan, index, tuning, measured), always=True)
        if fastest(times, reached) != "flat":
            del built["flat"]
    hnsw_size = estimate_bytes("hnsw", n, d)
    if fits(hnsw_size):
        hnsw = Plan("hnsw", f"HNSW{HNSW_M},Flat", hnsw_size, reason="")
        predicted = _hnsw_trials(hnsw, vectors, metric, query_rows, queries, target, best_ms(),
                                 measured, note)  # fmt: skip
        if predicted < best_ms():
            if note:
                note(f"building {hnsw.factory} on {n} vectors")
            index = train_and_add(hnsw, vectors, metric, train_rows=np.empty(0, "int64"), seed=0)
            tuning = tune(index, "hnsw", vectors, metric, query_rows, target=target)
            timed(Alternative(hnsw, index, tuning, measured))
    kept = fastest(times, reached) or ivf_plan.kind
    best = built[kept]
    reason = f"{measured['why']}; {best.plan.kind} measured fastest"
    if best.plan.kind == ivf_plan.kind:
        reason = f"{ivf_plan.reason}; {reason}"
    best.plan = dataclasses.replace(best.plan, reason=reason)
    return best


def _hnsw_trials(
    hnsw: Plan,
    vectors: np.ndarray,
    metric: str,
    query_rows: np.ndarray,
    queries: np.ndarray,
    target: float,
    best_ms: float,
    measured: dict[str, Any],
    note: Callable[[str], None] | None,
) -> float:
    """The one-query time an HNSW graph over every row is predicted to take (inf: not worth
    building). Graphs are built and tuned on :data:`HNSW_TRIAL` rows (and 5 times as
    many when there are over 10 times as many rows); a trial that misses the target or is
    not faster than ``best_ms`` ends it, and two trials extrapolate the time as a power
    of the row count (never decreasing)."""
    n = vectors.shape[0]
    sizes = [HNSW_TRIAL] + ([5 * HNSW_TRIAL] if n > 10 * HNSW_TRIAL else [])
    free = np.setdiff1d(np.arange(min(n, sizes[-1] + len(query_rows))), query_rows)
    trials: list[tuple[int, float]] = []
    measured["hnsw_trials"] = []
    for size in sizes:
        trial = np.ascontiguousarray(vectors[free[:size]])
        if note:
            note(f"trying {hnsw.factory} on {len(trial)} vectors")
        index = train_and_add(hnsw, trial, metric, train_rows=np.empty(0, "int64"), seed=0)
        tuning = tune(index, "hnsw", trial, metric, tuning_queries(len(trial), 1), target=target)
        wall: list[float] = []
        ms = single_query_ms(index, "hnsw", trial, queries, tuning.params, metric, wall)
        measured["hnsw_trials"].append(
            {
                "rows": len(trial),
                "params": tuning.params.to_dict(),
                "recall_at_10_lower_bound": round(tuning.bound, 4),
                "single_query_ms": round(ms, 3),
                "single_query_wall_ms": round(wall[0], 3) if wall else round(ms, 3),
            }
        )
        del index
        if tuning.bound < target or ms >= best_ms:
            return math.inf
        trials.append((len(trial), ms))
    if len(trials) == 2 and n > trials[-1][0]:
        (s1, t1), (s2, t2) = trials
        power = max(0.0, math.log(max(t2, 1e-9) / max(t1, 1e-9)) / math.log(s2 / s1))
        predicted = float(t2 * (n / s2) ** power)
        measured["hnsw_predicted_ms"] = round(predicted, 3)
        return predicted
    return trials[-1][1]
