"""The data-preparation walkthrough (docs/readme/prepare.md) runs as written."""

from __future__ import annotations

import json
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


def _versions(home: Path) -> dict:
    from toolkit.catalog import Catalog

    with Catalog(home) as catalog:
        return {v.id: v for v in catalog.versions.list("birds")}


def test_new_catalog_versions(runner, sample_archive, tmp_path):
    home = ["--home", str(tmp_path / "home")]
    result = runner.invoke(
        cli,
        [
            *home,
            "-q",
            "datasets",
            "add",
            str(sample_archive),
            "--dataset",
            "birds",
            "--version",
            "v1",
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        cli, [*home, "relabel", "birds", "--map", "Ball=toy", "--new-version", "--report", "-"]
    )
    assert result.exit_code == 0, result.output
    assert "Created version birds@v1-relabel1 from birds@v1: 31 inputs." in result.stderr
    report = json.loads(result.stdout)
    assert report["source"] == "birds@v1" and report["concepts"]["ball"]["changed"] == 36
    result = runner.invoke(cli, [*home, "dedupe", "birds@v1-relabel1", "--new-version", "clean"])
    assert result.exit_code == 0, result.output
    assert "Created version birds@clean from birds@v1-relabel1: 29 inputs." in result.stderr
    result = runner.invoke(
        cli, [*home, "relabel", "birds@clean", "--drop-negatives", "--new-version"]
    )
    assert "Created version birds@clean-relabel1" in result.stderr
    found = _versions(tmp_path / "home")
    assert set(found) == {"v1", "v1-relabel1", "clean", "clean-relabel1"}
    assert found["clean"].parent == "v1-relabel1" and found["clean"].origin == "dedupe"
    result = runner.invoke(
        cli,
        [
            *home,
            "relabel",
            "birds",
            "--map",
            "Ball=toy",
            "--new-version",
            "-o",
            str(tmp_path / "x.zip"),
        ],
    )
    assert result.exit_code == 2 and "not both" in result.stderr
    result = runner.invoke(
        cli, [*home, "relabel", str(sample_archive), "--map", "Ball=toy", "--new-version"]
    )
    assert result.exit_code == 2 and "needs a catalog reference" in result.stderr
    result = runner.invoke(cli, [*home, "dedupe", "birds"])
    assert result.exit_code == 2 and "give -o OUT" in result.stderr
    result = runner.invoke(cli, [*home, "relabel", "birds@v1", "--map", "bal=toy", "--new-version"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: birds@v1: map 'bal' is not a concept")
    assert "closest: 'ball' (Ball)" in result.stderr
    assert len(_versions(tmp_path / "home")) == 4  # the failed run registered nothing
