"""Similarity search with filters applied first: where=FilterCriteria / Selection."""

from __future__ import annotations

import numpy as np
import pytest
from index_helpers import realistic_vectors
from merge_helpers import read_inputs

import toolkit.index._select as select_module
from toolkit.archive import write_archive
from toolkit.cli import cli
from toolkit.errors import ArchiveError, IndexMismatchError
from toolkit.index import (
    Selection,
    SimilarityIndex,
    build_index,
    build_index_from_arrays,
    find_duplicates,
    similar_ids,
)
from toolkit.messages import Input
from toolkit.subset import FilterCriteria

N, D, K = 3000, 32, 10


@pytest.fixture(name="vectors", scope="module")
def _vectors() -> np.ndarray:
    return realistic_vectors(N, D, seed=3)


def _normalised(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _exact_filtered(vectors, rows, queries, k):
    """numpy's answer: cosine scores over the selected rows, best k (ties-free data)."""
    scores = _normalised(queries) @ _normalised(vectors[rows]).T
    order = np.argsort(-scores, axis=1)[:, :k]
    return rows[order], np.take_along_axis(scores, order, axis=1)


def _check_equal(index, hits, rows, scores):
    for qi, found in enumerate(hits):
        assert [index.row(h.id) for h in found] == rows[qi].tolist()
        np.testing.assert_allclose([h.score for h in found], scores[qi], rtol=0, atol=1e-5)


def _index(tmp_path, vectors, kind):
    ids = [f"v{i:05d}" for i in range(len(vectors))]
    return build_index_from_arrays(vectors, ids, tmp_path / kind, kind=kind, seed=1)


@pytest.mark.parametrize("fraction", [0.003, 0.01, 0.2, 1.0])
@pytest.mark.parametrize("exact_bytes", [select_module.EXACT_BYTES, 4096])
def test_flat_equals_numpy(tmp_path, vectors, fraction, exact_bytes, monkeypatch):
    # exact_bytes=4096 makes the selection too big to gather: searched block by block.
    monkeypatch.setattr(select_module, "EXACT_BYTES", exact_bytes)
    monkeypatch.setattr(select_module, "_BLOCK_BYTES", 4096 * 8)
    index = _index(tmp_path, vectors, "flat")
    rng = np.random.default_rng(7)
    rows = np.sort(rng.choice(N, max(1, int(N * fraction)), replace=False))
    queries = realistic_vectors(5, D, seed=11)
    hits = index.search(queries, K, where=Selection(rows, N))
    want_rows, want_scores = _exact_filtered(vectors, rows, queries, min(K, len(rows)))
    _check_equal(index, hits, want_rows, want_scores)


def test_ivf_with_every_list_probed_equals_numpy(tmp_path, vectors, monkeypatch):
    monkeypatch.setattr(select_module, "ANN_EXACT_BYTES", 0)  # the FAISS id-selector path
    monkeypatch.setattr(select_module, "SCAN_BYTES", 0)
    index = _index(tmp_path, vectors, "ivf")
    nlist = index.sidecar["params"]["nlist"]
    rng = np.random.default_rng(8)
    rows = np.sort(rng.choice(N, 600, replace=False))
    queries = realistic_vectors(5, D, seed=12)
    hits = index.search(queries, K, where=Selection(rows, N), nprobe=nlist)
    want_rows, want_scores = _exact_filtered(vectors, rows, queries, K)
    _check_equal(index, hits, want_rows, want_scores)


@pytest.mark.parametrize("kind", ["ivf", "ivfpq", "hnsw"])
@pytest.mark.parametrize("path", ["exact", "scan", "id-selector"])
def test_approximate_kinds_only_return_selected_rows(tmp_path, vectors, kind, path, monkeypatch):
    if path != "exact":
        monkeypatch.setattr(select_module, "ANN_EXACT_BYTES", 0)
    if path == "id-selector":
        monkeypatch.setattr(select_module, "SCAN_BYTES", 0)
    index = _index(tmp_path, vectors, kind)
    rng = np.random.default_rng(9)
    rows = np.sort(rng.choice(N, 300, replace=False))
    queries = realistic_vectors(20, D, seed=13)
    selection = Selection(rows, N)
    assert selection.path(index.kind, D) == path
    hits = index.search(queries, K, where=selection)
    want_rows, _ = _exact_filtered(vectors, rows, queries, K)
    selected = set(rows.tolist())
    recall = []
    for qi, found in enumerate(hits):
        got = [index.row(h.id) for h in found]
        assert len(got) == K and set(got) <= selected
        recall.append(len(set(got) & set(want_rows[qi].tolist())) / K)
    if path != "id-selector":
        # Exact; or the 8-bit scan's best 100 of 300 rows, re-scored exactly.
        assert np.mean(recall) == 1.0
    else:
        assert np.mean(recall) >= 0.9


def test_small_selection_and_min_score(tmp_path, vectors):
    index = _index(tmp_path, vectors, "flat")
    hits = index.search(vectors[:1], K, where=Selection([5, 9, 2], N))[0]
    assert sorted(index.row(h.id) for h in hits) == [2, 5, 9]
    assert index.search(vectors[:1], K, where=Selection([], N)) == [[]]
    best = hits[0].score
    assert [
        h.score
        for h in index.search(vectors[:1], K, where=Selection([5, 9, 2], N), min_score=best)[0]
    ] == [best]
    with pytest.raises(IndexMismatchError, match="select again"):
        index.search(vectors[:1], K, where=Selection([1], N + 1))
    with pytest.raises(ValueError, match="rows must lie"):
        Selection([N], N)


# -- criteria evaluated on the archive -----------------------------------------------------


def _labelled(vectors) -> list[Input]:
    records = []
    for i, vector in enumerate(vectors):
        record = Input(id=f"in{i:04d}")
        record.data.image.url = f"https://example.com/{i}.jpg"
        record.data.embeddings.add(vector=vector.tolist(), num_dimensions=len(vector))
        if i % 10 == 0:
            record.data.concepts.add(id="rare", value=1.0)
        if i % 2 == 0:
            record.data.concepts.add(id="even", value=1.0)
        record.data.metadata.update({"group": i % 3})
        records.append(record)
    records.append(Input(id="no-embedding"))  # matches, has no row: skipped
    records[-1].data.concepts.add(id="rare", value=1.0)
    return records


@pytest.fixture(name="labelled")
def _labelled_index(tmp_path, vectors):
    small = vectors[:400]
    archive = tmp_path / "labelled.zip"
    write_archive(archive, _labelled(small), batch_size=64)
    index = build_index([archive], tmp_path / "ix", kind="flat")
    return archive, index, small


def test_criteria_select_the_candidates_first(labelled):
    _archive, index, small = labelled
    criteria = FilterCriteria(concepts=("rare",), metadata=(("group", "1"),))
    selection = index.select(criteria)
    rows = np.array([i for i in range(400) if i % 10 == 0 and i % 3 == 1])
    assert selection.rows.tolist() == rows.tolist()
    assert index.select(criteria) is selection  # kept for the next search
    queries = small[[3, 4]]
    hits = index.search(queries, 5, where=criteria)
    want_rows, want_scores = _exact_filtered(small, rows, queries, 5)
    _check_equal(index, hits, want_rows, want_scores)
    # The unfiltered top 5 holds almost no matching input: filtering after would lose them.
    plain = index.search(queries, 5)
    assert sum(index.row(h.id) in set(rows.tolist()) for h in plain[0]) < 5


def test_search_like_rank_all_and_duplicates(labelled):
    _archive, index, small = labelled
    criteria = FilterCriteria(concepts=("rare",))
    rows = np.arange(0, 400, 10)
    hits = index.search_like(["in0000"], 3, where=criteria)[0]  # itself left out
    want_rows, _ = _exact_filtered(small, rows[1:], small[:1], 3)
    assert [index.row(h.id) for h in hits] == want_rows[0].tolist()
    ranked = list(index.rank_all("in0001", where=criteria))
    assert len(ranked) == 40
    want_rows, want_scores = _exact_filtered(small, rows, small[1:2], 40)
    assert [index.row(h.id) for h in ranked] == want_rows[0].tolist()
    np.testing.assert_allclose([h.score for h in ranked], want_scores[0], atol=1e-5)
    ids = [
        h.id
        for h in index.search_like(
            ["in0001"], 400, where=FilterCriteria(ids=frozenset({"in0003", "in0005", "zzz"}))
        )[0]
    ]
    assert sorted(ids) == ["in0003", "in0005"]  # ids alone need no archive


@pytest.mark.parametrize("kind", ["flat", "hnsw"])  # range search; nearest neighbours
def test_duplicates_among_matching_inputs(tmp_path, kind):
    base = realistic_vectors(6, 8, seed=4)
    vectors = np.vstack([base, base[:3] + 1e-4])  # rows 6, 7, 8 copy rows 0, 1, 2
    records = []
    for i, vector in enumerate(vectors):
        record = Input(id=f"d{i}")
        record.data.embeddings.add(vector=vector.tolist(), num_dimensions=8)
        if i in (0, 6, 1):  # d7 (the copy of d1) is not labelled
            record.data.concepts.add(id="keep", value=1.0)
        records.append(record)
    archive = tmp_path / "dups.zip"
    write_archive(archive, records)
    index = build_index([archive], tmp_path / "ix", kind=kind)
    assert [g.ids for g in find_duplicates(index, threshold=0.99)] == [
        ("d0", "d6"),
        ("d1", "d7"),
        ("d2", "d8"),
    ]
    groups = find_duplicates(index, threshold=0.99, where=FilterCriteria(concepts=("keep",)))
    assert [g.ids for g in groups] == [("d0", "d6")]


def test_similar_ids_in_archive_and_index(labelled):
    archive, index, small = labelled
    criteria = FilterCriteria(concepts=("even",), no_concepts=("rare",))
    rows = np.array([i for i in range(400) if i % 2 == 0 and i % 10 != 0 and i != 3])
    want_rows, _ = _exact_filtered(small, rows, small[3:4], 4)
    want = {f"in{r:04d}" for r in want_rows[0]}
    assert similar_ids(archive, ["in0003"], k=4, where=criteria) == want
    assert similar_ids(index, ["in0003"], k=4, where=criteria, archive=archive) == want


def test_missing_source_archive(labelled, tmp_path):
    archive, index, _small = labelled
    archive.rename(tmp_path / "moved.zip")
    reloaded = SimilarityIndex.load(index.path)
    with pytest.raises(ArchiveError, match=r"give the archive \(archives=ARCHIVE\)$"):
        reloaded.select(FilterCriteria(concepts=("rare",)))
    selection = reloaded.select(
        FilterCriteria(concepts=("rare",)), archives=[tmp_path / "moved.zip"]
    )
    assert len(selection) == 40


# -- command line (the reproduction on sample_data) ------------------------------


def exact_neighbours(archive, like: str, concept: str, k: int) -> list[str]:
    """The exact answer, in float64: the k inputs labelled ``concept`` most like ``like``
    (ties by id)."""
    records = read_inputs(archive)
    vectors = {
        r.id: np.array(r.data.embeddings[0].vector, np.float64)
        for r in records
        if r.data.embeddings
    }
    query = vectors[like] / np.linalg.norm(vectors[like])
    matching = [
        r.id
        for r in records
        if r.id in vectors
        and r.id != like
        and any(c.id == concept and c.value > 0 for c in r.data.concepts)
    ]
    scores = {i: float(query @ (vectors[i] / np.linalg.norm(vectors[i]))) for i in matching}
    return sorted(matching, key=lambda i: (-scores[i], i))[:k]


def test_filter_like_with_concept_keeps_k_matching(runner, sample_archive, tmp_path):
    out = tmp_path / "balls.zip"
    args = ["filter", str(sample_archive), "-o", str(out), "--like", "img-0007", "-k", "3"]
    result = runner.invoke(cli, [*args, "--concept", "ball"])
    assert result.exit_code == 0, result.output
    kept = read_inputs(out)
    expected = exact_neighbours(sample_archive, "img-0007", "ball", 3)
    assert sorted(r.id for r in kept) == sorted(expected)
    assert all(any(c.id == "ball" for c in r.data.concepts) for r in kept)


def test_search_sort_duplicates_filters(runner, sample_archive, tmp_path):
    index_dir = tmp_path / "ix"
    assert (
        runner.invoke(
            cli, ["-q", "index", "build", str(sample_archive), "-o", str(index_dir)]
        ).exit_code
        == 0
    )
    result = runner.invoke(
        cli,
        ["search", str(index_dir), "--like", "img-0007", "-k", "3", "--concept", "ball", "--json"],
    )
    assert result.exit_code == 0, result.output
    found = [line.split('"id":"')[1][:8] for line in result.stdout.splitlines()]
    assert found == exact_neighbours(sample_archive, "img-0007", "ball", 3)
    assert result.stderr == "filter: 17 of 30 indexed inputs match\n"
    result = runner.invoke(
        cli, ["sort", str(index_dir), "--like", "img-0007", "--concept", "night"]
    )
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 3
    result = runner.invoke(cli, ["duplicates", str(index_dir), "--concept", "tree", "--json"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count('"group"') == 1 and "img-0017" in result.stdout
    result = runner.invoke(
        cli, ["search", str(index_dir), "--like", "img-0007", "--archive", str(sample_archive)]
    )
    assert result.exit_code == 2 and "--archive goes with a filter option" in result.stderr


def test_scan_path_holds_recall_on_a_large_selection(tmp_path, vectors, monkeypatch):
    monkeypatch.setattr(select_module, "ANN_EXACT_BYTES", 0)
    index = _index(tmp_path, vectors, "ivfpq")
    rows = np.sort(np.random.default_rng(10).choice(N, 2500, replace=False))
    selection = Selection(rows, N)
    assert selection.path(index.kind, D) == "scan"
    queries = realistic_vectors(30, D, seed=14)
    hits = index.search(queries, K, where=selection)
    want_rows, want_scores = _exact_filtered(vectors, rows, queries, K)
    recall = [
        len({index.row(h.id) for h in found} & set(want_rows[qi].tolist())) / K
        for qi, found in enumerate(hits)
    ]
    assert np.mean(recall) >= 0.98
    for qi, found in enumerate(hits):  # scores are exact, not the 8-bit approximations
        exact = dict(zip(want_rows[qi].tolist(), want_scores[qi].tolist(), strict=True))
        for hit in found:
            if index.row(hit.id) in exact:
                assert hit.score == pytest.approx(exact[index.row(hit.id)], abs=1e-5)
