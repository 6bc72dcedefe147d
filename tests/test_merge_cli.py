"""clarifai-archive merge: exit codes, the report on stderr and in --report, --force."""

from __future__ import annotations

import json
import zipfile

import pytest
from helpers import make_input
from merge_helpers import hashes, leftovers, read_ids, sdk_ids

from toolkit.cli import cli


def _img(input_id, media=b"m", concept="cat"):
    return make_input(input_id, image_bytes=media, concepts=[(concept, 1.0)])


@pytest.fixture(name="ab")
def _ab(make_archive):
    a = make_archive([_img(f"x{i}", b"%d" % i) for i in range(5)], "a.zip", batch_size=2)
    b = make_archive([_img(f"x{i}", b"%d" % i, "dog") for i in range(3, 8)], "b.zip", batch_size=2)
    return a, b


def test_merge_disjoint(runner, make_archive, tmp_path, sample_archive):
    other = make_archive([_img("z1"), _img("z2", b"2")], "z.zip")
    out = tmp_path / "out.zip"
    result = runner.invoke(cli, ["merge", str(sample_archive), str(other), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == (
        f"Merged 2 archives (33 inputs) into {out}: 33 inputs.\n"
        f"  {sample_archive}: 31 inputs\n"
        f"  {other}: 2 inputs\n"
        "  identical (kept once): 0\n"
        "  skipped:               0\n"
        "  overwritten:           0\n"
        "  renamed:               0\n"
        "  annotations merged:    0\n"
    )
    assert sdk_ids(out) == read_ids(sample_archive) + ["z1", "z2"]


def test_conflict_is_an_error_by_default(runner, ab, tmp_path):
    a, b = ab
    before = hashes([a, b])
    out = tmp_path / "out.zip"
    result = runner.invoke(cli, ["merge", str(a), str(b), "-o", str(out)])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: 2 input ids have different inputs")
    assert "--on-conflict" in lines[0]
    assert not out.exists() and leftovers(tmp_path) == []
    assert hashes([a, b]) == before


@pytest.mark.parametrize(
    ("policy", "ids", "row"),
    [
        (
            "skip",
            ["x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7"],
            "  skipped:               2  (x3, x4)",
        ),
        (
            "overwrite",
            ["x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7"],
            "  overwritten:           2  (x3, x4)",
        ),
        (
            "rename",
            ["x0", "x1", "x2", "x3", "x4", "x3~2", "x4~2", "x5", "x6", "x7"],
            "  renamed:               2  (x3 -> x3~2, x4 -> x4~2)",
        ),
    ],
)
def test_policies_and_json_report(runner, ab, tmp_path, policy, ids, row):
    a, b = ab
    before = hashes([a, b])
    out = tmp_path / "out.zip"
    report_path = tmp_path / "report.json"
    result = runner.invoke(
        cli,
        ["merge", str(a), str(b), "-o", str(out), "--on-conflict", policy]
        + ["--report", str(report_path)],
    )
    assert result.exit_code == 0, result.output
    assert row in result.stderr.splitlines()
    assert read_ids(out) == ids
    report = json.loads(report_path.read_text())
    assert report["sources"] == [{"path": str(a), "inputs": 5}, {"path": str(b), "inputs": 5}]
    assert report["inputs_read"] == 10 and report["added"] == len(ids)
    assert report["on_conflict"] == policy
    key = {"skip": "skipped", "overwrite": "overwritten", "rename": "renamed"}[policy]
    assert report[key] == 2 and len(report["ids"][key]) == 2
    assert hashes([a, b]) == before


def test_merge_annotations_report_to_stdout_and_quiet(runner, make_archive, tmp_path):
    a = make_archive([_img("k", b"same", "cat")], "a.zip")
    b = make_archive([_img("k", b"same", "dog")], "b.zip")
    out = tmp_path / "out.zip"
    result = runner.invoke(
        cli,
        ["-q", "merge", str(a), str(b), "-o", str(out), "--merge-annotations", "--report", "-"],
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    report = json.loads(result.stdout)
    assert report["annotations_merged"] == 1
    assert report["ids"]["annotations_merged"] == [{"id": "k", "source": str(b)}]


def test_to_json_and_batch_size(runner, ab, tmp_path):
    a, _ = ab
    out = tmp_path / "out.zip"
    result = runner.invoke(
        cli, ["merge", str(a), "-o", str(out), "--to", "json", "--batch-size", "2"]
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as zf:
        assert zf.read("mimetype") == b"application/x.clarifai-data+json"
        assert zf.namelist()[1:] == [
            "all/input-batch-000000_n2",
            "all/input-batch-000001_n2",
            "all/input-batch-000002_n1",
        ]


class TestArguments:
    def test_output_is_a_source(self, runner, ab, tmp_path):
        a, b = ab
        before = hashes([a, b])
        link = tmp_path / "link.zip"
        link.symlink_to(b)
        for output in (a, link):
            for extra in ([], ["--force"]):
                result = runner.invoke(
                    cli,
                    ["merge", str(a), str(b), "-o", str(output), "--on-conflict", "skip"] + extra,
                )
                assert result.exit_code == 1
                assert result.stderr.startswith(f"Error: {output}: this is the source")
        assert hashes([a, b]) == before

    def test_existing_output_needs_force(self, runner, ab, tmp_path):
        a, b = ab
        out = tmp_path / "out.zip"
        out.write_bytes(b"keep me")
        args = ["merge", str(a), str(b), "-o", str(out), "--on-conflict", "skip"]
        result = runner.invoke(cli, args)
        assert result.exit_code == 1
        assert result.stderr == f"Error: {out}: exists; pass --force to replace it\n"
        assert out.read_bytes() == b"keep me"
        result = runner.invoke(cli, [*args, "--force"])
        assert result.exit_code == 0
        assert read_ids(out)[0] == "x0"

    def test_unknown_policy_is_a_usage_error(self, runner, ab, tmp_path):
        a, b = ab
        result = runner.invoke(
            cli, ["merge", str(a), str(b), "-o", str(tmp_path / "o.zip"), "--on-conflict", "newest"]
        )
        assert result.exit_code == 2
        assert "Invalid value for '--on-conflict'" in result.stderr
        assert not (tmp_path / "o.zip").exists()

    def test_missing_source_and_unreadable_source(self, runner, ab, tmp_path):
        a, _ = ab
        result = runner.invoke(
            cli, ["merge", str(a), str(tmp_path / "nope.zip"), "-o", str(tmp_path / "o.zip")]
        )
        assert result.exit_code == 2
        bad = tmp_path / "bad.zip"
        bad.write_bytes(b"garbage")
        result = runner.invoke(cli, ["merge", str(a), str(bad), "-o", str(tmp_path / "o.zip")])
        assert result.exit_code == 1
        assert result.stderr.startswith(f"Error: {bad}: not a zip archive")
        assert not (tmp_path / "o.zip").exists() and leftovers(tmp_path) == []

    def test_output_required(self, runner, ab):
        a, b = ab
        result = runner.invoke(cli, ["merge", str(a), str(b)])
        assert result.exit_code == 2
        assert "Missing option '-o'" in result.stderr
