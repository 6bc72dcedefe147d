"""The README's data-preparation walkthrough (docs/readme/prepare.md) runs as written."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from toolkit.cli import cli

ROOT = Path(__file__).resolve().parent.parent
PART = ROOT / "docs" / "readme" / "prepare.md"
PREFIX = "$ clarifai-archive "


def _transcript() -> list[tuple[str, list[str]]]:
    """``(command line, expected output lines)`` of every console block, in order."""
    steps: list[tuple[str, list[str]]] = []
    inside = False
    for line in PART.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            inside = line.strip() == "```console"
            continue
        if not inside:
            continue
        if line.startswith(PREFIX):
            steps.append((line[len(PREFIX) :], []))
        elif steps:
            steps[-1][1].append(line)
    return steps


def test_walkthrough_runs_as_written(runner, tmp_path, monkeypatch):
    steps = _transcript()
    assert len(steps) >= 8
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    monkeypatch.chdir(tmp_path)
    for command, expected in steps:
        result = runner.invoke(cli, shlex.split(command))
        failing = bool(expected) and expected[0].startswith("Error: ")
        assert result.exit_code == (1 if failing else 0), (command, result.output)
        assert result.output.splitlines() == expected, command
    # What the walkthrough promised, checked on the files it wrote.
    assert (tmp_path / "splits" / "train.zip").is_file()
    assert not (tmp_path / "oops.zip").exists()
