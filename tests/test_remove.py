"""remove_inputs and clarifai-archive remove."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

import pytest
from helpers import make_input
from merge_helpers import entry_names, hashes, leftovers, read_ids, read_inputs, sdk_ids, wire

from toolkit.cli import cli
from toolkit.errors import ArchiveError, InputNotFoundError, OutputError
from toolkit.subset import remove_inputs


@pytest.fixture(name="archive")
def _archive(make_archive):
    records = [
        make_input(f"r{i}", image_bytes=b"%d" % i, concepts=[("cat", 1.0)]) for i in range(9)
    ]
    return make_archive(records, "src.zip", batch_size=4)


def test_removes_every_input_with_the_ids(archive, tmp_path):
    before = hashes([archive])
    out = tmp_path / "out.zip"
    report = remove_inputs(archive, out, ["r1", "r4", "r8", "missing", "r1"])
    kept = read_inputs(out)
    assert [r.id for r in kept] == ["r0", "r2", "r3", "r5", "r6", "r7"]
    source = {r.id: wire(r) for r in read_inputs(archive)}
    assert [wire(r) for r in kept] == [source[r.id] for r in kept]
    assert report.removed == ("r1", "r4", "r8")
    assert report.not_found == ("missing",)
    assert (report.inputs_read, report.inputs_written, report.inputs_removed) == (9, 6, 3)
    assert report.to_dict()["not_found"] == ["missing"]
    assert sdk_ids(out) == [r.id for r in kept]
    assert hashes([archive]) == before


def test_duplicate_ids_in_the_source_are_all_removed(make_archive, tmp_path):
    src = make_archive(
        [make_input("a"), make_input("b"), make_input("a", image_bytes=b"2")], "dup.zip"
    )
    report = remove_inputs(src, tmp_path / "out.zip", ["a"])
    assert read_ids(tmp_path / "out.zip") == ["b"]
    assert report.inputs_removed == 2 and report.removed == ("a",)


def test_strict_fails_and_writes_nothing(archive, tmp_path):
    out = tmp_path / "out.zip"
    with pytest.raises(InputNotFoundError) as info:
        remove_inputs(archive, out, ["r1", "nope", "gone"], strict=True)
    assert str(info.value).startswith(f"{archive}: 2 ids are not in the archive: 'nope', 'gone'")
    assert "nothing was written" in str(info.value)
    assert not out.exists() and leftovers(tmp_path) == []
    report = remove_inputs(archive, out, ["r1"], strict=True)
    assert report.not_found == ()


def test_batches_are_copied_whole_when_untouched(archive, tmp_path):
    out = tmp_path / "out.zip"
    remove_inputs(archive, out, ["r5"], batch_size=4)
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(out) as dst:
        assert dst.read("all/input-batch-000000_n4") == src.read("all/input-batch-000000_n4")
    assert entry_names(out)[1:] == [
        "all/input-batch-000000_n4",
        "all/input-batch-000001_n4",
    ]


def test_keeps_the_flavour_and_folder_unless_told(sample_json_archive, tmp_path):
    out = tmp_path / "out.zip"
    remove_inputs(sample_json_archive, out, ["img-0001"])
    with zipfile.ZipFile(out) as zf:
        assert zf.read("mimetype") == b"application/x.clarifai-data+json"
    as_proto = tmp_path / "proto.zip"
    remove_inputs(sample_json_archive, as_proto, ["img-0001"], flavour="protobuf")
    assert read_ids(as_proto) == read_ids(out) and len(read_ids(out)) == 30
    assert sdk_ids(as_proto) == read_ids(out)


def test_streams(archive):
    sink = io.BytesIO()
    report = remove_inputs(io.BytesIO(archive.read_bytes()), sink, ["r0"])
    assert report.source == "<stream 1>" and report.output == "<stream>"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "o.zip"
        path.write_bytes(sink.getvalue())
        assert read_ids(path)[0] == "r1"


def test_output_is_the_source(archive, tmp_path):
    before = hashes([archive])
    with pytest.raises(OutputError, match="sources are never modified"):
        remove_inputs(archive, archive, ["r0"])
    assert hashes([archive]) == before


def test_damaged_batch_leaves_no_output(archive, tmp_path):
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo("all/input-batch-000002_n1")
    data[info.header_offset + 30 + len(info.filename) + 2] ^= 0xFF
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    out = tmp_path / "out.zip"
    with pytest.raises(ArchiveError, match="input-batch-000002_n1"):
        remove_inputs(damaged, out, ["r0"])
    assert not out.exists() and leftovers(tmp_path) == []


class TestCli:
    def test_remove(self, runner, archive, tmp_path):
        ids_file = tmp_path / "ids.txt"
        ids_file.write_text("# bad ones\nr2\n\n  r3  \nnope\n")
        out = tmp_path / "out.zip"
        report = tmp_path / "report.json"
        result = runner.invoke(
            cli,
            ["remove", str(archive), "--id", "r0", "--ids-from", str(ids_file), "-o", str(out)]
            + ["--report", str(report)],
        )
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
        assert result.stderr == (
            f"Removed 3 of 9 inputs; wrote 6 to {out}.\n  not found: 1  (nope)\n"
        )
        assert read_ids(out) == ["r1", "r4", "r5", "r6", "r7", "r8"]
        assert json.loads(report.read_text())["removed"] == ["r0", "r2", "r3"]

    def test_strict(self, runner, archive, tmp_path):
        out = tmp_path / "out.zip"
        result = runner.invoke(
            cli, ["remove", str(archive), "--id", "nope", "--strict", "-o", str(out)]
        )
        assert result.exit_code == 1
        assert result.stderr.startswith(f"Error: {archive}: 1 id is not in the archive: 'nope'")
        assert not out.exists()

    def test_ids_from_stdin(self, runner, archive, tmp_path):
        out = tmp_path / "out.zip"
        result = runner.invoke(
            cli, ["-q", "remove", str(archive), "--ids-from", "-", "-o", str(out)], input="r8\n"
        )
        assert result.exit_code == 0 and result.stderr == ""
        assert read_ids(out)[-1] == "r7"

    def test_usage_errors(self, runner, archive, tmp_path):
        result = runner.invoke(cli, ["remove", str(archive), "-o", str(tmp_path / "o.zip")])
        assert result.exit_code == 2
        assert "give the ids to remove with --id ID or --ids-from FILE" in result.stderr
        result = runner.invoke(cli, ["remove", str(archive), "--id", "r0", "-o", str(archive)])
        assert result.exit_code == 1 and "this is the source" in result.stderr
        (tmp_path / "exists.zip").write_bytes(b"x")
        result = runner.invoke(
            cli, ["remove", str(archive), "--id", "r0", "-o", str(tmp_path / "exists.zip")]
        )
        assert result.exit_code == 1 and "--force" in result.stderr
