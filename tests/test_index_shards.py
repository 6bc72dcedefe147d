"""An index built from shards: recall against numpy's exact answer, the lists on disk and
memory-mapped, a Parquet dataset as the source, duplicates by shard, the command line."""

from __future__ import annotations

import json
from pathlib import Path

import faiss
import numpy as np
import pytest
from dask_helpers import write_plain_vectors
from index_helpers import realistic_vectors, write_vector_archive

from toolkit.cli import cli
from toolkit.errors import IndexMismatchError
from toolkit.index import SimilarityIndex, add_to_index, build_index, find_duplicates
from toolkit.index.shards import build_sharded_index, find_duplicates_sharded

N, D = 2000, 48


@pytest.fixture(name="archives", scope="module")
def _archives(tmp_path_factory) -> list[Path]:
    return write_plain_vectors(tmp_path_factory.mktemp("shards"), 3, N, D)


@pytest.fixture(name="sharded", scope="module")
def _sharded(archives, tmp_path_factory) -> SimilarityIndex:
    out = tmp_path_factory.mktemp("built") / "index"
    return build_sharded_index(archives, out, workers=2, shard_rows=1500)


def _all_vectors(archives) -> tuple[list[str], np.ndarray]:
    ids = [f"s{i}-{j:05d}" for i in range(len(archives)) for j in range(N)]
    matrix = np.vstack([realistic_vectors(N, D, seed=20 + i) for i in range(len(archives))])
    return ids, matrix


def test_recall_at_10_against_numpy(archives, sharded):
    ids, matrix = _all_vectors(archives)
    normed = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    # New vectors drawn as archive s0's were (same rotation and spectrum), not in the index.
    queries = realistic_vectors(N + 200, D, seed=20)[N:]
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = np.argsort(-(queries.astype(np.float64) @ normed.T.astype(np.float64)), axis=1)[:, :10]
    hits = sharded.search(queries, k=10)
    found = 0
    for row, got in zip(exact, hits, strict=True):
        found += len({ids[r] for r in row} & {h.id for h in got})
    recall = found / (10 * len(queries))
    assert recall >= 0.95, recall
    assert sharded.sidecar["tuning"]["recall_at_10"] >= 0.95


def test_the_lists_are_on_disk_and_mapped(sharded):
    folder = sharded.path
    assert sharded.kind == "ivf" and len(sharded) == 3 * N
    lists = faiss.extract_index_ivf(sharded.faiss_index).invlists
    assert type(faiss.downcast_InvertedLists(lists)).__name__ == "OnDiskInvertedLists"
    ivfdata = folder / "index.ivfdata"
    # The codes (3 x 2000 x 48 floats) are in index.ivfdata, not in index.faiss.
    assert ivfdata.stat().st_size >= 3 * N * D * 4
    assert (folder / "index.faiss").stat().st_size < 3 * N * D * 4 / 10
    assert sharded.sidecar["files"]["index.ivfdata"]["bytes"] == ivfdata.stat().st_size
    assert sharded.sidecar["ondisk"]["shards"] == 4
    assert not (folder / "shards").exists()
    # The first and last rows are in the lists: their own vectors find them.
    again = sharded.search(np.asarray(sharded.vectors[[0, 3 * N - 1]]), k=1, nprobe=64)
    assert [h[0].id for h in again] == ["s0-00000", "s2-01999"]


def test_the_folder_moves_with_its_lists(sharded, tmp_path):
    import shutil

    moved = tmp_path / "moved"
    shutil.copytree(sharded.path, moved)
    index = SimilarityIndex.load(moved, verify=True)
    query = np.asarray(index.vectors[:5])
    assert [h[0].id for h in index.search(query, k=1, nprobe=64)] == [
        f"s0-{i:05d}" for i in range(5)
    ]


def test_a_changed_ivfdata_is_refused(sharded, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(sharded.path, copy)
    with open(copy / "index.ivfdata", "ab") as stream:
        stream.write(b"\0")
    with pytest.raises(IndexMismatchError, match="index.ivfdata is"):
        SimilarityIndex.load(copy)


def test_an_index_from_shards_is_not_changed_in_place(sharded, archives, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(sharded.path, copy)
    extra = write_vector_archive(tmp_path / "x.zip", realistic_vectors(5, D, seed=3), prefix="x")
    with pytest.raises(IndexMismatchError, match="built from shards"):
        add_to_index(copy, [extra])


def test_a_parquet_dataset_gives_the_same_index(archives, sharded, tmp_path):
    from toolkit.convert import convert_archives

    convert_archives(archives, tmp_path / "table", to="parquet", rows_per_file=2500)
    index = build_sharded_index(
        [tmp_path / "table"], tmp_path / "index", workers=2, shard_rows=1500
    )
    assert index.ids == sharded.ids
    assert np.array_equal(np.asarray(index.vectors), np.asarray(sharded.vectors))
    assert index.sidecar["sources"][0]["kind"] == "parquet"
    assert (tmp_path / "index" / "index.ivfdata").read_bytes() == (
        sharded.path / "index.ivfdata"
    ).read_bytes()


def test_duplicates_by_shard_match_find_duplicates(tmp_path):
    base = realistic_vectors(1500, 32, seed=5)
    rng = np.random.default_rng(6)
    twins = base[:40] + 0.001 * rng.standard_normal((40, 32)).astype(np.float32)
    archive = write_vector_archive(tmp_path / "d.zip", np.vstack([base, twins]))
    sharded = build_sharded_index([archive], tmp_path / "sharded", workers=2, shard_rows=400)
    by_shard = find_duplicates_sharded(sharded.path, threshold=0.99, workers=2, shard_rows=300)
    whole = find_duplicates(sharded, threshold=0.99)
    assert len(by_shard) >= 40
    assert [g.ids for g in by_shard] == [g.ids for g in whole]
    assert [round(g.min_score, 5) for g in by_shard] == [round(g.min_score, 5) for g in whole]
    # And the groups an exact index finds.
    flat = build_index([archive], tmp_path / "flat", kind="flat")
    assert {g.ids for g in find_duplicates(flat, threshold=0.99)} == {g.ids for g in by_shard}


def test_command_line_build_search_and_duplicates(archives, runner, tmp_path):
    out = tmp_path / "idx"
    result = runner.invoke(
        cli,
        ["index", "build", *map(str, archives), "-o", str(out), "--shard-rows", "2500"]
        + ["--workers", "2", "--json"],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["kind"] == "ivf" and summary["count"] == 3 * N
    result = runner.invoke(cli, ["search", str(out), "--like", "s1-00007", "-k", "3", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]  # nothing else on stdout
    assert len(lines) == 3
    result = runner.invoke(
        cli, ["duplicates", str(out), "--scheduler", "threads", "--threshold", "0.999", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # no near-duplicates in the seeded data


def test_command_line_usage(archives, runner, tmp_path):
    out = str(tmp_path / "idx")
    result = runner.invoke(cli, ["index", "build", str(archives[0]), "-o", out, "--workers", "2"])
    assert result.exit_code == 2 and "apply to --shard-rows" in result.output
    result = runner.invoke(
        cli,
        ["index", "build", str(archives[0]), "-o", out, "--shard-rows", "10", "--kind", "hnsw"],
    )
    assert result.exit_code == 2 and "--shard-rows builds an ivf index" in result.output
    result = runner.invoke(
        cli,
        ["index", "build", str(archives[0]), "-o", out, "--shard-rows", "10"]
        + ["--scheduler", "nowhere"],
    )
    assert result.exit_code == 2 and "tcp://10.0.0.5:8786" in result.output
    assert not Path(out).exists()
