"""Leak-free splits (split --group-by) and dedupe."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import make_input
from index_helpers import realistic_vectors
from merge_helpers import hashes, read_ids, read_inputs

from toolkit.cli import cli
from toolkit.dedupe import dedupe_archive
from toolkit.index import build_index
from toolkit.messages import Input
from toolkit.split import GroupBy, parse_group_by, split_archive

RATIOS = {"train": 0.6, "val": 0.2, "test": 0.2}


def _where(report) -> dict[str, str]:
    found = {}
    for name, path in report.files.items():
        for input_id in read_ids(path):
            found[input_id] = name
    return found


# -- the known answer on sample_data ----------------------------------------------------


@pytest.mark.parametrize("stratify_by", [None, "concept"])
def test_sample_duplicates_always_together(sample_archive, tmp_path, stratify_by):
    for seed in range(12):
        report = split_archive(
            sample_archive,
            tmp_path / f"s{seed}",
            ratios=RATIOS,
            seed=seed,
            stratify_by=stratify_by,
            group_by="near-duplicates",
        )
        where = _where(report)
        assert where["img-0007"] == where["img-0008"], seed
        assert where["img-0017"] == where["img-0018"], seed
        assert len(where) == 31
        assert report.groups["count"] == 29 and report.groups["grouped_inputs"] == 4
        assert report.groups["ungrouped_inputs"] == 1  # the text input has no embedding


# -- hand-made groups ----------------------------------------------------------------------

GROUPS = [8, 5, 3, 3, 2, 2]  # near-duplicate groups; the rest are singletons
SINGLES = 37


def _grouped_records() -> tuple[list[Input], list[list[str]]]:
    """Inputs whose embeddings form GROUPS of near-copies, shuffled in archive order."""
    base = realistic_vectors(len(GROUPS) + SINGLES, 16, seed=21)
    rng = np.random.default_rng(5)
    items: list[tuple[str, np.ndarray, str]] = []
    groups: list[list[str]] = []
    for g, size in enumerate(GROUPS):
        members = []
        for m in range(size):
            input_id = f"g{g}-{m}"
            vector = base[g] + 1e-3 * rng.standard_normal(16).astype(np.float32)
            items.append((input_id, vector, "rare" if g % 2 else "common"))
            members.append(input_id)
        groups.append(members)
    for s in range(SINGLES):
        items.append((f"s{s:02d}", base[len(GROUPS) + s], "rare" if s % 5 == 0 else "common"))
    order = rng.permutation(len(items))
    records = []
    for i in order:
        input_id, vector, concept = items[i]
        record = make_input(
            input_id, image_bytes=b"x", vector=vector.tolist(), concepts=[(concept, 1.0)]
        )
        records.append(record)
    return records, groups


@pytest.fixture(name="grouped")
def _grouped(make_archive):
    records, groups = _grouped_records()
    return make_archive(records, "grouped.zip", batch_size=16), groups


@pytest.mark.parametrize("stratify_by", [None, "concept"])
def test_groups_land_whole_and_ratios_hold(grouped, tmp_path, stratify_by):
    archive, groups = grouped
    n = sum(GROUPS) + SINGLES
    for seed in range(5):
        report = split_archive(
            archive,
            tmp_path / f"o{seed}",
            ratios=RATIOS,
            seed=seed,
            stratify_by=stratify_by,
            group_by="near-duplicates:0.99",
        )
        where = _where(report)
        for members in groups:
            assert len({where[m] for m in members}) == 1, (seed, members)
        for name, ratio in RATIOS.items():
            assert abs(report.counts[name] - ratio * n) <= max(GROUPS)
        assert report.groups["largest"]["size"] == 8
        assert report.groups["largest"]["ids"] == sorted(
            groups[0], key=lambda i: list(read_ids(archive)).index(i)
        )
        assert report.groups["largest"]["split"] == where["g0-0"]
        assert report.groups["count"] == len(GROUPS) + SINGLES
        assert sum(report.achieved.values()) == pytest.approx(1.0)
        assert sum(report.counts.values()) == n


def test_grouped_stratification_spreads_the_rare_concept(grouped, tmp_path):
    archive, _groups = grouped
    report = split_archive(
        archive,
        tmp_path / "o",
        ratios={"train": 0.5, "test": 0.5},
        seed=1,
        stratify_by="concept",
        group_by="near-duplicates:0.99",
    )
    rare = report.concepts["rare"]
    total = sum(rare.values())
    assert abs(rare["train"] - total / 2) <= 5  # within the largest rare group


def test_index_gives_the_same_groups(grouped, tmp_path):
    archive, groups = grouped
    index = build_index([archive], tmp_path / "ix", kind="flat")
    a = split_archive(
        archive,
        tmp_path / "a",
        ratios=RATIOS,
        seed=3,
        group_by="near-duplicates:0.99",
        index=index.path,
    )
    b = split_archive(
        archive, tmp_path / "b", ratios=RATIOS, seed=3, group_by="near-duplicates:0.99"
    )
    assert _where(a) == _where(b)


def test_metadata_groups(make_archive, tmp_path):
    records = []
    for i in range(40):
        metadata = {"patient": i % 7} if i % 10 else {"other": 1}  # 4 inputs without the key
        if i == 3:
            metadata = {"patient": 3.0}  # the same value as 3 (numbers are doubles)
        records.append(make_input(f"p{i:02d}", image_bytes=b"x", metadata=metadata))
    archive = make_archive(records)
    report = split_archive(
        archive,
        tmp_path / "o",
        ratios={"train": 0.7, "test": 0.3},
        seed=2,
        group_by="metadata:patient",
    )
    where = _where(report)
    by_patient: dict[int, set[str]] = {}
    for i in range(40):
        if i % 10:
            by_patient.setdefault(i % 7, set()).add(where[f"p{i:02d}"])
    assert all(len(splits) == 1 for splits in by_patient.values())
    assert report.groups["ungrouped_inputs"] == 4
    assert report.groups["count"] == 7 + 4
    assert report.to_dict()["group_by"] == "metadata:patient"


def test_singletons_give_the_plain_quotas(make_archive, tmp_path):
    records = [make_input(f"u{i}", image_bytes=b"x", metadata={"k": i}) for i in range(31)]
    archive = make_archive(records)
    report = split_archive(
        archive, tmp_path / "o", ratios={"a": 0.7, "b": 0.2, "c": 0.1}, group_by="metadata:k"
    )
    plain = split_archive(archive, tmp_path / "p", ratios={"a": 0.7, "b": 0.2, "c": 0.1})
    assert all(abs(report.counts[k] - plain.counts[k]) <= 1 for k in plain.counts)
    assert sum(report.counts.values()) == 31


def test_parse_group_by():
    assert parse_group_by("near-duplicates") == GroupBy("near-duplicates")
    assert parse_group_by("near-duplicates:0.9") == GroupBy("near-duplicates", threshold=0.9)
    assert parse_group_by("metadata:a.b") == GroupBy("metadata", key="a.b")
    assert str(parse_group_by("near-duplicates:0.9")) == "near-duplicates:0.9"
    for bad in (
        "near-duplicates:x",
        "metadata:",
        "metadata:a..b",
        "concept",
        "near-duplicates:nan",
    ):
        with pytest.raises(ValueError):
            parse_group_by(bad)


def test_split_cli(runner, sample_archive, tmp_path):
    out = tmp_path / "splits"
    report = tmp_path / "r.json"
    args = [
        "split",
        str(sample_archive),
        "--ratios",
        "train=0.8,test=0.2",
        "--group-by",
        "near-duplicates:0.95",
        "-o",
        str(out),
        "--report",
        str(report),
    ]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "groups (near-duplicates:0.95): 29, 4 inputs in groups of 2 or more" in result.stderr
    data = json.loads(report.read_text())
    assert data["group_by"] == "near-duplicates:0.95"
    assert set(data["achieved_ratios"]) == {"train", "test"}
    result = runner.invoke(
        cli,
        [
            "split",
            str(sample_archive),
            "--ratios",
            "a=1",
            "--index",
            str(tmp_path),
            "-o",
            str(tmp_path / "x"),
        ],
    )
    assert result.exit_code == 2 and "--index goes with --group-by near-duplicates" in result.stderr
    result = runner.invoke(
        cli,
        [
            "split",
            str(sample_archive),
            "--ratios",
            "a=1",
            "--group-by",
            "colour",
            "-o",
            str(tmp_path / "x"),
        ],
    )
    assert result.exit_code == 2 and "group by near-duplicates" in result.stderr


def test_no_embeddings_is_an_error(make_archive, tmp_path, runner):
    archive = make_archive([make_input("a", image_bytes=b"x")])
    result = runner.invoke(
        cli,
        [
            "split",
            str(archive),
            "--ratios",
            "a=1",
            "--group-by",
            "near-duplicates",
            "-o",
            str(tmp_path / "x"),
        ],
    )
    assert result.exit_code == 1
    assert "no input carries an embedding" in result.stderr
    assert not (tmp_path / "x").exists()


# -- dedupe ----------------------------------------------------------------------------------


@pytest.fixture(name="dups")
def _dups(make_archive):
    base = realistic_vectors(5, 8, seed=9)
    rng = np.random.default_rng(1)

    def near(row):
        return (base[row] + 1e-4 * rng.standard_normal(8).astype(np.float32)).tolist()

    records = [
        make_input("a1", image_bytes=b"xx", width=10, height=10, vector=near(0)),
        make_input("b1", image_bytes=b"x", vector=near(1), concepts=[("c", 1.0)]),
        make_input("a2", image_bytes=b"x", width=30, height=20, vector=near(0)),
        make_input("solo", image_bytes=b"x", vector=base[2].tolist()),
        make_input(
            "b2",
            image_bytes=b"xxxx",
            vector=near(1),
            concepts=[("c", 1.0), ("d", 0.0)],
            boxes=[("c", 0.1, 0.1, 0.2, 0.2)],
        ),
        make_input("none", image_bytes=b"x"),  # no embedding: kept
        make_input("a3", image_bytes=b"x", width=30, height=20, vector=near(0)),
    ]
    return make_archive(records, "dups.zip", batch_size=3)


@pytest.mark.parametrize(
    ("keep", "kept"),
    [
        ("first", ["a1", "b1", "solo", "none"]),
        ("largest", ["a2", "solo", "b2", "none"]),  # a2 ties a3 at 600 px: the first
        ("most-labels", ["a1", "solo", "b2", "none"]),
    ],
)
def test_dedupe_keep_rules(dups, tmp_path, keep, kept):
    before = hashes([dups])
    out = tmp_path / f"{keep}.zip"
    report = dedupe_archive(dups, out, keep=keep, threshold=0.99)
    assert read_ids(out) == kept
    assert hashes([dups]) == before
    assert report.inputs_read == 7 and report.inputs_written == 4
    assert report.inputs_without_embedding == 1
    groups = {g.kept: (g.size, set(g.removed)) for g in report.groups}
    assert len(groups) == 2
    assert sorted(size for size, _ in groups.values()) == [2, 3]
    assert report.groups[0].size == 3  # largest first
    largest = report.groups[0]
    assert {largest.kept, *largest.removed} == {"a1", "a2", "a3"}


def test_dedupe_with_index_and_unchanged_copies(dups, tmp_path):
    index = build_index([dups], tmp_path / "ix", kind="flat")
    out = tmp_path / "out.zip"
    report = dedupe_archive(dups, out, threshold=0.99, index=index.path)
    assert read_ids(out) == ["a1", "b1", "solo", "none"]
    assert report.inputs_without_embedding == 1
    original = {r.id: r.SerializeToString(deterministic=True) for r in read_inputs(dups)}
    for record in read_inputs(out):
        assert record.SerializeToString(deterministic=True) == original[record.id]


def test_dedupe_cli(runner, sample_archive, tmp_path):
    out = tmp_path / "unique.zip"
    report = tmp_path / "groups.json"
    args = [
        "dedupe",
        str(sample_archive),
        "-o",
        str(out),
        "--threshold",
        "0.95",
        "--keep",
        "most-labels",
        "--report",
        str(report),
    ]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    assert [(g["kept"], g["removed"]) for g in data["groups"]] == [
        ("img-0007", ["img-0008"]),
        ("img-0017", ["img-0018"]),
    ]
    assert data["inputs_written"] == 29 and len(read_ids(out)) == 29
    result = runner.invoke(cli, args)
    assert result.exit_code == 1 and "exists; pass --force" in result.stderr


def test_dedupe_no_embeddings(make_archive, tmp_path, runner):
    archive = make_archive([make_input("a", image_bytes=b"x")])
    out = tmp_path / "out.zip"
    result = runner.invoke(cli, ["dedupe", str(archive), "-o", str(out)])
    assert result.exit_code == 1 and "no input carries an embedding" in result.stderr
    assert not out.exists()
