"""split_archive and clarifai-archive split."""

from __future__ import annotations

import json
import random
import zipfile

import pytest
from helpers import make_input
from merge_helpers import hashes, leftovers, read_ids, read_inputs, sdk_ids, wire

from toolkit.cli import cli
from toolkit.errors import ArchiveError, EmptyResultError, OutputError
from toolkit.split import check_ratios, parse_ratios, split_archive


def _single_label(counts: dict[str, int], seed: int = 3) -> list:
    """Inputs with one concept each, shuffled."""
    records = [
        make_input(f"{concept}-{n:03d}", image_bytes=b"%d" % n, concepts=[(concept, 1.0)])
        for concept, count in counts.items()
        for n in range(count)
    ]
    random.Random(seed).shuffle(records)
    return records


def _multi_label(n: int, seed: int = 5) -> list:
    rnd = random.Random(seed)
    concepts = ["a", "b", "c", "d", "e", "f"]
    weights = [0.6, 0.3, 0.2, 0.1, 0.05, 0.03]
    records = []
    for i in range(n):
        labels = [c for c, w in zip(concepts, weights, strict=True) if rnd.random() < w]
        boxes = [(labels[0], 0.1, 0.1, 0.2, 0.2)] if labels and rnd.random() < 0.3 else []
        records.append(
            make_input(
                f"m{i:04d}",
                image_bytes=b"%d" % i,
                concepts=[(c, 1.0) for c in labels[1:]],
                boxes=boxes,
            )
        )
    return records


class TestRatios:
    def test_parse(self):
        assert parse_ratios("train=0.8,val=0.2") == {"train": 0.8, "val": 0.2}
        assert parse_ratios(" a=0.7, b=0.15 ,c=0.15,") == {"a": 0.7, "b": 0.15, "c": 0.15}
        assert parse_ratios("all=1") == {"all": 1.0}
        assert check_ratios({"x": 1 / 3, "y": 1 / 3, "z": 1 / 3})

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("train=0.8,val=0.3", "add up to 1.1, not 1"),
            ("train=0.8", "add up to 0.8, not 1"),
            ("train=0.8,train=0.2", "given twice"),
            ("train=0.8,val", "is not NAME=RATIO"),
            ("train=x,val=0.2", "'x' is not a number"),
            ("train=1.2,val=-0.2", "must be a number from 0 to 1"),
            ("train=nan,val=0.2", "must be a number from 0 to 1"),
            ("../x=1", "split name '../x'"),
            (".hidden=1", "split name '.hidden'"),
            ("", "no splits given"),
        ],
    )
    def test_bad(self, text, message):
        with pytest.raises(ValueError, match=message.replace("(", r"\(")):
            parse_ratios(text)

    def test_within_tolerance(self):
        assert parse_ratios("a=0.3333333,b=0.3333333,c=0.3333334")
        with pytest.raises(ValueError):
            parse_ratios("a=0.333,b=0.333,c=0.333")


