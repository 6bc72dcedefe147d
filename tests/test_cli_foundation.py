"""The foundation's commands through the CLI: info, inputs list, inputs get, and their errors."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import make_input

from toolkit.cli import cli
from toolkit.messages import InputBatch

GOLDEN = Path(__file__).parent / "golden"


def test_info_json_matches_golden(runner, sample_archive) -> None:
    result = runner.invoke(cli, ["info", str(sample_archive), "--json"], catch_exceptions=False)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json.loads((GOLDEN / "info_sample.json").read_text())
    data = json.loads(result.stdout)
    for key in (
        "inputs_count",
        "unlabeled_inputs_count",
        "regions_count",
        "bounding_boxes_count",
        "polygons_count",
        "points_count",
        "masks_count",
        "embeddings_count",
    ):
        assert isinstance(data[key], int)
    assert data["concepts"]["ball"]["name"] == "Ball"


def test_info_human(runner, sample_archive) -> None:
    result = runner.invoke(cli, ["info", str(sample_archive)], catch_exceptions=False)
    assert result.exit_code == 0
    out = result.stdout
    assert "inputs:     31 (image 30, text 1)" in out
    assert "embeddings: 30 (30 x 256-d)" in out
    assert "image size: 256-320 x 200-256 px" in out
    assert "person" in out


def test_info_json_flavour_same_counts(runner, sample_archive, sample_json_archive) -> None:
    a = runner.invoke(cli, ["info", str(sample_archive), "--json"])
    b = runner.invoke(cli, ["info", str(sample_json_archive), "--json"])
    assert json.loads(a.stdout) == json.loads(b.stdout)


def test_inputs_list_pages(runner, sample_archive) -> None:
    def ids(*args: str) -> list[str]:
        result = runner.invoke(
            cli, ["inputs", "list", str(sample_archive), "--json", *args], catch_exceptions=False
        )
        assert result.exit_code == 0
        return [json.loads(line)["id"] for line in result.stdout.splitlines()]

    everything = ids()
    assert len(everything) == 31 and everything[0] == "img-0001" and everything[-1] == "txt-0001"
    assert ids("--per-page", "10", "--page", "2") == everything[10:20]
    assert ids("--per-page", "10", "--page", "4") == everything[30:]
    assert ids("--per-page", "10", "--page", "5") == []
    night = ids("--concept", "night")
    assert night == ["img-0010", "img-0020", "img-0030"]
    assert ids("--concept", "person") == []  # only ever a negative label
    assert "txt-0001" in ids("--concept", "tree")


def test_inputs_list_json_uses_proto_field_names(runner, sample_archive) -> None:
    args = ["inputs", "list", str(sample_archive), "--json", "--per-page", "1"]
    result = runner.invoke(cli, args)
    record = json.loads(result.stdout)
    assert "image_info" in record["data"]["image"]
    region = record["data"]["regions"][0]
    assert "region_info" in region
    assert set(region["region_info"]) <= {"bounding_box", "polygon", "point"}


def test_inputs_list_human(runner, sample_archive) -> None:
    result = runner.invoke(cli, ["inputs", "list", str(sample_archive), "--per-page", "2"])
    assert result.stdout.splitlines() == [
        "id        type     regions  concepts",
        "img-0001  image          2  Box, Sun, Outdoor",
        "img-0002  image          2  Ball, Tree, Outdoor",
    ]


def test_inputs_get(runner, sample_archive) -> None:
    result = runner.invoke(cli, ["inputs", "get", str(sample_archive), "txt-0001"])
    assert result.exit_code == 0
    record = json.loads(result.stdout)
    assert record["id"] == "txt-0001"
    assert record["data"]["text"]["raw"].startswith("A red ball")


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


class TestErrors:
    """Every bad input: one Error line on stderr, exit 1, no traceback."""

    @pytest.fixture(name="bad_archives")
    def _bad_archives(self, tmp_path: Path) -> dict[str, Path]:
        mime = b"application/x.clarifai-data+protobuf"
        good = InputBatch(inputs=[make_input("a")]).SerializeToString()
        not_zip = tmp_path / "not-a-zip.zip"
        not_zip.write_bytes(b"PK\x03\x04 but not really a zip")
        truncated_source = _zip(tmp_path / "full.zip", {"mimetype": mime, "all/a_n1": good * 50})
        truncated = tmp_path / "truncated.zip"
        truncated.write_bytes(truncated_source.read_bytes()[:-30])
        return {
            "not-a-zip": not_zip,
            "no-mimetype": _zip(tmp_path / "no-mime.zip", {"all/a_n1": good}),
            "other-mimetype": _zip(tmp_path / "other.zip", {"mimetype": b"text/plain"}),
            "bad-entry": _zip(tmp_path / "bad-entry.zip", {"mimetype": mime, "all/x_n1": b"\xff"}),
            "truncated": truncated,
            "empty": _zip(tmp_path / "empty.zip", {"mimetype": mime}),
        }

    @pytest.mark.parametrize(
        ("case", "message"),
        [
            ("not-a-zip", "not a zip archive"),
            ("no-mimetype", "no 'mimetype' entry"),
            ("other-mimetype", "unknown mimetype 'text/plain'"),
            ("bad-entry", "entry 'all/x_n1' is not a readable InputBatch"),
            ("truncated", "not a zip archive"),
        ],
    )
    @pytest.mark.parametrize(
        "command",
        [["info"], ["info", "--json"], ["inputs", "list"], ["inputs", "get", "@ARCHIVE", "a"]],
    )
    def test_bad_archive(self, runner, bad_archives, case, message, command) -> None:
        path = str(bad_archives[case])
        args = [path if a == "@ARCHIVE" else a for a in command]
        if "@ARCHIVE" not in command:
            args.append(path)
        result = runner.invoke(cli, args)
        assert result.exit_code == 1, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
        assert message in lines[0]
        assert path in lines[0]
        assert result.stdout == ""

    def test_reading_commands_accept_an_empty_archive(self, runner, bad_archives) -> None:
        path = str(bad_archives["empty"])
        result = runner.invoke(cli, ["info", path])
        assert result.exit_code == 0, result.stderr
        assert result.stdout.splitlines()[:3] == [
            f"archive:    {path} (protobuf, 0 batch entries)",
            "inputs:     0",
            "unlabeled:  0",
        ]
        result = runner.invoke(cli, ["info", "--json", path])
        assert result.exit_code == 0 and json.loads(result.stdout)["inputs_count"] == 0
        result = runner.invoke(cli, ["inputs", "list", path])
        assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
        result = runner.invoke(cli, ["inputs", "get", path, "a"])
        assert result.exit_code == 1 and result.stderr.startswith("Error: ")
        assert result.stderr.count("\n") == 1

    def test_unknown_input_id(self, runner, sample_archive) -> None:
        result = runner.invoke(cli, ["inputs", "get", str(sample_archive), "nope"])
        assert result.exit_code == 1
        assert result.stderr.startswith("Error: ") and "'nope'" in result.stderr

    @pytest.mark.parametrize(
        "args",
        [
            ["info"],
            ["info", "does-not-exist.zip"],
            ["inputs", "list", "@SAMPLE", "--page", "0"],
            ["inputs", "list", "@SAMPLE", "--per-page", "x"],
            ["inputs", "get", "@SAMPLE"],
            ["no-such-command"],
        ],
    )
    def test_wrong_usage_exits_2(self, runner, sample_archive, args) -> None:
        args = [str(sample_archive) if a == "@SAMPLE" else a for a in args]
        result = runner.invoke(cli, args)
        assert result.exit_code == 2, result.output
        assert "Error" in result.stderr and "Traceback" not in result.stderr


def test_real_process_error_has_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"nope")
    proc = subprocess.run(
        [sys.executable, "-m", "toolkit", "info", str(bad)], capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: ") and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1
