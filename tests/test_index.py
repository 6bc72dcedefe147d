"""The similarity index library: exactness, recall, save/load, add/remove, checks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import faiss
import numpy as np
import pytest
from helpers import make_input
from index_helpers import assert_top_k, realistic_vectors, vector_input, write_vector_archive

from toolkit.errors import (
    ConflictError,
    IndexMismatchError,
    InputNotFoundError,
    LimitError,
    OutputError,
    SchemaError,
)
from toolkit.index import (
    SimilarityIndex,
    add_to_index,
    build_index,
    build_index_from_arrays,
    evaluate_index,
    parse_size,
    remove_from_index,
)
from toolkit.index import _engine as engine
from toolkit.index._store import HEADER_BYTES, npy_header


def _normalised(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _exact(base: np.ndarray, queries: np.ndarray, k: int, metric: str):
    """Brute-force numpy search: (scores, rows), best first, ties by row."""
    if metric == "l2":
        d2 = ((queries[:, None, :] - base[None, :, :]) ** 2).sum(-1)
        scores = -np.sqrt(d2)
    else:
        scores = queries @ base.T
    rows = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, rows, axis=1), rows


def _scores64(base: np.ndarray, queries: np.ndarray, metric: str) -> np.ndarray:
    """Every query's score against every base vector, in float64 (higher is better)."""
    base, queries = base.astype(np.float64), queries.astype(np.float64)
    if metric == "l2":
        return -np.sqrt(((queries[:, None, :] - base[None, :, :]) ** 2).sum(-1))
    return queries @ base.T


#: Queries from the same distribution as the indexed vectors, never indexed.
ALL_VECTORS = realistic_vectors(3200, 48, seed=7)
HELD_OUT = ALL_VECTORS[3000:]


@pytest.fixture(name="data", scope="module")
def _data(tmp_path_factory) -> tuple[Path, np.ndarray, list[str]]:
    """3,000 x 48 seeded realistic vectors in an archive."""
    folder = tmp_path_factory.mktemp("vectors")
    vectors = ALL_VECTORS[:3000]
    ids = [f"v{i:05d}" for i in range(len(vectors))]
    return write_vector_archive(folder / "vectors.zip", vectors, ids=ids), vectors, ids


@pytest.fixture(name="built", scope="module")
def _built(tmp_path_factory, data) -> dict[str, SimilarityIndex]:
    """One index of each kind over the module's vectors (cosine)."""
    archive, _vectors, _ids = data
    folder = tmp_path_factory.mktemp("indexes")
    return {
        kind: build_index([archive], folder / kind, kind=kind)
        for kind in ("flat", "ivf", "ivfpq", "hnsw")
    }


