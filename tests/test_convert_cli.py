"""clarifai-archive convert: options, output streams, summary, and every bad input."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from convert_helpers import png_bytes, varied_inputs, write_raw_archive
from media_helpers import KEY, hosted_input
from media_server import MediaServer

from toolkit.cli import cli
from toolkit.convert import FORMATS
from toolkit.messages import Input, InputBatch


def _run(runner, *args: str):
    return runner.invoke(cli, list(args), catch_exceptions=False)


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_help_has_an_example(runner) -> None:
    result = _run(runner, "convert", "--help")
    assert result.exit_code == 0
    assert "Example:" in result.stdout
    choice = result.stdout.split("--to [", 1)[1].split("]", 1)[0]
    assert set(choice.split("|")) == set(FORMATS)
    assert {"json", "jsonl", "coco", "protobuf", "sdk", "parquet", "yolo", "voc"} <= set(FORMATS)


def test_jsonl_to_stdout(runner, sample_archive) -> None:
    result = _run(runner, "convert", str(sample_archive), "--to", "jsonl", "-o", "-")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 31 and json.loads(lines[0])["id"] == "img-0001"
    assert result.stderr == "Converted 31 inputs to standard output (jsonl): 31 inputs written\n"


def test_coco_summary_and_notes(runner, sample_archive, tmp_path: Path) -> None:
    out = tmp_path / "coco"
    result = _run(
        runner,
        "convert",
        str(sample_archive),
        "--to",
        "coco",
        "-o",
        str(out),
        "--media",
        "embedded",
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "Note: skipped 1 text input(s): COCO holds images",
        f"Converted 31 inputs to {out} (coco): 30 images, 68 annotations, 4 categories; "
        "media: 30 written, 0 reused",
    ]
    assert _listing(out) == ["annotations.json", "images", "person_keypoints.json"]
    quiet = _run(runner, "-q", "convert", str(sample_archive), "--to", "coco", "-o", str(out))
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_report_file(runner, sample_hosted_archive, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = _run(
        runner,
        "convert",
        str(sample_hosted_archive),
        "--to",
        "coco",
        "-o",
        str(tmp_path / "coco"),
        "--media",
        "embedded",
        "--report",
        str(report),
    )
    assert result.exit_code == 0
    assert "no media written for 30 input(s): 30 x the image is only a hosted copy" in result.stderr
    saved = json.loads(report.read_text())
    assert saved["media"]["skipped"] == 30 and saved["images_without_size"] == [
        "img-0006",
        "img-0012",
        "img-0018",
        "img-0024",
        "img-0030",
    ]


def test_protobuf_json_and_sdk(runner, sample_archive, tmp_path: Path) -> None:
    for to, extra in [
        ("protobuf", ["--batch-size", "7"]),
        ("json", ["--split", "train"]),
        ("sdk", ["--media", "embedded", "--png"]),
    ]:
        out = tmp_path / f"{to}.zip"
        result = _run(runner, "convert", str(sample_archive), "--to", to, "-o", str(out), *extra)
        assert result.exit_code == 0, result.stderr
        with zipfile.ZipFile(out) as zf:
            names = zf.namelist()
        if to == "protobuf":
            assert names[1] == "all/input-batch-000000_n7" and len(names) == 6
        elif to == "json":
            assert names[1].startswith("train/")
        else:
            assert "all/inputs/img-0001.png" in names and "all/annotations/txt-0001.json" in names


def test_download_failures_exit_1_unless_allowed(runner, make_archive, tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    with MediaServer(key=KEY) as server:
        server.add("/orig/ok", png_bytes())
        server.add("/orig/missing", b"", status=404)
        source = make_archive(
            [
                hosted_input("ok", server.origin, "ok"),
                hosted_input("missing", server.origin, "missing"),
            ]
        )
        out = tmp_path / "coco"
        args = ["convert", str(source), "--to", "coco", "-o", str(out), "--media", "download"]
        failed = _run(runner, *args, "--pat-file", str(key_file))
        assert failed.exit_code == 1
        assert failed.stderr.startswith("Error: the media of 1 input(s) could not be written")
        assert "'missing': HTTP 404" in failed.stderr and "--allow-missing" in failed.stderr
        assert KEY not in failed.stderr
        assert _listing(out) == ["images"]
        allowed = _run(runner, *args, "--pat-file", str(key_file), "--allow-missing")
        assert allowed.exit_code == 0
        assert "Note: media of 1 input(s) failed: missing: HTTP 404" in allowed.stderr
        assert "media: 0 written, 1 reused, 1 failed" in allowed.stderr
        assert _listing(out) == ["annotations.json", "images"]
        nokey = _run(runner, *args, "--allow-missing", "-o", str(tmp_path / "nokey"))
        assert "Note: no Clarifai key" in nokey.stderr


class TestArguments:
    """Wrong usage exits 2; bad input exits 1 with one Error line; no output is left."""

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--to", "coco", "-o", "-"], "--to coco writes a folder; give its path with -o"),
            (
                ["--to", "json", "-o", "x.zip", "--media", "embedded"],
                "--media applies to --to coco",
            ),
            (["--to", "sdk", "-o", "x.zip", "--png"], "--png applies to --to sdk with --media"),
            (["--to", "json", "-o", "x.zip", "--video-frames"], "--video-frames applies to"),
            (["--to", "json", "-o", "x.zip", "--split", "../x"], "bad split name"),
            (["--to", "yaml", "-o", "x"], "'yaml' is not one of"),
            (["-o", "x"], "Missing option '--to'"),
            (
                ["--to", "coco", "-o", "x", "--media", "download", "--jobs", "0"],
                "0 is not in the range",
            ),
        ],
    )
    def test_usage_errors(self, runner, sample_archive, tmp_path: Path, args, message) -> None:
        result = runner.invoke(cli, ["convert", str(sample_archive), *args])
        assert result.exit_code == 2
        assert message in result.stderr
        assert not (tmp_path / "x.zip").exists()

    def test_pat_file_needs_download(self, runner, sample_archive, tmp_path: Path) -> None:
        key = tmp_path / "k"
        key.write_text("k")
        result = runner.invoke(
            cli, ["convert", str(sample_archive), "--to", "coco", "-o", "c", "--pat-file", str(key)]
        )
        assert result.exit_code == 2 and "--pat-file applies to --media download" in result.stderr

    def test_missing_archive(self, runner, tmp_path: Path) -> None:
        result = runner.invoke(
            cli, ["convert", str(tmp_path / "nope.zip"), "--to", "jsonl", "-o", "o.jsonl"]
        )
        assert result.exit_code == 2 and "no such file" in result.stderr

    def _bad(self, tmp_path: Path, kind: str) -> list[str]:
        path = tmp_path / f"{kind}.zip"
        extra: list[str] = []
        if kind == "not-zip":
            path.write_bytes(b"this is not a zip file at all")
        elif kind == "no-mimetype":
            with zipfile.ZipFile(path, "w") as zf:
                zf.writestr("all/x_n1", b"")
        elif kind == "unknown-mimetype":
            with zipfile.ZipFile(path, "w") as zf:
                zf.writestr("mimetype", b"application/zip")
        elif kind == "empty":
            with zipfile.ZipFile(path, "w") as zf:
                zf.writestr("mimetype", b"application/x.clarifai-data+protobuf")
        elif kind == "damaged-entry":
            good = InputBatch(inputs=varied_inputs(2)).SerializeToString()
            write_raw_archive(
                path, [good, b"\x0a\xff\xff\xff\x0f garbage"], ["all/a_n2", "all/b_n1"]
            )
        elif kind == "truncated":
            full = tmp_path / "full.zip"
            write_raw_archive(full, [InputBatch(inputs=varied_inputs(20)).SerializeToString()])
            path.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
            full.unlink()
        elif kind == "too-big":
            write_raw_archive(path, [InputBatch(inputs=varied_inputs(5)).SerializeToString()])
            extra = ["--max-batch-bytes", "100"]
        elif kind == "folder":
            path.mkdir()
        elif kind == "duplicate-ids":
            write_raw_archive(
                path, [InputBatch(inputs=[Input(id="a"), Input(id="a")]).SerializeToString()]
            )
        return [*extra, "convert", str(path)]

    @pytest.mark.parametrize(
        ("kind", "message"),
        [
            ("not-zip", "not a zip archive"),
            ("no-mimetype", "no 'mimetype' entry"),
            ("unknown-mimetype", "unknown mimetype 'application/zip'"),
            ("empty", "holds no inputs"),
            ("damaged-entry", "entry 'all/b_n1' is not a readable InputBatch"),
            ("truncated", "not a zip archive"),
            ("too-big", "--max-batch-bytes"),
            ("folder", "is a folder"),
            ("duplicate-ids", "input id 'a' appears twice"),
        ],
    )
    @pytest.mark.parametrize("to", ["json", "jsonl", "coco", "protobuf", "sdk"])
    def test_bad_archives(self, runner, tmp_path: Path, kind: str, message: str, to: str) -> None:
        args = self._bad(tmp_path, kind)
        out = tmp_path / "out" / ("coco" if to == "coco" else f"o.{to}")
        out.parent.mkdir()
        before = _listing(tmp_path)
        result = runner.invoke(cli, [*args, "--to", to, "-o", str(out)])
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("Error: ") and message in result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert _listing(tmp_path) == before
        assert _listing(out.parent) == []

    def test_output_onto_the_source(self, runner, sample_archive, tmp_path: Path) -> None:
        copy = tmp_path / "copy.zip"
        copy.write_bytes(sample_archive.read_bytes())
        result = runner.invoke(cli, ["convert", str(copy), "--to", "protobuf", "-o", str(copy)])
        assert result.exit_code == 1 and "is the source archive" in result.stderr
        assert copy.read_bytes() == sample_archive.read_bytes()


def test_a_server_pushing_back_is_noted(runner, make_archive, tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    with MediaServer(key=KEY, latency=0.02, capacity=2) as server:
        records = []
        for n in range(12):
            server.add(f"/orig/{n}", png_bytes())
            records.append(hosted_input(f"i{n}", server.origin, str(n)))
        source = make_archive(records)
        out = tmp_path / "sdk.zip"
        result = _run(
            runner,
            *("convert", str(source), "--to", "sdk", "-o", str(out), "--media", "download"),
            *("--jobs", "8", "--retries", "20", "--pat-file", str(key_file)),
        )
    assert result.exit_code == 0, result.stderr
    assert "Note: a server answered 429/503 (too many requests): downloads went down to" in (
        result.stderr
    )
    with zipfile.ZipFile(out) as zf:
        assert sum(n.startswith("all/inputs/") for n in zf.namelist()) == 12


class _Terminal:
    """A stream that says it is a terminal (the runner's stderr, otherwise)."""

    def __init__(self, stream: object) -> None:
        self._stream = stream

    def isatty(self) -> bool:
        return True

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


class _TerminalSys:
    """``sys`` whose stderr is a terminal."""

    @property
    def stderr(self) -> _Terminal:
        return _Terminal(sys.stderr)

    def __getattr__(self, name: str) -> object:
        return getattr(sys, name)


class TestProgressBar:
    """The bar's total is the number of batch entries, counted from the directories; a
    hidden bar (``-q``, or stderr not a terminal) is not worth that second pass."""

    def _lengths(self, monkeypatch) -> list[int]:
        import click

        import toolkit.cli.convert as command

        lengths: list[int] = []
        real = click.progressbar

        def recording(*args, **kwargs):
            lengths.append(kwargs["length"])
            return real(*args, **kwargs)

        monkeypatch.setattr(command.click, "progressbar", recording)
        return lengths

    def test_a_shown_bar_has_the_entries_as_total(
        self, runner, monkeypatch, make_archive, tmp_path: Path
    ) -> None:
        import toolkit.cli.convert as command

        lengths = self._lengths(monkeypatch)
        monkeypatch.setattr(command, "sys", _TerminalSys())
        source = make_archive(varied_inputs(10), batch_size=3)  # 4 entries
        result = _run(runner, "convert", str(source), "--to", "parquet", "-o", str(tmp_path / "t"))
        assert result.exit_code == 0, result.stderr
        assert lengths == [4]

    def test_a_hidden_bar_counts_nothing(
        self, runner, monkeypatch, make_archive, tmp_path: Path
    ) -> None:
        import toolkit.cli.convert as command

        lengths = self._lengths(monkeypatch)
        counted: list[object] = []
        monkeypatch.setattr(command, "count_batches", lambda *a, **k: counted.append(a) or 4)
        source = make_archive(varied_inputs(10), batch_size=3)
        out = tmp_path / "t"
        result = _run(runner, "-q", "convert", str(source), "--to", "parquet", "-o", str(out))
        assert result.exit_code == 0, result.stderr
        assert counted == [] and lengths == [0]
        assert sum(pq.ParquetFile(p).metadata.num_rows for p in out.iterdir()) == 10