class TestSplit:
    def test_plain_split_sizes_order_and_sdk(self, make_archive, tmp_path):
        records = [make_input(f"i{n:02d}", image_bytes=b"%d" % n) for n in range(23)]
        src = make_archive(records, "src.zip", batch_size=4)
        before = hashes([src])
        out = tmp_path / "splits"
        report = split_archive(src, out, ratios={"train": 0.7, "val": 0.2, "test": 0.1}, seed=1)
        # 16.1, 4.6, 2.3 -> 16, 5, 2 (largest remainder).
        assert report.counts == {"train": 16, "val": 5, "test": 2}
        assert report.files == {n: str(out / f"{n}.zip") for n in ("train", "val", "test")}
        parts = {n: read_ids(out / f"{n}.zip") for n in ("train", "val", "test")}
        every = sorted(i for ids in parts.values() for i in ids)
        assert every == [r.id for r in records]
        source_order = [r.id for r in records]
        for ids in parts.values():
            assert ids == sorted(ids, key=source_order.index)  # the archive's order
        originals = {r.id: wire(r) for r in records}
        for name in parts:
            assert [wire(r) for r in read_inputs(out / f"{name}.zip")] == [
                originals[i] for i in parts[name]
            ]
            with zipfile.ZipFile(out / f"{name}.zip") as zf:
                assert all(n.startswith(f"{name}/") for n in zf.namelist()[1:])
            from clarifai.datasets.export.inputs_annotations import DatasetExportReader

            reader = DatasetExportReader(session=None, local_archive_path=str(out / f"{name}.zip"))
            try:
                assert reader.split_dir == name
            finally:
                reader.close()
            assert sdk_ids(out / f"{name}.zip") == parts[name]
        assert hashes([src]) == before

    def test_deterministic_for_a_seed(self, sample_archive, tmp_path):
        ratios = {"train": 0.8, "val": 0.2}
        for stratify in (None, "concept"):
            a = split_archive(
                sample_archive, tmp_path / "a", ratios=ratios, seed=4, stratify_by=stratify
            )
            b = split_archive(
                sample_archive, tmp_path / "b", ratios=ratios, seed=4, stratify_by=stratify
            )
            c = split_archive(
                sample_archive, tmp_path / "c", ratios=ratios, seed=5, stratify_by=stratify
            )
            for name in ratios:
                assert (tmp_path / "a" / f"{name}.zip").read_bytes() == (
                    tmp_path / "b" / f"{name}.zip"
                ).read_bytes()
            assert a.counts == b.counts and a.concepts == b.concepts
            assert read_ids(tmp_path / "a" / "val.zip") != read_ids(tmp_path / "c" / "val.zip")
            assert sum(c.counts.values()) == 31

    def test_stratified_single_label_is_within_one(self, make_archive, tmp_path):
        counts = {"cat": 41, "dog": 17, "cow": 9, "eel": 3}
        src = make_archive(_single_label(counts), "src.zip", batch_size=16)
        ratios = {"train": 0.7, "val": 0.2, "test": 0.1}
        for seed in range(4):
            report = split_archive(
                src, tmp_path / f"s{seed}", ratios=ratios, seed=seed, stratify_by="concept"
            )
            for concept, count in counts.items():
                per_split = report.concepts[concept]
                assert sum(per_split.values()) == count
                for name, ratio in ratios.items():
                    assert abs(per_split[name] - ratio * count) < 1, (concept, per_split)
            # The concept table matches the archives written.
            for name in ratios:
                got = read_inputs(tmp_path / f"s{seed}" / f"{name}.zip")
                assert (
                    sum(1 for r in got if r.id.startswith("cat-")) == report.concepts["cat"][name]
                )

    def test_stratified_beats_plain_on_multi_label(self, make_archive, tmp_path):
        src = make_archive(_multi_label(300), "src.zip")
        ratios = {"train": 0.6, "val": 0.2, "test": 0.2}

        def deviation(report) -> float:
            return sum(
                abs(v[name] - ratios[name] * sum(v.values()))
                for v in report.concepts.values()
                for name in ratios
            )

        plain = strat = 0.0
        for seed in range(5):
            plain += deviation(split_archive(src, tmp_path / f"p{seed}", ratios=ratios, seed=seed))
            strat += deviation(
                split_archive(
                    src, tmp_path / f"s{seed}", ratios=ratios, seed=seed, stratify_by="concept"
                )
            )
        assert strat < plain / 2

    def test_tag(self, sample_archive, tmp_path):
        report = split_archive(sample_archive, tmp_path, ratios={"a": 0.5, "b": 0.5}, tag=True)
        assert report.tagged
        originals = {r.id: r for r in read_inputs(sample_archive)}
        for name in ("a", "b"):
            for record in read_inputs(tmp_path / f"{name}.zip"):
                assert record.data.metadata["split"] == name
                original = originals[record.id]
                del record.data.metadata["split"]
                if not original.data.HasField("metadata"):
                    record.data.ClearField("metadata")
                assert wire(record) == wire(original)

    def test_zero_ratio_and_empty_source(self, make_archive, tmp_path):
        src = make_archive([make_input("only")], "one.zip")
        with pytest.raises(EmptyResultError) as caught:
            split_archive(src, tmp_path / "o", ratios={"train": 1.0, "val": 0.0})
        assert str(caught.value) == (
            f"{src}: the split 'val' would hold no inputs (1 input in all); nothing was "
            "written. Give larger ratios, or pass allow_empty=True to write empty archives"
        )
        assert not (tmp_path / "o").exists()
        report = split_archive(
            src, tmp_path / "o", ratios={"train": 1.0, "val": 0.0}, allow_empty=True
        )
        assert report.counts == {"train": 1, "val": 0}
        assert read_ids(tmp_path / "o" / "val.zip") == []
        empty = make_archive([], "empty.zip")
        with pytest.raises(EmptyResultError, match="the splits 'train', 'val' would hold no"):
            split_archive(empty, tmp_path / "e", ratios={"train": 0.5, "val": 0.5})
        report = split_archive(
            empty,
            tmp_path / "e",
            ratios={"train": 0.5, "val": 0.5},
            stratify_by="concept",
            allow_empty=True,
        )
        assert report.counts == {"train": 0, "val": 0}

    def test_other_files_are_left_alone_and_splits_replaced(self, sample_archive, tmp_path):
        (tmp_path / "notes.txt").write_text("mine")
        (tmp_path / "train.zip").write_bytes(b"old")
        split_archive(sample_archive, tmp_path, ratios={"train": 0.5, "val": 0.5})
        assert (tmp_path / "notes.txt").read_text() == "mine"
        assert len(read_ids(tmp_path / "train.zip")) in (15, 16)
        assert leftovers(tmp_path) == []

    def test_errors_write_nothing(self, make_archive, sample_archive, tmp_path):
        with pytest.raises(ValueError, match="add up to"):
            split_archive(sample_archive, tmp_path / "x", ratios={"a": 0.5})
        with pytest.raises(ValueError, match="stratify_by"):
            split_archive(sample_archive, tmp_path / "x", ratios={"a": 1}, stratify_by="region")  # type: ignore[arg-type]
        assert not (tmp_path / "x").exists()
        # A source inside the output folder, named like a split.
        src = make_archive([make_input("a")], "train.zip")
        before = hashes([src])
        with pytest.raises(OutputError, match="sources are never modified"):
            split_archive(src, tmp_path, ratios={"train": 1.0})
        assert hashes([src]) == before
        # A damaged batch: nothing is created.
        data = bytearray(sample_archive.read_bytes())
        with zipfile.ZipFile(sample_archive) as zf:
            info = zf.infolist()[-1]
        data[info.header_offset + 30 + len(info.filename) + 5] ^= 0xFF
        damaged = tmp_path / "damaged.zip"
        damaged.write_bytes(bytes(data))
        with pytest.raises(ArchiveError):
            split_archive(damaged, tmp_path / "d", ratios={"a": 0.5, "b": 0.5})
        assert not (tmp_path / "d").exists() and leftovers(tmp_path) == []
        (tmp_path / "file").write_text("")
        with pytest.raises(OutputError, match="is a file"):
            split_archive(sample_archive, tmp_path / "file", ratios={"a": 1})


