"""The README's quick tour and Python quick start run as written, from a fresh folder."""

from __future__ import annotations

import doctest
import re
import shlex
from pathlib import Path

import pytest

from toolkit.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PREFIX = "$ clarifai-archive "
HEAD = re.compile(r"^(?P<command>.*?) \| head -(?P<lines>\d+)$")


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _tour() -> list[tuple[str, list[str]]]:
    """``(command line, expected output lines)`` of the quick tour's console block."""
    (block,) = re.findall(r"```console\n(.*?)```", _section("A quick tour"), flags=re.S)
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith(PREFIX):
            steps.append((line[len(PREFIX) :], []))
        else:
            steps[-1][1].append(line)
    return steps


@pytest.fixture(name="fresh_folder")
def _fresh_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "sample_data").symlink_to(ROOT / "sample_data")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_quick_tour_runs_as_written(runner, fresh_folder: Path) -> None:
    steps = _tour()
    assert len(steps) >= 6
    for command, expected in steps:
        match = HEAD.match(command)
        if match:
            command = match["command"]
        result = runner.invoke(cli, shlex.split(command), catch_exceptions=False)
        assert result.exit_code == 0, (command, result.output)
        lines = result.output.splitlines()
        if match:
            lines = lines[: int(match["lines"])]
        assert lines == expected, command
    assert (fresh_folder / "coco" / "annotations.json").is_file()
    assert (fresh_folder / "night.zip").is_file()


def test_python_quick_start_runs_as_written(fresh_folder: Path) -> None:
    (block,) = re.findall(r"```pycon\n(.*?)```", _section("Python quick start"), flags=re.S)
    test = doctest.DocTestParser().get_doctest(block, {}, "README quick start", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    result = runner.run(test, out=lambda text: pytest.fail(text))
    assert result.failed == 0 and result.attempted >= 8
    assert (fresh_folder / "coco-out").is_dir() and (fresh_folder / "my-index").is_dir()
