"""read_pat: the key from a file or $CLARIFAI_PAT, never shown in a message."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.errors import MediaError
from toolkit.media import read_pat

SECRET = "0123456789abcdef0123456789abcdef"


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLARIFAI_PAT", f"  {SECRET}\n")
    assert read_pat() == SECRET


def test_none_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLARIFAI_PAT", raising=False)
    assert read_pat() is None
    monkeypatch.setenv("CLARIFAI_PAT", "   ")
    assert read_pat() is None


def test_file_first_line_wins_over_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLARIFAI_PAT", "from-env")
    pat_file = tmp_path / "pat"
    pat_file.write_text(f"{SECRET}\nsecond line ignored\n")
    assert read_pat(pat_file) == SECRET


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="cannot read the key file"):
        read_pat(tmp_path / "nope")


def test_empty_file(tmp_path: Path) -> None:
    pat_file = tmp_path / "pat"
    pat_file.write_text("\n")
    with pytest.raises(MediaError, match="first line of the key file is empty"):
        read_pat(pat_file)


@pytest.mark.parametrize("bad", [f"{SECRET} x", f"{SECRET}\x00", f"{SECRET}\r\nX-Evil: 1"])
def test_keys_that_could_split_a_header_are_refused_without_showing_them(
    bad: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pat_file = tmp_path / "pat"
    pat_file.write_bytes(bad.replace("\r\n", "\t").encode())
    with pytest.raises(MediaError) as info:
        read_pat(pat_file)
    assert SECRET not in str(info.value)
    monkeypatch.setenv("CLARIFAI_PAT", bad.replace("\x00", "\x01"))
    with pytest.raises(MediaError) as info:
        read_pat()
    assert SECRET not in str(info.value)
