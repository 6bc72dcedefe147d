"""Pairs above a threshold for ``duplicates``: exact, partitioned, and the groups they make."""

from __future__ import annotations

import json

import numpy as np
import pytest

from toolkit.cli import cli
from toolkit.index import _pairs, build_index_from_arrays
from toolkit.index._pairs import threshold_pairs
from toolkit.index.groups import in_memory_index
from toolkit.index.ops import _components, find_duplicates


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x.astype(np.float64), axis=1, keepdims=True)).astype(np.float32)


def _copy_at(x: np.ndarray, source: int, copy: int, target: float, rng) -> None:
    """Row ``copy`` made a unit vector at cosine ``target`` to row ``source``."""
    noise = rng.standard_normal(x.shape[1])
    base = x[source].astype(np.float64)
    noise -= (noise @ base) * base
    noise /= np.linalg.norm(noise)
    x[copy] = (target * base + np.sqrt(1 - target**2) * noise).astype(np.float32)


def _planted(n: int, d: int, seed: int, copies: int) -> np.ndarray:
    """Isotropic unit vectors (no pair near 0.9) with ``copies`` rows replaced by copies of
    others at cosine 0.97-0.995, and as many at 0.80-0.85: none within 0.05 of 0.9."""
    rng = np.random.default_rng(seed)
    x = _unit(rng.standard_normal((n, d)))
    rows = rng.permutation(n)
    for number, (low, high) in enumerate(((0.97, 0.995), (0.80, 0.85))):
        picked = rows[number * 2 * copies : (number + 1) * 2 * copies]
        for source, copy in zip(picked[:copies], picked[copies:], strict=True):
            _copy_at(x, source, copy, rng.uniform(low, high), rng)
    return x


def _brute(x: np.ndarray, threshold: float) -> set[tuple[int, int]]:
    scores = x.astype(np.float64) @ x.astype(np.float64).T
    a, b = np.nonzero(np.triu(scores >= threshold, k=1))
    return set(zip(a.tolist(), b.tolist(), strict=True))


@pytest.fixture(name="planted", scope="module")
def _planted_fixture():
    return _planted(2000, 32, seed=5, copies=40)


def test_exact_is_every_pair(planted):
    a, b, scores, info = threshold_pairs(planted, np.arange(len(planted)), 0.9, "cosine")
    assert info.method == "exact"
    assert set(zip(a.tolist(), b.tolist(), strict=True)) == _brute(planted, 0.9)
    assert len(a) == 40 and (a < b).all()
    assert list(zip(a, b, strict=True)) == sorted(zip(a, b, strict=True))
    expected = np.einsum("ij,ij->i", planted[a].astype(np.float64), planted[b].astype(np.float64))
    np.testing.assert_allclose(scores, expected, atol=1e-5)


def test_partitioned_probing_every_cell_is_exact(planted):
    """An unreachable target makes it probe every cell (2000 rows: 32 cells): all pairs."""
    rows = np.arange(len(planted))
    exact = threshold_pairs(planted, rows, 0.9, "cosine", exact=True)
    a, b, scores, info = threshold_pairs(planted, rows, 0.9, "cosine", exact=False, target=1.5)
    assert info.method == "partitioned" and info.cells == 32 and info.probes == 32
    np.testing.assert_array_equal(a, exact[0])
    np.testing.assert_array_equal(b, exact[1])
    np.testing.assert_array_equal(scores, exact[2])  # re-scored the same way


def test_partitioned_recall(planted):
    """Fewer probes: only true pairs, with their exact scores, and most of them; the
    probes are the fewest whose measured recall reached the target."""
    rows = np.arange(len(planted))
    a, b, scores, info = threshold_pairs(planted, rows, 0.9, "cosine", exact=False, seed=3)
    truth = _brute(planted, 0.9)
    found = set(zip(a.tolist(), b.tolist(), strict=True))
    assert found <= truth
    assert len(found) >= 0.85 * len(truth)
    assert info.probes < info.cells
    last = info.tried[-1]
    assert last["probes"] == info.probes and last["recall_made_up_pairs"] >= 0.95
    for earlier in info.tried[:-1]:  # each fell short on one measure
        assert earlier["recall_made_up_pairs"] < 0.96 or earlier.get("recall_real_pairs", 1) < 1
    assert info.to_dict()["method"] == "partitioned"


