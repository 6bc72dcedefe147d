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
import os
import time
from collections.abc import Callable, Iterator
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
#: Queries timed one at a time when ``auto`` compares kinds.
LATENCY_QUERIES = 48

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


def choose_nlist(n: int) -> int:
    """IVF lists: the power of two nearest sqrt(n), with at least 40 training vectors each."""
    nlist = 2 ** round(math.log2(max(1.0, math.sqrt(n))))
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
    budget; otherwise ``ivfpq``: an inverted file with nlist ~ sqrt(n) lists and
    4-bit product-quantisation fast-scan codes of d/2 bytes a vector, searched
    with exact re-ranking of the candidates from ``vectors.npy``. When the memory
    budget is smaller, the codes shrink (d/4, d/8, ... bytes) and the re-ranking
    gets deeper. Vectors with fewer than 16 dimensions get ``ivf`` (uncompressed).
    """
    budget = memory_budget if memory_budget is not None else None
    nlist = choose_nlist(n)

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
            size = estimate_bytes("ivfpq", n, d, nlist=nlist, pq_m=pq_m)
            if fits(size):
                why = f"{n} vectors >= {flat_max}" if n >= flat_max else "flat over budget"
                return Plan(
                    "ivfpq", f"IVF{nlist},PQ{pq_m}x4fs", size, nlist=nlist, pq_m=pq_m, reason=why
                )
        smallest = estimate_bytes("ivfpq", n, d, nlist=nlist, pq_m=_pq_choices(d)[-1])
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
                (m for m in choices if fits(estimate_bytes("ivfpq", n, d, nlist=nlist, pq_m=m))),
                choices[-1],
            )
            size = estimate_bytes("ivfpq", n, d, nlist=nlist, pq_m=pq_m)
            plan = Plan(
                "ivfpq",
                f"IVF{nlist},PQ{pq_m}x4fs",
                size,
                nlist=nlist,
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
        # The coarse k-means is one big matrix product a round: all cores. The
        # residual PQ is many tiny k-means: one thread is faster than two there.
        clustering = faiss.Clustering(d, plan.nlist, ivf.cp)
        clustering.train(sample, ivf.quantizer)
        ivf.quantizer.is_trained = True
        if plan.kind == "ivfpq":
            threads = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(1)
            try:
                index.train(sample)  # the quantizer is trained: this trains the PQ only
            finally:
                faiss.omp_set_num_threads(threads)
        else:
            index.train(sample)
        log.info("trained %s in %.1f s", plan.factory, time.perf_counter() - started)
    if note:
        note(f"adding {n} vectors to {plan.factory}")
    for _start, rows in iter_blocks(vectors):
        index.add(rows)
    return index


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
    """Re-score candidate rows exactly from the stored vectors and keep the best k.

    Works on groups of queries at once (a gather and a batched dot product), with
    groups small enough to keep the gathered rows under ~64 MB.
    """
    nq, depth = candidates.shape
    d = queries.shape[1]
    k = min(k, depth)
    out_scores = np.full((nq, k), -np.inf, dtype=np.float32)
    out_rows = np.full((nq, k), -1, dtype=np.int64)
    group = max(1, (16 << 20) // max(1, depth * d))
    for start in range(0, nq, group):
        cand = candidates[start : start + group]
        valid = cand >= 0
        rows = np.where(valid, cand, 0)
        block = vectors[rows.reshape(-1)].reshape(rows.shape[0], depth, d)
        q = queries[start : start + group]
        if metric == "l2":
            diff = block - q[:, None, :]
            scores = -np.sqrt(np.maximum(np.einsum("qrd,qrd->qr", diff, diff), 0.0))
        else:
            scores = np.einsum("qrd,qd->qr", block, q)
        scores = np.where(valid, scores, -np.inf).astype(np.float32)
        # Best first; equal scores by row number, so results do not depend on FAISS's order.
        order = np.lexsort((np.where(valid, cand, np.iinfo(np.int64).max), -scores), axis=-1)
        order = order[:, :k]
        top_scores = np.take_along_axis(scores, order, axis=1)
        top_rows = np.take_along_axis(cand, order, axis=1)
        top_rows[~np.isfinite(top_scores)] = -1
        out_scores[start : start + len(cand)] = top_scores
        out_rows[start : start + len(cand)] = top_rows
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
    the most thorough setting tried is kept and its recall recorded.
    """
    n, d = vectors.shape
    k = TUNE_K
    if not len(query_rows):
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

    if kind == "flat":
        mean, bound = measure(SearchParams())
        return Tuning(SearchParams(), mean, len(query_rows), tuple(tried), bound)
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
        for factor in _RERANK:
            if factor in reached:
                continue
            params = SearchParams(nprobe=nprobe, rerank=factor)
            # The depth a search for k results uses: a query's own row takes one of
            # the slots here, so this errs on the safe side for search --like.
            cut = candidates[:, : min(depth, (k + 1) * factor)]
            scores, rows = rerank(vectors, queries, cut, k + 1, metric)
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