class TestExact:
    @pytest.mark.parametrize("metric", ["cosine", "ip", "l2"])
    def test_flat_equals_numpy(self, data, tmp_path, metric):
        archive, vectors, ids = data
        index = build_index([archive], tmp_path / "ix", kind="flat", metric=metric)
        base = _normalised(vectors) if metric == "cosine" else vectors
        rng = np.random.default_rng(3)
        queries = HELD_OUT[:25]
        if metric == "cosine":
            queries = _normalised(queries)
        hits = index.search(queries, k=10)
        exact = _scores64(base, queries, metric)
        assert_top_k([[h.id for h in row] for row in hits], exact, ids)
        got_scores = np.array([[h.score for h in row] for row in hits])
        want_scores = -np.sort(-exact, axis=1)[:, :10]
        np.testing.assert_allclose(got_scores, want_scores, atol=1e-5, rtol=0)
        assert [h.rank for h in hits[0]] == list(range(1, 11))
        # search_like leaves the query out and matches numpy without it.
        picks = sorted(rng.choice(len(ids), 5, replace=False).tolist())
        like = index.search_like([ids[p] for p in picks], k=5)
        exact = _scores64(base, base[picks], metric)
        exact[np.arange(len(picks)), picks] = -np.inf
        assert_top_k([[h.id for h in row] for row in like], exact, ids)
        for n, p in enumerate(picks):
            assert ids[p] not in [h.id for h in like[n]]

    def test_cosine_vectors_are_stored_normalised(self, built, data):
        _archive, vectors, _ids = data
        stored = np.asarray(built["flat"].vectors)
        np.testing.assert_allclose(np.linalg.norm(stored, axis=1), 1.0, atol=1e-5)
        np.testing.assert_allclose(stored, _normalised(vectors), atol=1e-6)

    def test_min_score_and_exclude(self, built, data):
        index = built["flat"]
        query = index.vector("v00010")
        hits = index.search(query, k=50, min_score=0.5, exclude_ids=["v00010"])
        assert hits[0] and all(h.score >= 0.5 for h in hits[0])
        assert "v00010" not in {h.id for h in hits[0]}

    def test_rank_all_is_exact_and_complete(self, built, data):
        index = built["ivfpq"]  # rank_all is exact whatever the kind
        _archive, vectors, ids = data
        ranked = list(index.rank_all("v00042"))
        assert len(ranked) == len(ids) - 1 and "v00042" not in {h.id for h in ranked}
        exact = _scores64(_normalised(vectors), _normalised(vectors[42:43]), "cosine")
        exact[0, 42] = -np.inf
        assert_top_k([[h.id for h in ranked[:50]]], exact, ids)
        assert [h.rank for h in ranked[:3]] == [1, 2, 3]


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_ties_come_by_row_whatever_the_kind(tmp_path, kind):
    """Equal scores (here: copies of one vector) come in row order, also at the k-th place,
    so that results do not depend on the order FAISS's heap leaves ties in."""
    vectors = realistic_vectors(600, 16, seed=5)
    copies = [100, 7, 350, 599, 42]  # rows holding the same vector as row 100
    vectors[copies] = vectors[100]
    ids = [f"v{i:05d}" for i in range(len(vectors))]
    archive = write_vector_archive(tmp_path / "t.zip", vectors, ids=ids)
    index = build_index([archive], tmp_path / "ix", kind=kind)
    for k in (2, 3, 5):
        hits = index.search(index.vector("v00100"), k=k)[0]
        assert [h.id for h in hits] == [ids[r] for r in sorted(copies)[:k]]
        assert all(h.score == hits[0].score for h in hits)


