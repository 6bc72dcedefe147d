"""Every safety limit, triggered by a crafted file, with a message naming its option."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from helpers import make_input
from security_helpers import (
    deep_metadata_batch,
    deep_metadata_json,
    json_mimetype,
    patch_eocd_count,
    write_zip,
    zip_bytes,
)

from toolkit import archive as archive_module
from toolkit.archive import PARSED_METADATA_DEPTH, ArchiveReader
from toolkit.cli import cli
from toolkit.errors import ArchiveError, LimitError
from toolkit.limits import DEFAULT_LIMITS, Limits
from toolkit.messages import InputBatch

GOOD = InputBatch(inputs=[make_input("a", concepts=[("cat", 1.0)])]).SerializeToString()
MiB = 1024 * 1024


def _fail(runner, path: Path, *options: str) -> str:
    """Run ``info`` and return its one ``Error:`` line (exit 1, no traceback)."""
    result = runner.invoke(cli, [*options, "info", str(path)])
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def _ok(runner, path: Path, *options: str) -> str:
    result = runner.invoke(cli, [*options, "info", str(path), "--json"])
    assert result.exit_code == 0, result.stderr
    return result.stdout


class TestEachLimit:
    """One crafted file per limit; raising the option lets a trusted file through."""

    def test_max_entries(self, runner, tmp_path: Path) -> None:
        path = write_zip(tmp_path / "a.zip", [(f"all/b{i}_n1", GOOD) for i in range(5)])
        line = _fail(runner, path, "--max-entries", "3")
        assert "6 zip entries exceed the limit of 3" in line and "--max-entries" in line
        _ok(runner, path, "--max-entries", "6")

    def test_max_entries_checked_before_zipfile_parses(
        self, runner, tmp_path: Path, monkeypatch
    ) -> None:
        """A central directory bigger than the limit allows is counted without zipfile
        (whose objects cost ~10x the directory's size), even when the end record lies."""
        data = zip_bytes([(f"all/b{i}_n1", GOOD) for i in range(5)])
        path = tmp_path / "lying.zip"
        path.write_bytes(patch_eocd_count(data, 1))

        def no_zipfile(*args, **kwargs):
            raise AssertionError("zipfile parsed the directory before the limit was checked")

        monkeypatch.setattr(archive_module.zipfile, "ZipFile", no_zipfile)
        line = _fail(runner, path, "--max-entries", "3")
        assert "over 3 zip entries" in line and "--max-entries" in line
        # The declared count alone is enough when it is over the limit.
        path.write_bytes(patch_eocd_count(data, 60000))
        line = _fail(runner, path, "--max-entries", "100")
        assert "60000 zip entries exceed the limit of 100" in line

    def test_max_batch_bytes(self, runner, tmp_path: Path) -> None:
        path = write_zip(tmp_path / "a.zip", [("all/b_n1", GOOD)])
        line = _fail(runner, path, "--max-batch-bytes", "10")
        assert f"is {len(GOOD)} bytes uncompressed, over the limit of 10" in line
        assert "--max-batch-bytes" in line
        _ok(runner, path, "--max-batch-bytes", str(len(GOOD)))

    def test_max_total_bytes(self, runner, tmp_path: Path) -> None:
        path = write_zip(tmp_path / "a.zip", [("all/b_n1", GOOD), ("all/c_n1", GOOD)])
        line = _fail(runner, path, "--max-total-bytes", str(len(GOOD) + 1))
        assert "--max-total-bytes" in line
        _ok(runner, path, "--max-total-bytes", str(2 * len(GOOD)))

    def test_max_ratio_of_one_entry(self, runner, tmp_path: Path) -> None:
        """A zip bomb entry: 8 MiB of zeros deflate to about 8 KB."""
        path = write_zip(
            tmp_path / "bomb.zip", [("all/b_n1", bytes(8 * MiB), zipfile.ZIP_DEFLATED)]
        )
        line = _fail(runner, path)
        assert "expands 8388608 bytes from" in line and "zip bomb" in line
        assert "--max-ratio" in line
        # Trusted: the ratio check lets it through (then the zeros are no InputBatch).
        line = _fail(runner, path, "--max-ratio", "5000")
        assert "not a readable InputBatch" in line

    def test_max_ratio_of_the_whole_archive(self, runner, tmp_path: Path) -> None:
        """Many entries, each under the 1 MiB exemption, still add up to a bomb."""
        entries = [(f"all/b{i}_n1", bytes(512 * 1024), zipfile.ZIP_DEFLATED) for i in range(8)]
        path = write_zip(tmp_path / "many.zip", entries)
        line = _fail(runner, path, "--max-ratio", "300")
        assert "expands to 4194340 bytes from 5" in line and "--max-ratio" in line
        with ArchiveReader(path, limits=Limits(max_ratio=5000)) as reader:
            assert len(reader.entries) == 8

    @pytest.mark.parametrize("flavour", ["protobuf", "json"])
    def test_max_batch_objects(self, runner, tmp_path: Path, monkeypatch, flavour) -> None:
        """2 bytes of ``\\x0a\\x00`` are one empty input (~85 bytes once parsed), so a small
        entry can take gigabytes: it is refused before the parser allocates anything."""
        if flavour == "protobuf":
            body, mimetype = b"\x0a\x00" * 30_000, None
        else:
            body, mimetype = b'{"inputs":[' + b",".join([b"{}"] * 30_000) + b"]}", json_mimetype()
        entries = [("all/b_n30000", body, zipfile.ZIP_DEFLATED)]
        if mimetype is None:
            path = write_zip(tmp_path / "objects.zip", entries)
        else:
            path = write_zip(tmp_path / "objects.zip", entries, mimetype=mimetype)
        parsed: list[int] = []
        real = archive_module.InputBatch

        class Spy:
            DESCRIPTOR = real.DESCRIPTOR

            @staticmethod
            def FromString(data: bytes):  # noqa: N802 - protobuf's name
                parsed.append(len(data))
                return real.FromString(data)

        monkeypatch.setattr(archive_module, "InputBatch", Spy)
        line = _fail(runner, path, "--max-batch-objects", "10000", "--max-ratio", "1e6")
        assert "holds over 10000 objects" in line and "--max-batch-objects" in line
        assert parsed == []  # refused before parsing
        monkeypatch.setattr(archive_module, "InputBatch", real)
        metrics = _ok(runner, path, "--max-batch-objects", "100000", "--max-ratio", "1e6")
        assert '"inputs_count": 30000' in metrics

    @pytest.mark.parametrize("flavour", ["protobuf", "json"])
    def test_max_metadata_depth(self, runner, tmp_path: Path, flavour) -> None:
        if flavour == "protobuf":
            path = write_zip(tmp_path / "deep.zip", [("all/b_n1", deep_metadata_batch(10))])
        else:
            body = deep_metadata_json(10)
            path = write_zip(tmp_path / "deep.zip", [("all/b_n1", body)], mimetype=json_mimetype())
        line = _fail(runner, path, "--max-metadata-depth", "5")
        assert "input 'deep': metadata nests 10 levels deep, over the limit of 5" in line
        assert "--max-metadata-depth" in line
        _ok(runner, path, "--max-metadata-depth", "10")
        _ok(runner, path)  # the default allows what protobuf allows

    def test_max_image_pixels(self, runner, tmp_path: Path) -> None:
        """An image decoded by a command (sdk --png re-encodes it) is checked first."""
        import io

        from PIL import Image

        from toolkit.archive import write_archive

        buf = io.BytesIO()
        Image.new("RGB", (100, 100)).save(buf, format="PNG")
        record = make_input("big", image_bytes=buf.getvalue())
        path = tmp_path / "px.zip"
        write_archive(path, [record])
        out = tmp_path / "out.zip"
        args = ["convert", str(path), "--to", "sdk", "-o", str(out), "--media", "embedded"]
        result = runner.invoke(cli, ["--max-image-pixels", "5000", *args, "--png"])
        assert result.exit_code == 1, result.stderr
        assert "100x100 pixels, more than the limit of 5000 (--max-image-pixels)" in result.stderr
        assert not out.exists()
        result = runner.invoke(cli, ["--max-image-pixels", "10000", *args, "--png"])
        assert result.exit_code == 0, result.stderr


class TestDeepNesting:
    """Nesting deeper than protobuf's limit is an Error:, never a RecursionError."""

    @pytest.mark.parametrize("kind", ["list", "struct"])
    def test_protobuf_flavour(self, runner, tmp_path: Path, kind) -> None:
        path = write_zip(tmp_path / "deep.zip", [("all/b_n1", deep_metadata_batch(200, kind=kind))])
        line = _fail(runner, path)
        assert "nests messages deeper than protobuf allows" in line

    @pytest.mark.parametrize(("depth", "kind"), [(40, "struct"), (60, "list"), (100_000, "list")])
    def test_json_flavour(self, runner, tmp_path: Path, depth, kind) -> None:
        """Depth 40 structs pass the JSON parser but not the wire format's limit: they are
        refused too, so whatever is read can be written as a protobuf archive."""
        body = deep_metadata_json(depth, kind=kind)
        path = write_zip(tmp_path / "deep.zip", [("all/b_n1", body)], mimetype=json_mimetype())
        line = _fail(runner, path)
        assert "deeper than protobuf allows" in line or "recursion" in line

    def test_parsed_depth_constant_matches_protobuf(self, tmp_path: Path) -> None:
        """The reader skips its walk when the limit is at least what the parser allows."""
        ok = write_zip(
            tmp_path / "ok.zip", [("all/b_n1", deep_metadata_batch(PARSED_METADATA_DEPTH))]
        )
        with ArchiveReader(ok) as reader:
            assert len(list(reader.iter_inputs())) == 1
        bad = write_zip(
            tmp_path / "bad.zip", [("all/b_n1", deep_metadata_batch(PARSED_METADATA_DEPTH + 1))]
        )
        with ArchiveReader(bad) as reader, pytest.raises(ArchiveError, match="deeper than"):
            list(reader.iter_inputs())
        assert DEFAULT_LIMITS.max_metadata_depth >= PARSED_METADATA_DEPTH


def test_every_limit_has_an_option(runner) -> None:
    result = runner.invoke(cli, ["--help"])
    for option in (
        "--max-entries",
        "--max-batch-bytes",
        "--max-batch-objects",
        "--max-total-bytes",
        "--max-ratio",
        "--max-image-pixels",
        "--max-metadata-depth",
    ):
        assert option in result.stdout


def test_limits_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        Limits(max_entries=0)
    with pytest.raises(ValueError, match="max_ratio"):
        Limits(max_ratio=0.5)


def test_limit_error_is_a_limit_error(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "a.zip", [("all/b_n1", GOOD)])
    with pytest.raises(LimitError):
        ArchiveReader(path, limits=Limits(max_batch_bytes=1))
