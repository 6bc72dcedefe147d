"""The command-line contract, checked on every command of the click group.

One table, :data:`COMMANDS`, names every command with an invocation that prints its
result as JSON. The table must match the commands the group really has, so a new
command fails here until it is added (and then it must follow every rule):

- every command takes ``--json``; a list prints JSON Lines, one object one JSON document;
- every command that writes files (:data:`WRITERS`) takes ``--force`` and ``--report``,
  refuses an existing output or report without ``--force`` and never writes a report
  onto what it reads.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from toolkit.catalog import Catalog
from toolkit.cli import cli
from toolkit.index import build_index
from toolkit.subset import FilterCriteria

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "clarifai-data-protobuf.zip"


@dataclass
class World:
    """A fresh copy of everything a command may read: an archive, an index of it, a
    catalog holding it as ``d@v1`` with a saved filter ``f0``."""

    tmp: Path
    src: Path
    index: Path
    home: Path

    def out(self, name: str) -> str:
        return str(self.tmp / "out" / name)


@pytest.fixture(name="world")
def _world(tmp_path: Path) -> World:
    src = tmp_path / "in" / "src.zip"
    src.parent.mkdir()
    shutil.copyfile(SAMPLE, src)
    (tmp_path / "out").mkdir()
    index = tmp_path / "in" / "ix"
    build_index([src], index)
    home = tmp_path / "home"
    with Catalog(home) as catalog:
        catalog.datasets.add(src, dataset="d", version="v1")
        catalog.filters.add("f0", FilterCriteria(has_regions=True))
    return World(tmp_path, src, index, home)


def walk(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    """Every command under ``group``, by its full name ("index build")."""
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from walk(command, (*prefix, name))
        else:
            yield " ".join((*prefix, name)), command


Args = Callable[[World], list[str]]

#: Every command, with an invocation that prints its result with --json, and whether
#: that result is one document ("doc"), JSON Lines with at least one line ("lines+") or
#: JSON Lines that may be empty ("lines").
COMMANDS: dict[str, tuple[Args, str]] = {
    "info": (lambda w: ["info", str(w.src)], "doc"),
    "inputs list": (lambda w: ["inputs", "list", str(w.src)], "lines+"),
    "inputs get": (lambda w: ["inputs", "get", str(w.src), "img-0001"], "doc"),
    "inputs delete": (lambda w: ["inputs", "delete", "d", "--id", "img-0001"], "doc"),
    "datasets add": (lambda w: ["datasets", "add", str(w.src), "--dataset", "e"], "doc"),
    "datasets list": (lambda w: ["datasets", "list"], "lines+"),
    "datasets get": (lambda w: ["datasets", "get", "d"], "doc"),
    "datasets patch": (lambda w: ["datasets", "patch", "d", "--notes", "n"], "doc"),
    "datasets delete": (lambda w: ["datasets", "delete", "d", "--yes"], "doc"),
    "datasets merge": (
        lambda w: ["datasets", "merge", str(w.src), "--into", "d", "--on-conflict", "skip"],
        "doc",
    ),
    "datasets export": (
        lambda w: ["datasets", "export", "d", "--to", "jsonl", "-o", w.out("e.jsonl")],
        "doc",
    ),
    "versions list": (lambda w: ["versions", "list", "d"], "lines+"),
    "versions get": (lambda w: ["versions", "get", "d@v1"], "doc"),
    "versions patch": (lambda w: ["versions", "patch", "d@v1", "--name", "first"], "doc"),
    "versions delete": (lambda w: ["versions", "delete", "d@v1", "--yes"], "doc"),
    "versions refresh": (lambda w: ["versions", "refresh", "d@v1"], "doc"),
    "filters add": (lambda w: ["filters", "add", "f1", "--concept", "ball"], "doc"),
    "filters list": (lambda w: ["filters", "list"], "lines+"),
    "filters get": (lambda w: ["filters", "get", "f0"], "doc"),
    "filters delete": (lambda w: ["filters", "delete", "f0"], "doc"),
    "merge": (lambda w: ["merge", str(w.src), "-o", w.out("m.zip")], "doc"),
    "remove": (lambda w: ["remove", str(w.src), "--id", "img-0001", "-o", w.out("r.zip")], "doc"),
    "filter": (lambda w: ["filter", str(w.src), "--has-regions", "-o", w.out("f.zip")], "doc"),
    "split": (
        lambda w: ["split", str(w.src), "--ratios", "train=0.5,val=0.5", "-o", w.out("s")],
        "doc",
    ),
    "convert": (lambda w: ["convert", str(w.src), "--to", "jsonl", "-o", w.out("c.jsonl")], "doc"),
    "index build": (lambda w: ["index", "build", str(w.src), "-o", w.out("ix")], "doc"),
    "index add": (lambda w: ["index", "add", str(w.index), str(w.src)], "doc"),
    "index remove": (lambda w: ["index", "remove", str(w.index), "--id", "img-0001"], "doc"),
    "index eval": (lambda w: ["index", "eval", str(w.index), "--queries", "5"], "doc"),
    "index info": (lambda w: ["index", "info", str(w.index)], "doc"),
    "search": (lambda w: ["search", str(w.index), "--like", "img-0001", "-k", "3"], "lines+"),
    "sort": (lambda w: ["sort", str(w.index), "--like", "img-0001"], "lines+"),
    "duplicates": (lambda w: ["duplicates", str(w.index)], "lines"),
}

#: The commands that write files, each with an invocation whose main output is ``out``
#: (None: the command changes its INDEX_DIR in place and writes only its report).
Writer = Callable[[World, str], list[str]]
WRITERS: dict[str, tuple[Writer, bool]] = {
    "convert": (lambda w, out: ["convert", str(w.src), "--to", "jsonl", "-o", out], True),
    "merge": (lambda w, out: ["merge", str(w.src), "-o", out], True),
    "remove": (lambda w, out: ["remove", str(w.src), "--id", "img-0001", "-o", out], True),
    "filter": (lambda w, out: ["filter", str(w.src), "--has-regions", "-o", out], True),
    "split": (
        lambda w, out: ["split", str(w.src), "--ratios", "train=0.5,val=0.5", "-o", out[:-10]],
        True,
    ),
    "index build": (lambda w, out: ["index", "build", str(w.src), "-o", out], True),
    "index add": (lambda w, out: ["index", "add", str(w.index), str(w.src)], False),
    "index remove": (lambda w, out: ["index", "remove", str(w.index), "--id", "img-0001"], False),
    "search": (lambda w, out: ["search", str(w.index), "--like", "img-0001", "--sheet", out], True),
    "sort": (lambda w, out: ["sort", str(w.index), "--like", "img-0001", "-o", out], True),
    "datasets export": (
        lambda w, out: ["datasets", "export", "d", "--to", "jsonl", "-o", out],
        True,
    ),
}


def invoke(world: World, args: list[str]):
    result = CliRunner().invoke(cli, ["--home", str(world.home), "-q", *args])
    assert "Traceback" not in result.output
    return result


def refused(result, *, code: int = 1) -> str:
    """The one ``Error:`` line of a refused run."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    if code == 2:  # usage errors come after click's usage lines
        lines = [line for line in lines if line.startswith("Error: ")]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