class TestApproximate:
    @pytest.mark.parametrize("kind", ["ivf", "ivfpq", "hnsw"])
    def test_recall_at_10(self, built, data, kind):
        index = built[kind]
        _archive, vectors, ids = data
        base = _normalised(vectors)
        queries = _normalised(HELD_OUT)
        _s, truth = _exact(base, queries, 10, "cosine")
        hits = index.search(queries, k=10)
        found = [{h.id for h in row} for row in hits]
        recall = np.mean(
            [len(f & {ids[r] for r in t}) / 10 for f, t in zip(found, truth, strict=True)]
        )
        assert recall >= 0.95, (kind, recall, index.search_params)
        assert index.sidecar["tuning"]["recall_at_10"] >= 0.95

    def test_auto_rule(self, data, tmp_path):
        archive, _vectors, _ids = data
        small = build_index([archive], tmp_path / "a", kind="auto")
        assert small.kind == "flat"
        big = build_index([archive], tmp_path / "b", kind="auto", flat_max=1000)
        assert big.kind == "ivfpq"
        assert big.sidecar["params"]["pq_m"] == 24  # d/2
        assert big.sidecar["params"]["nlist"] == engine.choose_nlist(3000, fast_scan=True) == 32
        tight = build_index(
            [archive], tmp_path / "c", kind="auto", flat_max=1000, memory_budget=60_000
        )
        assert tight.kind == "ivfpq" and tight.sidecar["params"]["pq_m"] < 24
        assert tight.sidecar["tuning"]["recall_at_10"] >= 0.95
        with pytest.raises(LimitError, match="raise memory_budget$"):
            build_index([archive], tmp_path / "d", kind="auto", memory_budget=1000)
        assert not (tmp_path / "d").exists()

    def test_codes_trained_beside_the_lists(self):
        """The PQ trained in a thread of its own beside the coarse k-means is the PQ
        that ``index.train`` gives once the lists are trained (fast-scan codes do not
        look at the lists): same centroids, same lists."""
        x = realistic_vectors(5000, 64, seed=3)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        plan = engine.plan_index("ivfpq", 5000, 64)
        serial = engine.new_index(plan, 64, "cosine")
        ivf = faiss.extract_index_ivf(serial)
        ivf.cp.niter, ivf.cp.seed, ivf.cp.max_points_per_centroid = 10, 0, 256
        faiss.Clustering(64, plan.nlist, ivf.cp).train(x, ivf.quantizer)
        with engine.one_thread():
            serial.train(x)
        built = engine.train_and_add(plan, x, "cosine", train_rows=np.arange(5000), seed=0)
        assert built.is_trained and built.ntotal == 5000
        # encoded with FAISS's transposed copy of the PQ centroids (not written with the index)
        assert faiss.downcast_index(faiss.extract_index_ivf(built)).pq.transposed_centroids.size()

        def parts(index):
            ivf = faiss.downcast_index(faiss.extract_index_ivf(index))
            quantizer = faiss.downcast_index(ivf.quantizer)
            return (
                faiss.vector_to_array(ivf.pq.centroids),
                faiss.vector_to_array(quantizer.codes),
            )

        for mine, theirs in zip(parts(built), parts(serial), strict=True):
            assert np.array_equal(mine, theirs)

    def test_plan_sizes(self):
        assert engine.choose_nlist(1_000_000) == 1024
        assert engine.choose_nlist(100) == 2
        # fast-scan lists: the power of two nearest sqrt(n) / 2
        assert engine.choose_nlist(1_000_000, fast_scan=True) == 512
        assert engine.choose_nlist(400, fast_scan=True) == 8  # sqrt(400) / 2 = 10
        plan = engine.plan_index("auto", 1_000_000, 512)
        assert plan.kind == "ivfpq" and plan.factory == "IVF512,PQ256x4fs"
        assert engine.plan_index("ivfpq", 1_000_000, 512).nlist == 512
        assert engine.plan_index("ivf", 1_000_000, 512).nlist == 1024  # flat lists: sqrt(n)
        squeezed = engine.plan_index("auto", 1_000_000, 512, memory_budget=100 * 2**20)
        assert squeezed.pq_m < 256 and squeezed.estimated_bytes <= 100 * 2**20
        assert engine.plan_index("auto", 10_000, 512).kind == "flat"
        with pytest.raises(LimitError):
            engine.plan_index("flat", 10_000, 512, memory_budget=1000)

    def test_sidecar_records_tuning(self, built):
        sidecar = built["ivfpq"].sidecar
        assert sidecar["search_params"]["nprobe"] >= 1 and sidecar["search_params"]["rerank"] >= 1
        assert sidecar["tuning"]["queries"] == engine.TUNE_QUERIES
        assert sidecar["tuning"]["target_recall_at_10"] == 0.95
        assert any(t["recall_at_10"] >= 0.95 for t in sidecar["tuning"]["tried"])
        assert sidecar["dimension"] == 48 and sidecar["metric"] == "cosine"
        assert sidecar["counts"]["indexed"] == 3000


class TestSaveLoad:
    @pytest.mark.parametrize("kind", ["flat", "ivf", "ivfpq", "hnsw"])
    def test_same_hits_after_load(self, built, kind):
        index = built[kind]
        queries = HELD_OUT[:20]
        before = index.search(queries, k=10)
        again = SimilarityIndex.load(index.path)
        assert again.search(queries, k=10) == before
        assert again.search_like(["v00001", "v00002"], k=7) == index.search_like(
            ["v00001", "v00002"], k=7
        )

    def test_vectors_file_is_plain_npy(self, built):
        path = built["flat"].path / "vectors.npy"
        array = np.load(path, mmap_mode="r")
        assert array.dtype == np.float32 and array.shape == (3000, 48)
        assert len(npy_header(3000, 48)) == HEADER_BYTES
        ids = json.loads((built["flat"].path / "ids.json").read_text())
        assert ids[:2] == ["v00000", "v00001"]
        assert faiss.read_index(str(built["flat"].path / "index.faiss")).ntotal == 3000

    def test_verify_checksums(self, built, tmp_path):
        copy = shutil.copytree(built["flat"].path, tmp_path / "copy")
        SimilarityIndex.load(copy, verify=True)
        with open(copy / "vectors.npy", "r+b") as stream:  # same size, other bytes
            stream.seek(HEADER_BYTES + 10)
            stream.write(b"\x01\x02")
        SimilarityIndex.load(copy)  # sizes still agree
        with pytest.raises(IndexMismatchError, match="checksum"):
            SimilarityIndex.load(copy, verify=True)


