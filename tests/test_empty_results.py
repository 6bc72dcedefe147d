"""Every command whose output would hold no inputs stops with one ``Error:`` line, exit 1,
writing nothing, unless ``--allow-empty``; what ``--allow-empty`` writes, ``info`` reads.

One table walks the commands; ``--concept`` (an id or a name, any case) is checked here too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import make_input

from toolkit.cli import cli


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.fixture(name="sources")
def _sources(make_archive) -> dict[str, Path]:
    return {
        "two": make_archive(
            [
                make_input("a", image_bytes=b"1", concepts=[("ball", 1.0)]),
                make_input("b", image_bytes=b"2", concepts=[("box", 1.0)]),
            ],
            "two.zip",
        ),
        "empty": make_archive([], "empty.zip"),
    }


# (name, arguments with @TWO/@EMPTY for the sources and @OUT for the output, output kind)
CASES = [
    ("filter concept", ["filter", "@TWO", "--concept", "ball", "--type", "text", "-o", "@OUT"]),
    ("filter limit 0", ["filter", "@TWO", "--limit", "0", "-o", "@OUT"]),
    ("filter of empty", ["filter", "@EMPTY", "-o", "@OUT"]),
    ("remove all", ["remove", "@TWO", "--id", "a", "--id", "b", "-o", "@OUT"]),
    ("merge empties", ["merge", "@EMPTY", "@EMPTY", "-o", "@OUT"]),
    ("split part", ["split", "@TWO", "--ratios", "a=0.5,b=0.5,c=0", "-o", "@DIR"]),
    ("split of empty", ["split", "@EMPTY", "--ratios", "a=0.5,b=0.5", "-o", "@DIR"]),
    ("convert protobuf", ["convert", "@EMPTY", "--to", "protobuf", "-o", "@OUT"]),
    ("convert json", ["convert", "@EMPTY", "--to", "json", "-o", "@OUT"]),
]


def _args(args: list[str], sources: dict[str, Path], work: Path) -> list[str]:
    table = {
        "@TWO": str(sources["two"]),
        "@EMPTY": str(sources["empty"]),
        "@OUT": str(work / "out.zip"),
        "@DIR": str(work / "parts"),
    }
    return [table.get(a, a) for a in args]


@pytest.mark.parametrize(("name", "args"), CASES, ids=[c[0] for c in CASES])
def test_empty_output_is_an_error_then_allowed(runner, sources, tmp_path, name, args) -> None:
    work = tmp_path / "work"
    work.mkdir()
    result = runner.invoke(cli, _args(args, sources, work))
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "--allow-empty" in lines[0]
    assert result.stdout == "" and _files(work) == []

    result = runner.invoke(cli, [*_args(args, sources, work), "--allow-empty"])
    assert result.exit_code == 0, result.stderr
    written = sorted(p for p in work.rglob("*.zip"))
    assert written
    for path in written:
        info = runner.invoke(cli, ["info", "--json", str(path)])
        assert info.exit_code == 0, info.stderr
        filled = name == "split part" and path.stem in ("a", "b")
        assert json.loads(info.stdout)["inputs_count"] == (1 if filled else 0)


def test_split_keeps_the_filled_parts(runner, sources, tmp_path) -> None:
    args = ["split", str(sources["two"]), "--ratios", "a=0.5,b=0.5,c=0", "-o", str(tmp_path)]
    result = runner.invoke(cli, [*args, "--allow-empty", "--force"])
    assert result.exit_code == 0, result.stderr
    counts = {
        name: json.loads(
            runner.invoke(cli, ["info", "--json", str(tmp_path / f"{name}.zip")]).stdout
        )["inputs_count"]
        for name in "abc"
    }
    assert counts == {"a": 1, "b": 1, "c": 0}


def test_inputs_delete_of_every_input(runner, sources, tmp_path) -> None:
    home = ["--home", str(tmp_path / "home")]
    assert (
        runner.invoke(
            cli, [*home, "datasets", "add", str(sources["two"]), "--dataset", "d"]
        ).exit_code
        == 0
    )
    before = _files(tmp_path / "home" / "archives")
    result = runner.invoke(cli, [*home, "inputs", "delete", "d", "--id", "a", "--id", "b"])
    assert result.exit_code == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: d@two: deleting these ids would leave")
    assert _files(tmp_path / "home" / "archives") == before
    args = [*home, "inputs", "delete", "d", "--id", "a", "--id", "b", "--allow-empty", "--json"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    info = runner.invoke(cli, [*home, "info", "--json", "d"])
    assert info.exit_code == 0 and json.loads(info.stdout)["inputs_count"] == 0
    # Exporting the empty version is refused the same way, then allowed.
    for to in ("protobuf", "json"):
        out = tmp_path / f"export-{to}.zip"
        args = [*home, "datasets", "export", "d", "--to", to, "-o", str(out)]
        result = runner.invoke(cli, args)
        assert result.exit_code == 1 and "--allow-empty" in result.stderr and not out.exists()
        assert len(result.stderr.splitlines()) == 1
        assert runner.invoke(cli, [*args, "--allow-empty"]).exit_code == 0
        info = runner.invoke(cli, ["info", "--json", str(out)])
        assert info.exit_code == 0 and json.loads(info.stdout)["inputs_count"] == 0


class TestConcept:
    """``--concept`` is a concept id or its name, in any case; an unknown one is an error."""

    @pytest.mark.parametrize("key", ["Ball", "ball", "BALL"])
    def test_inputs_list_by_name_or_id(self, runner, sample_archive, key) -> None:
        result = runner.invoke(cli, ["inputs", "list", str(sample_archive), "--concept", key])
        assert result.exit_code == 0, result.stderr
        rows = result.stdout.splitlines()[1:]
        assert len(rows) == 18 and all("Ball" in row for row in rows)

    def test_filter_by_name_matches_the_id(self, runner, sample_archive, tmp_path) -> None:
        by_name, by_id = tmp_path / "n.zip", tmp_path / "i.zip"
        for key, out in (("Tree", by_name), ("tree", by_id)):
            args = ["filter", str(sample_archive), "--concept", key, "-o", str(out)]
            assert runner.invoke(cli, args).exit_code == 0
        assert by_name.read_bytes() == by_id.read_bytes()

    @pytest.mark.parametrize("command", [["inputs", "list", "@A"], ["filter", "@A", "-o", "@O"]])
    def test_unknown_concept_lists_the_closest(self, runner, sample_archive, tmp_path, command):
        args = [
            {"@A": str(sample_archive), "@O": str(tmp_path / "o.zip")}.get(a, a) for a in command
        ]
        result = runner.invoke(cli, [*args, "--concept", "Bal"])
        assert result.exit_code == 1 and result.stdout == ""
        assert result.stderr == (
            f"Error: {sample_archive}: no concept 'Bal' (neither an id nor a name, in any "
            "case); did you mean 'ball'? concepts here: ball (Ball), box (Box), night (Night), "
            "outdoor (Outdoor), person (Person), sun (Sun), tree (Tree)\n"
        )
        assert list(tmp_path.iterdir()) == []