ALL = dict(walk(cli))


def test_the_table_names_every_command() -> None:
    """A command added to the group without a row here (and so without the checks
    below) fails this test; so does a row for a command that is gone."""
    assert sorted(COMMANDS) == sorted(ALL)
    assert set(WRITERS) <= set(ALL)


def _option_names(command: click.Command) -> set[str]:
    return {opt for p in command.params if isinstance(p, click.Option) for opt in p.opts}


def _writes_files(command: click.Command) -> bool:
    """A command with a path option or argument it writes to (-o, --sheet, --html)."""
    names = _option_names(command)
    return bool(names & {"-o", "--output", "--sheet", "--html"})


@pytest.mark.parametrize("name", sorted(ALL))
def test_options(name: str) -> None:
    command = ALL[name]
    names = _option_names(command)
    assert "--json" in names, f"{name}: no --json"
    if _writes_files(command):
        assert name in WRITERS, f"{name} writes files: add it to WRITERS"
    if name in WRITERS:
        assert {"--force", "--report"} <= names, f"{name}: --force and --report are due"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_json(world: World, name: str) -> None:
    args, shape = COMMANDS[name]
    result = invoke(world, [*args(world), "--json"])
    assert result.exit_code == 0, (name, result.stderr)
    if shape == "doc":
        assert isinstance(json.loads(result.stdout), dict)
        return
    lines = result.stdout.splitlines()
    assert all(isinstance(json.loads(line), dict) for line in lines)
    if shape == "lines+":
        assert lines