class TestMismatch:
    def _copy(self, built, tmp_path, kind="flat") -> Path:
        return Path(shutil.copytree(built[kind].path, tmp_path / kind))

    def test_missing_folder_and_sidecar(self, tmp_path):
        with pytest.raises(IndexMismatchError, match="no such index folder"):
            SimilarityIndex.load(tmp_path / "nope")
        (tmp_path / "empty").mkdir()
        with pytest.raises(IndexMismatchError, match="index.json"):
            SimilarityIndex.load(tmp_path / "empty")

    def test_missing_file(self, built, tmp_path):
        folder = self._copy(built, tmp_path)
        (folder / "ids.json").unlink()
        with pytest.raises(IndexMismatchError, match="ids.json is missing"):
            SimilarityIndex.load(folder)

    def test_sidecar_count_disagrees(self, built, tmp_path):
        folder = self._copy(built, tmp_path)
        sidecar = json.loads((folder / "index.json").read_text())
        sidecar["count"] = 2999
        (folder / "index.json").write_text(json.dumps(sidecar))
        with pytest.raises(IndexMismatchError, match="3000 x 48 vectors but the sidecar says"):
            SimilarityIndex.load(folder)

    def test_sidecar_dimension_disagrees(self, built, tmp_path):
        folder = self._copy(built, tmp_path)
        sidecar = json.loads((folder / "index.json").read_text())
        sidecar["dimension"] = 64
        (folder / "index.json").write_text(json.dumps(sidecar))
        with pytest.raises(IndexMismatchError, match="sidecar says 3000 x 64"):
            SimilarityIndex.load(folder)

    def test_replaced_file_size(self, built, tmp_path):
        folder = self._copy(built, tmp_path)
        (folder / "index.faiss").write_bytes(b"junk")
        with pytest.raises(IndexMismatchError, match="index.faiss is 4 bytes"):
            SimilarityIndex.load(folder)

    @pytest.mark.parametrize("kind", ["flat", "ivfpq"])
    def test_same_size_change_stops_before_faiss(self, built, tmp_path, monkeypatch, kind):
        # faiss.read_index trusts the sizes in the file: a damaged 141-byte file made it
        # allocate 6 GB. A file that does not match the sidecar never reaches it.
        folder = self._copy(built, tmp_path, kind)
        data = bytearray((folder / "index.faiss").read_bytes())
        data[40:48] = (2**38).to_bytes(8, "little")  # a length field, or close to one
        (folder / "index.faiss").write_bytes(bytes(data))

        def never(*_args):
            raise AssertionError("faiss.read_index was called")

        monkeypatch.setattr(faiss, "read_index", never)
        with pytest.raises(IndexMismatchError, match="index.faiss does not match its checksum"):
            SimilarityIndex.load(folder)
        sidecar = json.loads((folder / "index.json").read_text())
        del sidecar["files"]["index.faiss"]["crc32"]  # an older sidecar: its SHA-256
        (folder / "index.json").write_text(json.dumps(sidecar))
        with pytest.raises(IndexMismatchError, match="rebuild the index"):
            SimilarityIndex.load(folder)

    def test_sidecar_without_checksums_still_loads(self, built, tmp_path):
        folder = self._copy(built, tmp_path)
        sidecar = json.loads((folder / "index.json").read_text())
        assert isinstance(sidecar["files"]["index.faiss"]["crc32"], int)
        for record in sidecar["files"].values():
            record.pop("crc32", None)
            record.pop("sha256", None)
        (folder / "index.json").write_text(json.dumps(sidecar))
        assert len(SimilarityIndex.load(folder)) == 3000

    def test_wrong_kind_and_metric(self, built, tmp_path):
        folder = self._copy(built, tmp_path, "ivf")
        sidecar = json.loads((folder / "index.json").read_text())
        sidecar["kind"] = "hnsw"
        (folder / "index.json").write_text(json.dumps(sidecar))
        with pytest.raises(IndexMismatchError, match="IndexIVFFlat but the sidecar says"):
            SimilarityIndex.load(folder)
        sidecar["kind"], sidecar["metric"] = "ivf", "l2"
        (folder / "index.json").write_text(json.dumps(sidecar))
        with pytest.raises(IndexMismatchError, match="another metric"):
            SimilarityIndex.load(folder)

    def test_id_listed_twice(self, built, tmp_path):
        folder = self._copy(built, tmp_path)
        text = (folder / "ids.json").read_text()
        (folder / "ids.json").write_text(text.replace('"v00001"', '"v00000"'))  # same size
        index = SimilarityIndex.load(folder)
        with pytest.raises(IndexMismatchError, match="lists an id twice"):
            index.search_like([f"v{i:05d}" for i in range(2, 40)])  # many: the id map
        with pytest.raises(IndexMismatchError, match="lists an id twice"):
            remove_from_index(folder, ["v00005"])
        with pytest.raises(IndexMismatchError, match="checksum"):
            SimilarityIndex.load(folder, verify=True)

    def test_unknown_format_version(self, built, tmp_path):
        folder = self._copy(built, tmp_path)
        sidecar = json.loads((folder / "index.json").read_text())
        sidecar["format_version"] = 99
        (folder / "index.json").write_text(json.dumps(sidecar))
        with pytest.raises(IndexMismatchError, match="format version 99"):
            SimilarityIndex.load(folder)

    def test_query_dimension(self, built):
        with pytest.raises(IndexMismatchError, match="has 12 dimensions but the index has 48"):
            built["ivfpq"].search(np.ones(12, dtype=np.float32))
        with pytest.raises(SchemaError, match="all zeros"):
            built["flat"].search(np.zeros(48, dtype=np.float32))
        with pytest.raises(SchemaError, match="NaN"):
            built["flat"].search(np.full(48, np.nan, dtype=np.float32))
        with pytest.raises(InputNotFoundError, match="nope"):
            built["flat"].search_like(["nope"])


