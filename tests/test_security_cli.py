"""Failures of the whole run: interrupts (Ctrl-C, SIGTERM), a full disk, no memory.

Each must end with one ``Error:`` line, a non-zero exit and no partial output. The
interrupt and disk tests run the real CLI as a subprocess on a generated archive.
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import click
import pytest

from toolkit.archive import ArchiveWriter
from toolkit.cli import Interrupted, cli
from toolkit.errors import ArchiveError, OutputError

ROOT = Path(__file__).resolve().parent.parent


def _field(number: int, payload: bytes) -> bytes:
    from security_helpers import field

    return field(number, payload)


@pytest.fixture(name="big_archive", scope="module")
def _big_archive(tmp_path_factory) -> Path:
    """60,000 small inputs with a concept, a box and metadata (~6 MB): long enough to
    convert that a signal lands while the output is being written."""
    path = tmp_path_factory.mktemp("big") / "big.zip"
    box = _field(2, _field(1, b"\x0d\xcd\xcc\xcc\x3d\x1d\x00\x00\x00\x3f"))
    region = _field(
        11,
        _field(1, b"r") + box + _field(3, _field(3, _field(1, b"ball") + b"\x1d\x00\x00\x80\x3f")),
    )
    concept = _field(3, _field(1, b"cat") + _field(2, b"Cat") + b"\x1d\x00\x00\x80\x3f")
    metadata = _field(5, _field(1, _field(1, b"split") + _field(2, _field(3, b"train"))))
    text = _field(13, _field(1, b"some text " * 4))
    with ArchiveWriter(path, batch_size=500) as writer:
        for n in range(60_000):
            data = concept + region + metadata + text
            writer.add_serialized(_field(1, f"in-{n:06d}".encode()) + _field(2, data))
    return path


def _cli(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "toolkit", "-q", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


# ``clarifai-archive -q ARGS`` that holds the first rename of a finished temporary output
# into the folder argv[1] (or below it): it says "writing" on stdout and waits there for
# the signal, so the run is interrupted while it writes its outputs, never after.
HELD_BEFORE_THE_RENAME = r"""
import os, sys, time
from toolkit.cli import main

out = os.path.realpath(sys.argv.pop(1))
real_replace = os.replace


def replace(src, dst, *args, **kwargs):
    held = ".tmp-" in os.path.basename(os.fspath(src))
    if held and os.path.realpath(dst).startswith(out + os.sep):
        print("writing", flush=True)
        time.sleep(600)  # the signal's handler ends this wait
    return real_replace(src, dst, *args, **kwargs)