class TestWriters:
    @pytest.mark.parametrize(
        "name", sorted(n for n, (_, has_output) in WRITERS.items() if has_output)
    )
    def test_an_existing_output_needs_force(self, world: World, name: str) -> None:
        make, _ = WRITERS[name]
        if name == "index build":  # an index folder: replaced as a whole with --force
            out = world.tmp / "out" / "ix"
            shutil.copytree(world.index, out)
            check = out / "marker"
        else:
            out = world.tmp / "out" / ("s/train.zip" if name == "split" else "existing")
            out.parent.mkdir(parents=True, exist_ok=True)
            check = out
        check.write_bytes(b"old")
        line = refused(invoke(world, make(world, str(out))))
        assert "pass --force" in line and str(out) in line
        assert check.read_bytes() == b"old"
        result = invoke(world, [*make(world, str(out)), "--force"])
        assert result.exit_code == 0, result.stderr
        assert not check.exists() or check.read_bytes() != b"old"

    @pytest.mark.parametrize("name", sorted(WRITERS))
    def test_an_existing_report_needs_force(self, world: World, name: str) -> None:
        make, _ = WRITERS[name]
        report = world.tmp / "out" / "report.json"
        report.write_bytes(b"old")
        out = world.out("s/train.zip" if name == "split" else "new")
        line = refused(invoke(world, [*make(world, out), "--report", str(report)]))
        assert line == f"Error: {report}: exists; pass --force to replace it"
        assert report.read_bytes() == b"old"
        result = invoke(world, [*make(world, out), "--report", str(report), "--force"])
        assert result.exit_code == 0, result.stderr
        assert isinstance(json.loads(report.read_text()), dict)

    @pytest.mark.parametrize("name", sorted(WRITERS))
    def test_the_report_never_lands_on_a_source(self, world: World, name: str) -> None:
        make, _ = WRITERS[name]
        out = world.out("s/train.zip" if name == "split" else "new")
        sources = [world.src]  # what the command reads, and (index) what it holds
        if name in ("index add", "search", "sort"):
            sources.append(world.index / "index.faiss")
        if name == "index remove":
            sources = [world.index / "index.faiss"]
        if name == "datasets export":
            sources = [Catalog(world.home).version("d").archive]
        for source in sources:
            before = source.read_bytes()
            args = [*make(world, out), "--report", str(source), "--force"]
            line = refused(invoke(world, args))
            assert str(source) in line
            assert source.read_bytes() == before


@pytest.mark.parametrize("name", ["split", "filter"])
def test_to_help_speaks_of_the_command(name: str) -> None:
    (option,) = [p for p in ALL[name].params if p.name == "flavour"]
    assert "merge" not in (option.help or "")


class TestVersionRefs:
    """versions get|patch|delete|refresh take DATASET@VERSION, and still ID VID."""

    @pytest.mark.parametrize("name", ["get", "refresh"])
    def test_both_forms(self, world: World, name: str) -> None:
        new = json.loads(invoke(world, ["versions", name, "d@v1", "--json"]).stdout)
        old = json.loads(invoke(world, ["versions", name, "d", "v1", "--json"]).stdout)
        latest = json.loads(invoke(world, ["versions", name, "d", "--json"]).stdout)
        assert new["id"] == old["id"] == latest["id"] == "v1"

    def test_patch_and_delete_name_the_version(self, world: World) -> None:
        line = refused(invoke(world, ["versions", "delete", "d", "--yes"]), code=2)
        assert "d@VERSION" in line
        result = invoke(world, ["versions", "patch", "d@v1", "--name", "x", "--json"])
        assert json.loads(result.stdout)["name"] == "x"
        line = refused(invoke(world, ["versions", "patch", "d@v1", "v1", "--name", "y"]), code=2)
        assert "not both" in line
        result = invoke(world, ["versions", "delete", "d@v1", "--yes", "--json"])
        assert json.loads(result.stdout)["id"] == "v1"
        assert refused(invoke(world, ["versions", "get", "d@v1"]), code=1)