class TestBadInputs:
    def test_no_embeddings_are_counted(self, make_archive, tmp_path):
        records = [vector_input(f"a{i}", [float(i + 1), 1.0, 0.5]) for i in range(5)]
        records += [vector_input("none-1", None), make_input("none-2", text="hello")]
        archive = make_archive(records)
        index = build_index([archive], tmp_path / "ix")
        counts = index.sidecar["counts"]
        assert counts["indexed"] == 5 and counts["skipped_no_embedding"] == 2
        assert counts["inputs_read"] == 7

    def test_nothing_to_index(self, make_archive, tmp_path):
        archive = make_archive([make_input("t", text="x")])
        with pytest.raises(SchemaError, match="nothing to index"):
            build_index([archive], tmp_path / "ix")
        assert not (tmp_path / "ix").exists()

    @pytest.mark.parametrize(
        ("bad", "message"),
        [
            ([1.0, 2.0], "has 2 values where the first embedding has 3"),
            ([float("nan"), 1.0, 1.0], "NaN or infinite"),
            ([0.0, 0.0, 0.0], "all zeros"),
            ([], "empty embedding"),
        ],
    )
    def test_bad_vectors_named(self, make_archive, tmp_path, bad, message):
        records = [vector_input(f"ok{i}", [1.0, float(i), 2.0]) for i in range(4)]
        records.insert(2, vector_input("bad-one", bad))
        archive = make_archive(records)
        with pytest.raises(SchemaError, match=message) as info:
            build_index([archive], tmp_path / "ix")
        assert "'bad-one'" in str(info.value) and "pass skip_bad=True" in str(info.value)
        assert info.value.params == ("skip_bad=True",)
        assert not (tmp_path / "ix").exists()
        index = build_index([archive], tmp_path / "ix", skip_bad=True)
        assert len(index) == 4 and "bad-one" not in index
        assert index.sidecar["counts"]["skipped_bad"] == 1

    def test_many_bad_vectors_counted(self, make_archive, tmp_path):
        records = [vector_input(f"z{i}", [0.0, 0.0]) for i in range(8)]
        records.append(vector_input("good", [1.0, 0.0]))
        with pytest.raises(SchemaError, match=r"8 input\(s\).*and 3 more"):
            build_index([make_archive(records)], tmp_path / "ix")

    def test_majority_dimension_guard(self, make_archive, tmp_path):
        records = [vector_input("odd", [1.0, 2.0])]
        records += [vector_input(f"n{i}", [1.0, float(i), 3.0]) for i in range(3)]
        with pytest.raises(SchemaError, match="most embeddings have 3 values"):
            build_index([make_archive(records)], tmp_path / "ix", skip_bad=True)

    def test_declared_dimensions_mismatch(self, make_archive, tmp_path):
        record = vector_input("liar", [1.0, 2.0, 3.0])
        record.data.embeddings[0].num_dimensions = 5
        records = [record, vector_input("fine", [1.0, 0.0, 0.0])]
        with pytest.raises(SchemaError, match="declares num_dimensions 5"):
            build_index([make_archive(records)], tmp_path / "ix")

    def test_embedding_number(self, make_archive, tmp_path):
        records = []
        for i in range(4):
            record = vector_input(f"m{i}", [1.0, float(i)])
            record.data.embeddings.add(vector=[float(i), 1.0, 0.0], num_dimensions=3)
            records.append(record)
        archive = make_archive(records)
        assert build_index([archive], tmp_path / "a").dimension == 2
        second = build_index([archive], tmp_path / "b", embedding=1)
        assert second.dimension == 3 and second.sidecar["embedding"] == 1
        with pytest.raises(SchemaError, match="no embedding number 2"):
            build_index([archive], tmp_path / "c", embedding=2)

    def test_duplicate_ids(self, make_archive, tmp_path):
        same = [vector_input("x", [1.0, 2.0]), vector_input("y", [2.0, 1.0])]
        first = make_archive(same, "one.zip")
        second = make_archive(same, "two.zip")
        index = build_index([first, second], tmp_path / "a")
        assert len(index) == 2 and index.sidecar["counts"]["duplicate_ids"] == 2
        third = make_archive([vector_input("x", [5.0, 1.0])], "three.zip")
        with pytest.raises(ConflictError, match="'x'"):
            build_index([first, third], tmp_path / "b")

    def test_json_flavour_and_sources(self, sample_json_archive, sample_archive, tmp_path):
        a = build_index([sample_json_archive], tmp_path / "a")
        b = build_index([sample_archive], tmp_path / "b")
        np.testing.assert_array_equal(np.asarray(a.vectors), np.asarray(b.vectors))
        source = b.sources[0]
        assert source["path"] == str(sample_archive.resolve())
        assert len(source["sha256"]) == 64 and source["inputs"] == 31

    def test_output_checks(self, sample_archive, tmp_path):
        build_index([sample_archive], tmp_path / "ix")
        with pytest.raises(OutputError, match="pass force=True to replace it"):
            build_index([sample_archive], tmp_path / "ix")
        build_index([sample_archive], tmp_path / "ix", force=True)
        (tmp_path / "file").write_text("x")
        with pytest.raises(OutputError, match="not a folder"):
            build_index([sample_archive], tmp_path / "file")
        other = tmp_path / "other"
        other.mkdir()
        (other / "keep.txt").write_text("x")
        with pytest.raises(OutputError, match="not an index folder"):
            build_index([sample_archive], other, force=True)
        assert (other / "keep.txt").exists()

    def test_too_few_for_ivf(self, sample_archive, tmp_path):
        with pytest.raises(SchemaError, match="at least 64"):
            build_index([sample_archive], tmp_path / "ix", kind="ivfpq")


