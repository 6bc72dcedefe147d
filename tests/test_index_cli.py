"""``clarifai-archive index build/add/remove/eval/info`` and their error messages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import make_input
from index_helpers import realistic_vectors, vector_input, write_vector_archive

from toolkit.cli import cli
from toolkit.index import SimilarityIndex


def run(runner, args, code=0):
    result = runner.invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    return result


def error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[-1]


@pytest.fixture(name="index_dir")
def _index_dir(runner, sample_archive, tmp_path) -> Path:
    folder = tmp_path / "ix"
    run(runner, ["-q", "index", "build", str(sample_archive), "-o", str(folder)])
    return folder


class TestBuild:
    def test_human_summary(self, runner, sample_archive, tmp_path):
        folder = tmp_path / "ix"
        result = run(runner, ["index", "build", str(sample_archive), "-o", str(folder)])
        assert result.stdout.splitlines() == [
            f"indexed 30 of 31 inputs into {folder} (1 without embedding, 0 bad)",
            "kind flat (30 vectors < 50000: exact search), metric cosine, 256 dimensions",
            "recall@10 1 by construction (exact search: nothing to tune)",
        ]
        assert "tuning the search" not in result.stderr
        assert json.loads((folder / "index.json").read_text())["tuning"]["queries"] == 0
        assert sorted(p.name for p in folder.iterdir()) == [
            "ids.json",
            "index.faiss",
            "index.json",
            "vectors.npy",
        ]

    def test_json_summary_and_options(self, runner, tmp_path):
        archive = write_vector_archive(tmp_path / "v.zip", realistic_vectors(2000, 32, seed=4))
        folder = tmp_path / "ix"
        result = run(
            runner,
            [
                "-q", "index", "build", str(archive), "-o", str(folder), "--kind", "ivfpq",
                "--metric", "l2", "--memory-budget", "10MB", "--target-recall", "0.9",
                "--json",
            ],
        )  # fmt: skip
        assert result.stderr == ""
        summary = json.loads(result.stdout)
        assert summary["kind"] == "ivfpq" and summary["metric"] == "l2"
        assert summary["tuning"]["recall_at_10"] >= 0.9
        assert summary["tuning"]["target_recall_at_10"] == 0.9
        assert summary["count"] == 2000 and summary["params"]["nlist"] == 16
        sidecar = json.loads((folder / "index.json").read_text())
        assert sidecar["memory_budget"] == 10 * 2**20

    def test_auto_threshold_option(self, runner, tmp_path):
        archive = write_vector_archive(tmp_path / "v.zip", realistic_vectors(500, 16, seed=4))
        result = run(
            runner,
            ["-q", "index", "build", str(archive), "-o", str(tmp_path / "ix"), "--flat-below",
             "100", "--json"],
        )  # fmt: skip
        assert json.loads(result.stdout)["kind"] == "ivfpq"

    def test_json_archive_and_several_sources(self, runner, sample_archive, tmp_path):
        extra = write_vector_archive(
            tmp_path / "extra.zip", realistic_vectors(3, 256, seed=1), prefix="x"
        )
        folder = tmp_path / "ix"
        result = run(
            runner, ["-q", "index", "build", str(sample_archive), str(extra), "-o", str(folder),
                     "--json"],
        )  # fmt: skip
        assert json.loads(result.stdout)["count"] == 33
        assert len(SimilarityIndex.load(folder).sources) == 2


class TestBuildErrors:
    """Every bad input: one ``Error:`` line on stderr, the right exit code, nothing written."""

    def test_no_such_archive(self, runner, tmp_path):
        result = run(runner, ["index", "build", "nope.zip", "-o", str(tmp_path / "ix")], code=2)
        assert "'nope.zip': no such file" in result.stderr

    def test_not_an_archive(self, runner, tmp_path):
        junk = tmp_path / "junk.zip"
        junk.write_bytes(b"not a zip")
        result = run(runner, ["index", "build", str(junk), "-o", str(tmp_path / "ix")], code=1)
        assert "not a zip archive" in error_line(result)
        assert not (tmp_path / "ix").exists()

    def test_no_embeddings(self, runner, make_archive, tmp_path):
        archive = make_archive([make_input("t1", text="hello"), make_input("t2", text="bye")])
        result = run(runner, ["index", "build", str(archive), "-o", str(tmp_path / "ix")], code=1)
        line = error_line(result)
        assert "nothing to index (2 of 2 inputs have no embedding number 0)" in line
        assert not (tmp_path / "ix").exists()

    @pytest.mark.parametrize(
        ("vector", "words"),
        [
            ([1.0, 2.0], "has 2 values where the first embedding has 3 (mixed dimensions)"),
            ([float("nan"), 0.0, 1.0], "embedding holds NaN or infinite values"),
            ([0.0, 0.0, 0.0], "embedding is all zeros"),
        ],
    )
    def test_bad_vectors(self, runner, make_archive, tmp_path, vector, words):
        records = [vector_input("good-1", [1.0, 2.0, 3.0]), vector_input("bad-1", vector)]
        archive = make_archive(records)
        out = tmp_path / "ix"
        result = run(runner, ["index", "build", str(archive), "-o", str(out)], code=1)
        line = error_line(result)
        assert f"input 'bad-1' {words}" in line and "--skip-bad" in line
        assert not out.exists()
        result = run(runner, ["-q", "index", "build", str(archive), "-o", str(out), "--skip-bad"])
        assert "indexed 1 of 2 inputs" in result.stdout and "1 bad" in result.stdout

    def test_bad_memory_budget(self, runner, sample_archive, tmp_path):
        result = run(
            runner,
            ["index", "build", str(sample_archive), "-o", str(tmp_path / "ix"), "--memory-budget",
             "lots"],
            code=2,
        )  # fmt: skip
        assert "'lots' is not a size" in result.stderr

    def test_budget_too_small(self, runner, sample_archive, tmp_path):
        result = run(
            runner,
            ["index", "build", str(sample_archive), "-o", str(tmp_path / "ix"), "--memory-budget",
             "100"],
            code=1,
        )  # fmt: skip
        assert "raise --memory-budget" in error_line(result)

    def test_kind_needs_more_vectors(self, runner, sample_archive, tmp_path):
        result = run(
            runner,
            ["index", "build", str(sample_archive), "-o", str(tmp_path / "ix"), "--kind", "ivf"],
            code=1,
        )  # fmt: skip
        assert "--kind ivf needs at least 64" in error_line(result)

    def test_unknown_kind(self, runner, sample_archive, tmp_path):
        result = run(
            runner,
            ["index", "build", str(sample_archive), "-o", str(tmp_path / "ix"), "--kind", "lsh"],
            code=2,
        )  # fmt: skip
        assert "'lsh' is not one of" in result.stderr

    def test_existing_index_needs_force(self, runner, sample_archive, index_dir):
        args = ["index", "build", str(sample_archive), "-o", str(index_dir)]
        result = run(runner, args, code=1)
        assert "an index is already there; pass --force" in error_line(result)
        run(runner, ["-q", *args, "--force"])

    def test_output_is_a_file(self, runner, sample_archive, tmp_path):
        target = tmp_path / "file.txt"
        target.write_text("keep me")
        result = run(runner, ["index", "build", str(sample_archive), "-o", str(target)], code=1)
        assert "not a folder" in error_line(result)
        assert target.read_text() == "keep me"

    def test_conflicting_ids(self, runner, make_archive, tmp_path):
        one = make_archive([vector_input("same", [1.0, 0.0])], "one.zip")
        two = make_archive([vector_input("same", [0.0, 1.0])], "two.zip")
        result = run(
            runner, ["index", "build", str(one), str(two), "-o", str(tmp_path / "ix")], code=1
        )
        assert "conflicting embeddings: 'same'" in error_line(result)

    def test_limits_apply(self, runner, sample_archive, tmp_path):
        result = run(
            runner,
            ["--max-batch-bytes", "100", "index", "build", str(sample_archive), "-o",
             str(tmp_path / "ix")],
            code=1,
        )  # fmt: skip
        assert "--max-batch-bytes" in error_line(result)


class TestAddRemove:
    def test_add_and_remove(self, runner, index_dir, tmp_path):
        extra = write_vector_archive(
            tmp_path / "extra.zip", realistic_vectors(4, 256, seed=3), prefix="new"
        )
        result = run(runner, ["-q", "index", "add", str(index_dir), str(extra)])
        assert result.stdout == (
            "added 4, removed 0; the index now holds 34 inputs (recall@10 1.000)\n"
        )
        result = run(runner, ["-q", "index", "add", str(index_dir), str(extra), "--json"])
        report = json.loads(result.stdout)
        assert (report["added"], report["unchanged"], report["count"]) == (0, 4, 34)
        result = run(
            runner, ["index", "remove", str(index_dir), "--id", "new00001", "--id", "img-0030"]
        )
        assert result.stdout.startswith("added 0, removed 2; the index now holds 32 inputs")
        ids_file = tmp_path / "ids.txt"
        ids_file.write_text("new00002\n\nnew00003\n")
        result = run(runner, ["index", "remove", str(index_dir), "--ids-from", str(ids_file),
                              "--json"])  # fmt: skip
        assert json.loads(result.stdout)["count"] == 30
        index = SimilarityIndex.load(index_dir, verify=True)
        assert "new00000" in index and "img-0030" not in index

    def test_add_conflict_then_replace(self, runner, index_dir, sample_archive, tmp_path):
        vectors = realistic_vectors(1, 256, seed=5)
        update = write_vector_archive(tmp_path / "update.zip", vectors, ids=["img-0001"])
        result = run(runner, ["index", "add", str(index_dir), str(update)], code=1)
        line = error_line(result)
        assert "'img-0001'" in line and "pass --replace" in line
        result = run(runner, ["-q", "index", "add", str(index_dir), str(update), "--replace"])
        assert "replaced 1" in result.stdout
        index = SimilarityIndex.load(index_dir)
        assert index.search(vectors[0], k=1)[0][0].id == "img-0001"

    def test_add_errors(self, runner, index_dir, tmp_path, sample_archive):
        result = run(runner, ["index", "add", str(tmp_path / "none"), str(sample_archive)], code=1)
        assert "no such index folder" in error_line(result)
        small = write_vector_archive(tmp_path / "s.zip", realistic_vectors(2, 8, seed=1))
        result = run(runner, ["index", "add", str(index_dir), str(small)], code=1)
        assert "where the index has 256" in error_line(result)

    def test_remove_errors(self, runner, index_dir):
        result = run(runner, ["index", "remove", str(index_dir)], code=2)
        assert "give at least one --id" in result.stderr
        result = run(runner, ["index", "remove", str(index_dir), "--id", "nope"], code=1)
        assert "1 id(s) not in the index: 'nope'; pass --missing-ok" in error_line(result)
        result = run(runner, ["index", "remove", str(index_dir), "--id", "nope", "--missing-ok"])
        assert "removed 0" in result.stdout


class TestEvalInfo:
    def test_eval(self, runner, tmp_path):
        archive = write_vector_archive(tmp_path / "v.zip", realistic_vectors(1500, 32, seed=9))
        folder = tmp_path / "ix"
        run(runner, ["-q", "index", "build", str(archive), "-o", str(folder), "--kind", "ivf"])
        result = run(runner, ["index", "eval", str(folder), "--queries", "40"])
        lines = result.stdout.splitlines()
        assert lines[0].startswith("index:    ivf, cosine, 1500 vectors (nprobe=")
        assert lines[1] == "queries:  40"
        assert lines[2].startswith("recall:   @1 ") and "@100" in lines[2]
        assert lines[3].startswith("latency:  p50 ")
        report = json.loads(run(runner, ["index", "eval", str(folder), "--queries", "40",
                                         "--json"]).stdout)  # fmt: skip
        assert report["recall"]["recall@10"] >= 0.9
        assert report["latency_ms"]["p50"] <= report["latency_ms"]["p99"]
        assert report["speedup_vs_exact"] > 0

    def test_info(self, runner, index_dir, sample_archive):
        result = run(runner, ["index", "info", str(index_dir), "--verify"])
        assert "kind:       flat (30 vectors < 50000: exact search)" in result.stdout
        assert f"source:     {sample_archive.resolve()}" in result.stdout
        assert "verified:   every file matches its checksum" in result.stdout
        sidecar = json.loads(run(runner, ["index", "info", str(index_dir), "--json"]).stdout)
        assert sidecar["count"] == 30 and sidecar["format"] == "clarifai-archive-index"

    def test_damaged_index(self, runner, index_dir):
        vectors = np.load(index_dir / "vectors.npy")
        np.save(index_dir / "vectors.npy", vectors[:10])
        result = run(runner, ["index", "info", str(index_dir)], code=1)
        assert "vectors.npy is" in error_line(result) and "rebuild" in error_line(result)
        result = run(runner, ["search", str(index_dir), "--like", "img-0001"], code=1)
        assert "vectors.npy is" in error_line(result)

    def test_not_an_index(self, runner, sample_archive):
        result = run(runner, ["index", "info", str(sample_archive)], code=1)
        assert "not an index folder" in error_line(result)


def test_every_command_has_help(runner):
    for args in (
        ["index"], ["index", "build"], ["index", "add"], ["index", "remove"], ["index", "eval"],
        ["index", "info"], ["search"], ["sort"], ["duplicates"],
    ):  # fmt: skip
        result = run(runner, [*args, "--help"])
        assert "Usage:" in result.stdout
        if len(args) > 1 or args[0] != "index":
            assert "Example:" in result.stdout, args