class TestCli:
    def test_split(self, runner, sample_archive, tmp_path):
        out = tmp_path / "splits"
        report_path = tmp_path / "r.json"
        result = runner.invoke(
            cli,
            ["split", str(sample_archive), "--ratios", "train=0.8,val=0.2", "-o", str(out)]
            + ["--seed", "3", "--stratify-by", "concept", "--tag", "--report", str(report_path)],
        )
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
        report = json.loads(report_path.read_text())
        counts = report["counts"]
        lines = result.stderr.splitlines()
        assert lines[0] == f"Split 31 inputs stratified by concept (seed 3) into {out}:"
        assert lines[1].startswith(f"  train  {counts['train']:>7} inputs")
        assert lines[1].endswith(f"asked 80.0%)  {out / 'train.zip'}")
        assert report["tagged"] and report["seed"] == 3
        assert sum(counts.values()) == 31
        assert set(report["concepts"]) == {"ball", "box", "night", "outdoor", "sun", "tree"}

    def test_existing_split_needs_force(self, runner, sample_archive, tmp_path):
        (tmp_path / "val.zip").write_bytes(b"old")
        args = ["split", str(sample_archive), "--ratios", "train=0.8,val=0.2", "-o", str(tmp_path)]
        result = runner.invoke(cli, args)
        assert result.exit_code == 1
        assert (
            result.stderr == f"Error: {tmp_path / 'val.zip'}: exists; pass --force to replace it\n"
        )
        assert not (tmp_path / "train.zip").exists()
        result = runner.invoke(cli, ["-q", *args, "--force"])
        assert result.exit_code == 0 and result.stderr == ""
        assert (tmp_path / "val.zip").read_bytes() != b"old"

    def test_usage_errors(self, runner, sample_archive, tmp_path):
        out = tmp_path / "o"
        result = runner.invoke(
            cli, ["split", str(sample_archive), "--ratios", "train=0.8,val=0.3", "-o", str(out)]
        )
        assert result.exit_code == 2
        assert "Invalid value for '--ratios': the ratios add up to 1.1, not 1" in result.stderr
        result = runner.invoke(
            cli,
            [
                "split",
                str(sample_archive),
                "--ratios",
                "a=1",
                "--stratify-by",
                "box",
                "-o",
                str(out),
            ],
        )
        assert result.exit_code == 2
        result = runner.invoke(cli, ["split", str(sample_archive), "-o", str(out)])
        assert result.exit_code == 2 and "Missing option '--ratios'" in result.stderr
        assert not out.exists()