class TestHugeVectors:
    """Components above ~1.8e19 overflow a float32 norm: no warning, the right unit vector."""

    HUGE = [3e19, 4e19, 0.0]  # norm 5e19: its float32 square is infinite
    TINY = [3e-30, 4e-30, 0.0]  # its float32 squares underflow to zero

    def test_cosine_takes_huge_and_tiny_vectors(self, make_archive, tmp_path):
        records = [vector_input("huge", self.HUGE), vector_input("tiny", self.TINY)]
        records.append(vector_input("plain", [1.0, 2.0, 2.0]))
        archive = make_archive(records)
        index = build_index([archive], tmp_path / "ix")  # warnings are errors here
        np.testing.assert_allclose(index.vector("huge"), [0.6, 0.8, 0.0], rtol=1e-6)
        np.testing.assert_allclose(index.vector("tiny"), [0.6, 0.8, 0.0], rtol=1e-6)
        hits = index.search(np.array(self.HUGE, dtype=np.float32), k=2)[0]
        assert {hit.id for hit in hits} == {"huge", "tiny"}
        assert hits[0].score == pytest.approx(1.0, abs=1e-6)
        # the same vectors again are unchanged, not conflicts
        add_to_index(tmp_path / "ix", [archive])
        assert len(SimilarityIndex.load(tmp_path / "ix")) == 3

    def test_cosine_from_arrays_and_float64_beyond_float32(self, tmp_path):
        vectors = np.array([self.HUGE, [1e300, 0.0, 1.0], [0.0, 1.0, 0.0]])
        with pytest.raises(SchemaError, match="'b' embedding holds values beyond the float32"):
            build_index_from_arrays(vectors, ["a", "b", "c"], tmp_path / "ix")
        index = build_index_from_arrays(vectors, ["a", "b", "c"], tmp_path / "ix", skip_bad=True)
        assert len(index) == 2
        np.testing.assert_allclose(index.vector("a"), [0.6, 0.8, 0.0], rtol=1e-6)

    @pytest.mark.parametrize("metric", ["cosine", "ip", "l2"])
    def test_one_vector_and_a_block_give_the_same_bits(self, metric):
        # index add compares an incoming vector with the stored one exactly
        from toolkit.index._collect import prepare_rows, prepare_vector

        block = realistic_vectors(200, 48, seed=3)
        block[3], block[5, 0], block[7] = 0, np.nan, block[7] * np.float32(1e20)
        block[9, 1] = np.array([0x7F800001], dtype=np.uint32).view(np.float32)[0]  # signalling
        rows, usable, problems = prepare_rows(block, metric)
        assert set(problems) == ({3, 5, 9} if metric == "cosine" else {3, 5, 7, 9})
        assert problems[9] == "holds NaN or infinite values"
        for n, vector in enumerate(block):
            one = prepare_vector(vector, metric)
            assert (one is None) == (not usable[n])
            if one is not None:
                np.testing.assert_array_equal(one, rows[n])
        if metric == "cosine":
            np.testing.assert_allclose(np.linalg.norm(rows[usable], axis=1), 1.0, atol=1e-6)

    @pytest.mark.parametrize("metric", ["ip", "l2"])
    def test_ip_and_l2_name_a_norm_too_large(self, make_archive, tmp_path, metric):
        records = [vector_input("huge", self.HUGE), vector_input("plain", [1.0, 2.0, 2.0])]
        archive = make_archive(records)
        with pytest.raises(SchemaError, match=r"'huge' embedding has a norm of 5e\+19") as info:
            build_index([archive], tmp_path / "ix", metric=metric)
        assert "pass skip_bad=True" in str(info.value)
        index = build_index([archive], tmp_path / "ix", metric=metric, skip_bad=True)
        assert list(index.ids) == ["plain"]
        with pytest.raises(SchemaError, match="query 0 has a norm of 5e"):
            index.search(np.array(self.HUGE, dtype=np.float32))
        assert index.search(np.zeros(3, dtype=np.float32), k=1)[0][0].id == "plain"


