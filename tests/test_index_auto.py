"""``auto`` leaves IVF for exact search or HNSW when IVF needs most of its lists."""

from __future__ import annotations

import dataclasses

import faiss
import numpy as np
import pytest
from index_helpers import realistic_vectors

from toolkit.index import _engine as engine
from toolkit.index import build_index_from_arrays


def _ids(n: int) -> list[str]:
    return [f"r{i:05d}" for i in range(n)]


@pytest.fixture(name="unstructured", scope="module")
def _unstructured():
    """Isotropic Gaussian vectors: no structure an inverted file can use."""
    return np.random.default_rng(0).standard_normal((3000, 48)).astype(np.float32)


def test_unstructured_leaves_ivf(unstructured, tmp_path):
    index = build_index_from_arrays(unstructured, _ids(3000), tmp_path / "ix", flat_max=100)
    past = index.sidecar["past_ivf"]
    timed = past["single_query_ms"]
    assert set(timed) >= {"ivfpq", "flat"}
    # It kept the fastest of those timed (IVF reached the target: it is among them).
    assert index.sidecar["tuning"]["recall_at_10_lower_bound"] >= 0.95
    assert timed[index.kind] == min(timed.values())
    assert index.sidecar["requested_kind"] == "auto"
    lists = engine.choose_nlist(3000, fast_scan=True)
    assert lists == 32
    assert f"ivfpq needed nprobe {past['nprobe']} of {lists} lists" in index.sidecar["choice"]
    assert index.sidecar["choice"].endswith(f"; {index.kind} measured fastest")
    assert past["hnsw_trials"][0]["rows"] == 3000 - 256  # the rows left by the tuning queries
    assert past["nprobe"] > engine.MOST_LISTS * lists
    assert "past_ivf" in index.sidecar["timings_s"]
    # The index it kept answers with exact scores, best first.
    unit = unstructured / np.linalg.norm(unstructured, axis=1, keepdims=True)
    hits = index.search_like(["r00007"], k=5)[0]
    assert len(hits) == 5 and "r00007" not in [h.id for h in hits]
    for hit in hits:
        assert hit.score == pytest.approx(float(unit[int(hit.id[1:])] @ unit[7]), abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_structured_keeps_ivfpq(tmp_path):
    vectors = realistic_vectors(3000, 48, seed=1)
    index = build_index_from_arrays(vectors, _ids(3000), tmp_path / "ix", flat_max=100)
    assert index.kind == "ivfpq"
    assert "past_ivf" not in index.sidecar
    assert index.sidecar["search_params"]["nprobe"] <= 32  # of 64 lists


def test_over_budget_keeps_ivf(unstructured, tmp_path):
    """Exact search and HNSW need the vectors in memory: over the budget, IVF stays."""
    index = build_index_from_arrays(
        unstructured, _ids(3000), tmp_path / "ix", flat_max=100, memory_budget=200_000
    )
    assert index.kind == "ivfpq"
    assert list(index.sidecar["past_ivf"]["single_query_ms"]) == ["ivfpq"]


def test_asked_kind_is_kept(unstructured, tmp_path):
    index = build_index_from_arrays(unstructured, _ids(3000), tmp_path / "ix", kind="ivf")
    assert index.kind == "ivf" and "past_ivf" not in index.sidecar


def test_needs_most_lists():
    def tuning(nprobe: int, bound: float) -> engine.Tuning:
        return engine.Tuning(engine.SearchParams(nprobe=nprobe), bound, 256, (), bound)

    assert not engine.needs_most_lists(tuning(32, 0.96), 64, 0.95)
    assert engine.needs_most_lists(tuning(33, 0.96), 64, 0.95)
    assert engine.needs_most_lists(tuning(64, 0.90), 64, 0.95)  # all lists, still short
    assert not engine.needs_most_lists(tuning(1, 0.99), 1024, 0.95)


@pytest.mark.parametrize(
    ("times", "kept"),
    [
        ({"ivfpq": 5.0, "flat": 3.0, "hnsw": 1.0}, "hnsw"),  # the trial wins: built over all
        ({"ivfpq": 1.0, "flat": 3.0, "hnsw": 2.0}, "ivfpq"),  # no HNSW over all rows
        ({"ivfpq": 5.0, "flat": 3.0, "hnsw": 4.0}, "flat"),
    ],
)
def test_keeps_the_fastest(unstructured, tmp_path, monkeypatch, times, kept):
    """With the timings fixed, the rule keeps the fastest kind that reaches the target."""
    monkeypatch.setattr(engine, "single_query_ms", lambda index, kind, *args: times[kind])
    index = build_index_from_arrays(unstructured, _ids(3000), tmp_path / "ix", flat_max=100)
    assert index.kind == kept
    timed = index.sidecar["past_ivf"]["single_query_ms"]
    assert ("hnsw" in timed) == (times["hnsw"] < min(times["ivfpq"], times["flat"]))
    assert index.sidecar["tuning"]["recall_at_10_lower_bound"] >= 0.95


@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_reranking_a_prefix_of_the_candidates_is_a_prefix_of_the_deepest_scores(metric) -> None:
    """The tuning scores the deepest candidates once and cuts each depth from them: the
    same results as re-ranking each depth on its own (as a search does), -1 rows too."""
    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((3000, 96)).astype(np.float32)
    vectors[7] = vectors[9]  # a tie, settled by row number either way
    queries = rng.standard_normal((70, 96)).astype(np.float32)
    candidates = rng.integers(0, 3000, size=(70, 240)).astype(np.int64)
    candidates[:, 3] = 9
    candidates[:, 4] = 7
    candidates[5, 100:] = -1  # fewer candidates than asked for
    deepest = engine.rerank_scores(vectors, queries, candidates, metric)
    for width in (11, 44, 88, 176, 240):
        alone = engine.rerank(vectors, queries, candidates[:, :width], 11, metric)
        cut = engine.best_candidates(deepest[:, :width], candidates[:, :width], 11)
        np.testing.assert_array_equal(alone[0], cut[0])
        np.testing.assert_array_equal(alone[1], cut[1])
    assert (deepest[5, 100:] == -np.inf).all()
    with pytest.raises(IndexError, match="out of bounds"):
        engine.rerank_scores(vectors, queries, np.full((70, 5), 3000), metric)


def test_fastest_rule():
    """The smallest time among the kinds that reached the target; the first timed wins a tie."""
    times = {"ivfpq": 2.0, "flat": 1.0, "hnsw": 0.5}
    assert engine.fastest(times, {"ivfpq": True, "flat": True, "hnsw": False}) == "flat"
    assert engine.fastest(times, {"ivfpq": True, "flat": True, "hnsw": True}) == "hnsw"
    assert engine.fastest({"ivfpq": 1.0, "flat": 1.0}, {"ivfpq": True, "flat": True}) == "ivfpq"
    assert engine.fastest(times, {"ivfpq": False}) is None


def test_missed_target_is_never_kept(unstructured, tmp_path, monkeypatch):
    """HNSW measured fastest but short of the target: exact search (always exact) is kept."""
    times = {"ivfpq": 5.0, "flat": 3.0, "hnsw": 0.1}
    monkeypatch.setattr(engine, "single_query_ms", lambda index, kind, *args: times[kind])
    real_tune = engine.tune

    def short_hnsw(index, kind, *args, **kwargs):
        tuning = real_tune(index, kind, *args, **kwargs)
        return dataclasses.replace(tuning, bound=0.5) if kind == "hnsw" else tuning

    monkeypatch.setattr(engine, "tune", short_hnsw)
    index = build_index_from_arrays(unstructured, _ids(3000), tmp_path / "ix", flat_max=100)
    assert index.kind == "flat"
    assert index.sidecar["choice"].endswith("; flat measured fastest")


def test_single_query_time_on_one_thread(monkeypatch):
    """One-query searches are timed on one FAISS thread (restored after), the median CPU
    time returned and the median wall time handed back."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(2)
    seen: list[int] = []

    def search(*args, **kwargs):
        seen.append(faiss.omp_get_max_threads())

    monkeypatch.setattr(engine, "ann_search", search)
    queries = np.zeros((40, 8), dtype=np.float32)
    wall: list[float] = []
    ms = engine.single_query_ms(None, "flat", queries, queries, engine.SearchParams(), "ip", wall)
    assert set(seen) == {1} and len(seen) == 41  # one warm-up, then every query
    assert faiss.omp_get_max_threads() == 2
    faiss.omp_set_num_threads(before)
    assert ms >= 0.0 and len(wall) == 1 and wall[0] >= 0.0