def _clustered(n: int, d: int, seed: int, copies: int) -> np.ndarray:
    """Rows in tight groups (n / 50 centres, cosine ~0.6 to their centre), with planted
    copies at cosine 0.95-0.995 (a group's members score ~0.36 with each other)."""
    rng = np.random.default_rng(seed)
    centres = _unit(rng.standard_normal((n // 50, d)))
    x = _unit(centres[rng.integers(0, len(centres), n)] + 1.3 * _unit(rng.standard_normal((n, d))))
    rows = rng.permutation(n)
    for source, copy in zip(rows[:copies], rows[copies : 2 * copies], strict=True):
        _copy_at(x, source, copy, rng.uniform(0.95, 0.995), rng)
    return x


@pytest.mark.parametrize("make", [_planted, _clustered])
def test_partitioned_recall_against_numpy(make):
    """Pair recall of the partitioned search against exact numpy, on structured and
    unstructured rows alike: at least the target, only true pairs, same result twice."""
    x = make(6000, 64, seed=11, copies=150)
    rows = np.arange(len(x))
    truth = _brute(x, 0.93)
    a, b, scores, info = threshold_pairs(x, rows, 0.93, "cosine", exact=False, seed=2)
    found = set(zip(a.tolist(), b.tolist(), strict=True))
    assert info.method == "partitioned" and info.probes < info.cells
    assert found <= truth and len(truth) >= 150
    assert len(found) >= 0.95 * len(truth)
    again = threshold_pairs(x, rows, 0.93, "cosine", exact=False, seed=2)
    np.testing.assert_array_equal(again[0], a)
    np.testing.assert_array_equal(again[2], scores)


def test_selected_rows_and_l2(planted):
    rows = np.arange(0, len(planted), 2)
    a, b, _s, _info = threshold_pairs(planted, rows, 0.9, "cosine")
    sub = _brute(planted[rows], 0.9)
    assert set(zip(a.tolist(), b.tolist(), strict=True)) == {
        (int(rows[i]), int(rows[j])) for i, j in sub
    }
    every_cell = threshold_pairs(planted, rows, 0.9, "cosine", exact=False, target=1.5)
    assert every_cell[3].method == "partitioned" and every_cell[3].probes == every_cell[3].cells
    np.testing.assert_array_equal(every_cell[0], a)
    # l2 on unit vectors: distance <= sqrt(2 - 2 * 0.9) is cosine >= 0.9.
    la, lb, ls, _info = threshold_pairs(planted, np.arange(len(planted)), -np.sqrt(0.2), "l2")
    assert set(zip(la.tolist(), lb.tolist(), strict=True)) == _brute(planted, 0.9)
    assert (ls <= 0).all()
    none = threshold_pairs(planted, np.arange(len(planted)), 0.1, "l2")
    assert len(none[0]) == 0


def test_size_chooses_the_method(planted, monkeypatch):
    monkeypatch.setattr(_pairs, "EXACT_MAX", 1000)
    info = threshold_pairs(planted, np.arange(len(planted)), 0.9, "cosine")[3]
    assert info.method == "partitioned"
    info = threshold_pairs(planted, np.arange(1000), 0.9, "cosine")[3]
    assert info.method == "exact"


def test_components_match_union_find():
    rng = np.random.default_rng(0)
    n = 500
    a = rng.integers(0, n, 400)
    b = rng.integers(0, n, 400)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    expected = [find(i) for i in range(n)]
    assert _components(n, a, b).tolist() == expected
    assert _components(3, np.empty(0, np.int64), np.empty(0, np.int64)).tolist() == [0, 1, 2]


def test_find_duplicates_reports_how(planted):
    index = in_memory_index(planted, [f"r{i:04d}" for i in range(len(planted))])
    info: list = []
    exact = find_duplicates(index, threshold=0.9, info=info)
    assert info[0].method == "exact"
    assert sum(g.size for g in exact) == 80 and all(g.size == 2 for g in exact)
    again = find_duplicates(index, threshold=0.9, exact=False, target_recall=1.5, info=info)
    assert again == exact and info[1].method == "partitioned"


def test_command_exact_flag(planted, runner, tmp_path, monkeypatch):
    """Above EXACT_MAX the command searches by cells; --exact scores every pair."""
    build_index_from_arrays(planted, [f"r{i:04d}" for i in range(len(planted))], tmp_path / "ix")
    monkeypatch.setattr(_pairs, "EXACT_MAX", 100)
    seen: list[str] = []
    real = _pairs._partitioned

    def spy(*args, **kwargs):
        seen.append("partitioned")
        return real(*args, **kwargs)

    monkeypatch.setattr(_pairs, "_partitioned", spy)
    args = ["-q", "duplicates", str(tmp_path / "ix"), "--threshold", "0.9", "--json"]
    fast = runner.invoke(cli, args, catch_exceptions=False)
    assert fast.exit_code == 0 and seen == ["partitioned"]
    exact = runner.invoke(cli, [*args, "--exact"], catch_exceptions=False)
    assert exact.exit_code == 0 and seen == ["partitioned"]
    groups = [json.loads(line) for line in exact.stdout.splitlines()]
    pairs = {tuple(sorted(int(i[1:]) for i in g["ids"])) for g in groups}
    assert pairs == _brute(planted, 0.9)
    found = {
        tuple(sorted(int(i[1:]) for i in json.loads(line)["ids"]))
        for line in fast.stdout.splitlines()
    }
    assert found <= pairs