class TestChanges:
    @pytest.mark.parametrize("kind", ["flat", "ivf", "ivfpq", "hnsw"])
    def test_add_then_remove(self, tmp_path, kind):
        vectors = realistic_vectors(1200, 32, seed=11)
        first = write_vector_archive(tmp_path / "first.zip", vectors[:1000])
        ids = [f"v{i:05d}" for i in range(1200)]
        more = write_vector_archive(tmp_path / "more.zip", vectors[1000:], ids=ids[1000:])
        folder = tmp_path / "ix"
        build_index([first], folder, kind=kind)
        report = add_to_index(folder, [more])
        assert (report.added, report.count, report.unchanged) == (200, 1200, 0)
        index = SimilarityIndex.load(folder, verify=True)
        assert index.ids == ids and len(index.sources) == 2
        np.testing.assert_allclose(np.asarray(index.vectors), _normalised(vectors), atol=1e-6)
        # A new vector is found by its own search.
        assert index.search(vectors[1100], k=1)[0][0].id == "v01100"
        assert index.sidecar["history"][-1]["op"] == "add"
        # Adding the same archive again changes nothing.
        again = add_to_index(folder, [more])
        assert (again.added, again.unchanged, again.count) == (0, 200, 1200)
        # Remove some old and some new inputs.
        gone = ["v00003", "v00500", "v01100"]
        removed = remove_from_index(folder, gone)
        assert (removed.removed, removed.count) == (3, 1197)
        index = SimilarityIndex.load(folder, verify=True)
        assert not set(gone) & set(index.ids)
        keep = [i for i in range(1200) if ids[i] not in gone]
        np.testing.assert_allclose(np.asarray(index.vectors), _normalised(vectors)[keep], atol=1e-6)
        # Every remaining input still finds itself first: labels were renumbered.
        for probe in ("v00004", "v00999", "v01101", "v01199"):
            assert index.search(vectors[ids.index(probe)], k=1)[0][0].id == probe
        hits = index.search(vectors[:50], k=10)
        assert not {h.id for row in hits for h in row} & set(gone)
        assert index.sidecar["tuning"]["recall_at_10"] >= 0.9

    def test_add_conflict_and_replace(self, tmp_path):
        vectors = realistic_vectors(300, 16, seed=2)
        base = write_vector_archive(tmp_path / "base.zip", vectors)
        folder = tmp_path / "ix"
        build_index([base], folder)
        changed = vectors[:3] * -1.0
        update = write_vector_archive(
            tmp_path / "update.zip", changed, ids=["v00000", "v00001", "v00002"]
        )
        before = (folder / "vectors.npy").read_bytes()
        with pytest.raises(ConflictError, match="pass replace=True"):
            add_to_index(folder, [update])
        assert (folder / "vectors.npy").read_bytes() == before
        report = add_to_index(folder, [update], replace=True)
        assert (report.replaced, report.added, report.count) == (3, 0, 300)
        index = SimilarityIndex.load(folder)
        np.testing.assert_allclose(index.vector("v00001"), _normalised(changed)[1], atol=1e-6)
        assert index.search(changed[2], k=1)[0][0].id == "v00002"

    def test_add_checks(self, tmp_path, sample_archive):
        folder = tmp_path / "ix"
        build_index([sample_archive], folder)
        other = write_vector_archive(tmp_path / "other.zip", realistic_vectors(5, 8))
        with pytest.raises(SchemaError, match="where the index has 256"):
            add_to_index(folder, [other])
        report = add_to_index(folder, [other], skip_bad=True)
        assert (report.added, report.skipped_bad) == (0, 5)

    def test_remove_checks(self, tmp_path, sample_archive):
        folder = tmp_path / "ix"
        build_index([sample_archive], folder)
        with pytest.raises(InputNotFoundError, match="'nope'"):
            remove_from_index(folder, ["img-0001", "nope"])
        assert len(SimilarityIndex.load(folder)) == 30
        report = remove_from_index(folder, ["img-0001", "nope"], missing_ok=True)
        assert report.removed == 1
        with pytest.raises(SchemaError, match="empty index"):
            remove_from_index(folder, SimilarityIndex.load(folder).ids)