os.replace = replace
sys.argv[0] = "clarifai-archive"
main()
"""


CASES = {
    "convert json": ["convert", "{src}", "--to", "json", "-o", "{out}/result.zip"],
    "convert jsonl": ["convert", "{src}", "--to", "jsonl", "-o", "{out}/result.jsonl"],
    "convert json, 2 workers": [
        *("convert", "{src}", "--to", "json", "--workers", "2", "-o", "{out}/result.zip"),
    ],
    "convert jsonl, 2 workers": [
        *("convert", "{src}", "--to", "jsonl", "--workers", "2", "-o", "{out}/result.jsonl"),
    ],
    "convert coco": ["convert", "{src}", "--to", "coco", "-o", "{out}/coco"],
    "merge": ["merge", "{src}", "{src}", "-o", "{out}/merged.zip", "--to", "json"],
    "split": [
        "split",
        "{src}",
        "--ratios",
        "a=0.5,b=0.5",
        "--stratify-by",
        "concept",
        "-o",
        "{out}/s",
    ],
}


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("case", list(CASES))
def test_interrupted_run_leaves_nothing(big_archive, tmp_path: Path, case, signum) -> None:
    out = tmp_path / "out"
    out.mkdir()
    args = [a.format(src=big_archive, out=out) for a in CASES[case]]
    proc = subprocess.Popen(
        [sys.executable, "-c", HELD_BEFORE_THE_RENAME, str(out), "-q", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = proc.stdout.readline().strip() == "writing" and os.listdir(out)
    proc.send_signal(signum)
    _stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert errors == [
        f"Error: interrupted ({signal.Signals(signum).name}); no partial output was kept"
    ]
    assert "Traceback" not in stderr
    assert started  # it had started writing
    assert os.listdir(out) == [], f"left behind: {os.listdir(out)}"


def _limit_file_size(max_bytes: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes fail with EFBIG instead

    return apply


@pytest.mark.slow
@pytest.mark.parametrize(
    "case", ["convert json", "convert jsonl", "convert jsonl, 2 workers", "merge", "split"]
)
def test_full_disk_leaves_nothing(big_archive, tmp_path: Path, case) -> None:
    """Writes past 1 MB fail (a file-size limit stands in for a full disk)."""
    out = tmp_path / "out"
    out.mkdir()
    args = [a.format(src=big_archive, out=out) for a in CASES[case]]
    proc = _cli(*args, preexec_fn=_limit_file_size(1_000_000))
    _stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, stderr
    assert "File too large" in errors[0]
    assert "Traceback" not in stderr
    assert os.listdir(out) == [], f"left behind: {os.listdir(out)}"


def test_writer_cleans_up_when_the_disk_fills(tmp_path: Path, monkeypatch) -> None:
    """ENOSPC in the middle of a batch: OutputError, and the temporary file is gone."""
    import zipfile

    from helpers import make_input

    def full_disk(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    out = tmp_path / "out.zip"
    writer = ArchiveWriter(out, batch_size=1)
    monkeypatch.setattr(zipfile.ZipFile, "writestr", full_disk)
    with pytest.raises(OutputError, match="No space left on device"):
        with writer:
            writer.add(make_input("a"))
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), ArchiveError("bad"), None])
def test_temporary_files_of_a_failed_run_are_swept(runner, tmp_path: Path, exc) -> None:
    """A temporary output created where no ``try`` owns it yet (an interrupt can land
    there) is removed when the command fails, and kept track of no longer on success."""
    from toolkit._atomic import temp_sibling

    made: list[Path] = []

    @click.command("make-temp")
    def make_temp() -> None:
        tmp = temp_sibling(tmp_path / "out.zip")
        tmp.write_bytes(b"half")
        made.append(tmp)
        folder = temp_sibling(tmp_path / "out-dir")
        (folder / "sub").mkdir(parents=True)
        made.append(folder)
        if exc is not None:
            raise exc

    cli.add_command(make_temp)
    try:
        result = runner.invoke(cli, ["make-temp"])
    finally:
        cli.commands.pop("make-temp")
    if exc is None:
        assert result.exit_code == 0
        assert all(p.exists() for p in made)  # success: nothing is touched
    else:
        assert result.exit_code in (1, 130)
        assert not any(p.exists() for p in made)
        assert os.listdir(tmp_path) == []


class TestErrorMapping:
    """Whatever escapes a command becomes one Error: line (never a traceback)."""

    @pytest.fixture(name="raising")
    def _raising(self):
        holder: dict[str, BaseException] = {}

        @click.command("raise-it")
        def raise_it() -> None:
            raise holder["exc"]

        cli.add_command(raise_it)
        yield holder
        cli.commands.pop("raise-it")

    @pytest.mark.parametrize(
        ("exc", "code", "message"),
        [
            (ArchiveError("a.zip: bad"), 1, "Error: a.zip: bad"),
            (KeyboardInterrupt(), 130, "Error: interrupted (SIGINT); no partial output was kept"),
            (
                Interrupted(signal.SIGTERM),
                143,
                "Error: interrupted (SIGTERM); no partial output was kept",
            ),
            (
                OSError(errno.ENOSPC, "No space left on device", "/data/out.zip"),
                1,
                "Error: /data/out.zip: No space left on device: the disk is full; free some "
                "space (or write elsewhere) and run again; no partial output was kept",
            ),
            (
                PermissionError(errno.EACCES, "Permission denied", "/root/x"),
                1,
                "Error: /root/x: Permission denied",
            ),
            (MemoryError(), 1, "Error: out of memory; lower --max-batch-bytes"),
        ],
    )
    def test_mapping(self, runner, raising, exc, code, message) -> None:
        raising["exc"] = exc
        result = runner.invoke(cli, ["raise-it"])
        assert result.exit_code == code
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(message), result.stderr

    def test_the_key_never_shows_in_an_error(self, runner, raising, monkeypatch) -> None:
        key = "pat-0123456789abcdef-SECRET"
        monkeypatch.setenv("CLARIFAI_PAT", key)
        raising["exc"] = ArchiveError(f"fetch failed with header Authorization: Key {key}")
        result = runner.invoke(cli, ["raise-it"])
        assert key not in result.stderr + result.stdout
        assert "Key ***" in result.stderr

    def test_registered_keys_are_redacted(self, runner, raising) -> None:
        from toolkit.safety import register_secret

        register_secret("from-a-key-file-0001")
        raising["exc"] = OSError(errno.EIO, "I/O error from-a-key-file-0001")
        result = runner.invoke(cli, ["raise-it"])
        assert "from-a-key-file-0001" not in result.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_signal_handlers_of_the_entry_point(tmp_path: Path, signum) -> None:
    """``clarifai-archive`` (main) turns SIGTERM and SIGHUP into a clean interrupt."""
    code = (
        "import sys, time, click\n"
        "from toolkit.cli import cli, main\n"
        "@click.command('wait')\n"
        "def wait():\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(30)\n"
        "cli.add_command(wait)\n"
        "sys.argv = ['clarifai-archive', 'wait']\n"
        "main()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signum)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signum
    assert (
        err.strip()
        == f"Error: interrupted ({signal.Signals(signum).name}); no partial output was kept"
    )