def single_query_ms(
    index: faiss.Index,
    kind: str,
    vectors: np.ndarray,
    queries: np.ndarray,
    params: SearchParams,
    metric: str,
) -> float:
    """Median time of one-query searches (k = 10) in milliseconds, after one warm-up."""
    times = []
    for qi in range(-1, len(queries)):
        query = queries[max(qi, 0) : max(qi, 0) + 1]
        started = time.perf_counter()
        ann_search(index, kind, vectors, query, TUNE_K + 1, params, metric)
        if qi >= 0:
            times.append(time.perf_counter() - started)
    return float(np.median(times) * 1e3) if times else 0.0


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
    reach the target (IVF only if it reached it; exact search always does). HNSW
    graphs are first built and tuned on rows that are not tuning queries (see
    :func:`_hnsw_trials`); only when they reach the target, and their time predicted for
    every row beats the best so far, is one built over every row, tuned and timed. A
    kind that does not fit ``memory_budget`` is not tried; when nothing else fits, IVF
    stays.
    """
    n, d = vectors.shape

    def fits(size: int) -> bool:
        return memory_budget is None or size <= memory_budget

    queries = np.ascontiguousarray(vectors[query_rows[:LATENCY_QUERIES]])
    ivf_ms = single_query_ms(ivf_index, ivf_plan.kind, vectors, queries, ivf_tuning.params, metric)
    measured: dict[str, Any] = {
        "why": f"{ivf_plan.kind} needed nprobe {ivf_tuning.params.nprobe} of "
        f"{ivf_plan.nlist} lists (recall@10 lower bound {ivf_tuning.bound:.3f})",
        "nprobe": ivf_tuning.params.nprobe,
        "nlist": ivf_plan.nlist,
        "ivf_recall_at_10_lower_bound": round(ivf_tuning.bound, 4),
        "rule": "the fastest one-query search (median, ms) of those reaching the target",
        "single_query_ms": {ivf_plan.kind: round(ivf_ms, 3)},
        "queries_timed": len(queries),
    }
    best = Alternative(ivf_plan, ivf_index, ivf_tuning, measured)
    best_ms = ivf_ms if ivf_tuning.bound >= target else math.inf
    flat_size = estimate_bytes("flat", n, d)
    if fits(flat_size):
        if note:
            note(f"{measured['why']}: timing exact search")
        plan = Plan("flat", "Flat", flat_size, reason="")
        index = train_and_add(plan, vectors, metric, train_rows=np.empty(0, "int64"), seed=0)
        tuning = tune(index, "flat", vectors, metric, query_rows, target=target)
        ms = single_query_ms(index, "flat", vectors, queries, tuning.params, metric)
        measured["single_query_ms"]["flat"] = round(ms, 3)
        if ms < best_ms:
            best, best_ms = Alternative(plan, index, tuning, measured), ms
    hnsw_size = estimate_bytes("hnsw", n, d)
    if fits(hnsw_size):
        hnsw = Plan("hnsw", f"HNSW{HNSW_M},Flat", hnsw_size, reason="")
        predicted = _hnsw_trials(hnsw, vectors, metric, query_rows, queries, target, best_ms,
                                 measured, note)  # fmt: skip
        if predicted < best_ms:
            if note:
                note(f"building {hnsw.factory} on {n} vectors")
            index = train_and_add(hnsw, vectors, metric, train_rows=np.empty(0, "int64"), seed=0)
            tuning = tune(index, "hnsw", vectors, metric, query_rows, target=target)
            ms = single_query_ms(index, "hnsw", vectors, queries, tuning.params, metric)
            measured["single_query_ms"]["hnsw"] = round(ms, 3)
            if tuning.bound >= target and ms < best_ms:
                best, best_ms = Alternative(hnsw, index, tuning, measured), ms
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
        ms = single_query_ms(index, "hnsw", trial, queries, tuning.params, metric)
        measured["hnsw_trials"].append(
            {
                "rows": len(trial),
                "params": tuning.params.to_dict(),
                "recall_at_10_lower_bound": round(tuning.bound, 4),
                "single_query_ms": round(ms, 3),
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