class TestEvaluate:
    def test_report(self, built):
        report = evaluate_index(built["ivfpq"], queries=50)
        assert set(report.recall) == {1, 10, 100}
        assert report.recall[10] >= 0.9 and report.queries == 50
        assert 0 < report.latency_ms_p50 <= report.latency_ms_p99
        assert report.exact_latency_ms_p50 > 0
        data = report.to_dict()
        assert data["recall"]["recall@10"] == round(report.recall[10], 4)
        exact = evaluate_index(built["flat"], queries=30)
        assert exact.recall == {1: 1.0, 10: 1.0, 100: 1.0}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("4GB", 4 << 30),
        ("512MB", 512 << 20),
        ("1.5GiB", int(1.5 * (1 << 30))),
        ("1000", 1000),
        ("64k", 64 << 10),
        ("2 G", 2 << 30),
    ],
)
def test_parse_size(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "GB", "-1GB", "4XB", "lots"])
def test_parse_size_rejects(text):
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)


def test_build_from_arrays_matches_archive(data, built, tmp_path):
    _archive, vectors, ids = data
    memmap_path = tmp_path / "v.npy"
    np.save(memmap_path, vectors)
    index = build_index_from_arrays(np.load(memmap_path, mmap_mode="r"), ids, tmp_path / "ix")
    assert index.sidecar["sources"] == [{"path": None, "kind": "arrays", "inputs": 3000}]
    np.testing.assert_array_equal(np.asarray(index.vectors), np.asarray(built["flat"].vectors))
    queries = HELD_OUT[:10]
    assert index.search(queries, k=5) == built["flat"].search(queries, k=5)
    bad = vectors[:10].copy()
    bad[3] = 0
    with pytest.raises(SchemaError, match="'v00003' embedding is all zeros"):
        build_index_from_arrays(bad, ids[:10], tmp_path / "bad")
    with pytest.raises(ValueError, match="one id per row"):
        build_index_from_arrays(vectors[:10], ids[:9], tmp_path / "bad")
