"""A short, seeded fuzz run of every command (the long run is ``bench/fuzz_long.py``)."""

from __future__ import annotations

import random
import time
from pathlib import Path

import click
import pytest

from fuzz.harness import (
    COMMANDS,
    FuzzCommand,
    base_archives,
    fuzz,
    mutate,
    run_case,
)
from toolkit.archive import ArchiveReader
from toolkit.cli import cli

#: Cases per command in the default suite: a few seconds in all.
CASES_PER_COMMAND = 16
SEED = 20261127


def _report(tally) -> str:
    lines = [tally.table()]
    for finding, mutation, _data in tally.bad[:5]:
        lines.append(f"--- {finding.command}: {finding.outcome} ({mutation})")
        lines.append(finding.detail[-2000:])
        lines.append(finding.stderr[-500:])
    return "\n".join(lines)


#: Rows aimed at a source that still succeed on this branch: issue 18 item 1 (outputs
#: checked against every source, --report/--sheet/--html included) is fixed on another
#: branch. Strict: once it lands these pass, and this set must be emptied.
_AWAITING_OUTPUT_CHECKS = {
    "aimed: convert --report source",
    "aimed: merge --report source",
    "aimed: search --sheet index.faiss",
    "aimed: search --html indexed archive",
}


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(
            c,
            marks=pytest.mark.xfail(reason="issue 18 item 1", strict=True)
            if c.name in _AWAITING_OUTPUT_CHECKS
            else (),
        )
        for c in COMMANDS
    ],
    ids=[c.name for c in COMMANDS],
)
def test_fuzz_command(command: FuzzCommand, tmp_path: Path) -> None:
    """Mutated archives: success or exactly one Error: line, in time, nothing left behind."""
    tally = fuzz(
        seed=SEED, cases=CASES_PER_COMMAND, work=tmp_path / "work", commands=[command], timeout=10
    )
    assert tally.total == CASES_PER_COMMAND
    assert not tally.bad, _report(tally)


def test_base_archives_are_valid(tmp_path: Path) -> None:
    """The archives the mutators start from are read back whole, in both flavours."""
    for base in base_archives():
        path = tmp_path / f"{base.name}.zip"
        path.write_bytes(base.data)
        with ArchiveReader(path) as reader:
            assert reader.flavour == base.flavour
            assert tuple(r.id for r in reader.iter_inputs()) == base.ids


def test_mutations_are_seeded() -> None:
    base = base_archives()[0]
    first = [mutate(random.Random(f"1:{n}"), base) for n in range(20)]
    again = [mutate(random.Random(f"1:{n}"), base) for n in range(20)]
    assert first == again
    assert sum(data != base.data for _name, data in first) >= 15


# -- the harness must be able to fail ----------------------------------------------


@pytest.fixture(name="bad_commands")
def _bad_commands():
    """Temporary commands that crash, hang, leak a temporary file or write outside."""

    @click.command("fuzz-crash")
    @click.argument("archive")
    def crash(archive: str) -> None:
        raise ValueError("boom")

    @click.command("fuzz-hang")
    @click.argument("archive")
    def hang(archive: str) -> None:
        time.sleep(30)

    @click.command("fuzz-leak")
    @click.argument("archive")
    @click.argument("out")
    def leak(archive: str, out: str) -> None:
        Path(out).with_name(".result.zip.tmp-1").write_bytes(b"half")
        raise click.ClickException("failed")

    @click.command("fuzz-escape")
    @click.argument("archive")
    @click.argument("out")
    def escape(archive: str, out: str) -> None:
        (Path(out).parent / ".." / ".." / "escaped").write_bytes(b"x")

    @click.command("fuzz-two-errors")
    @click.argument("archive")
    def two_errors(archive: str) -> None:
        click.echo("Error: one", err=True)
        raise click.ClickException("two")

    added = [crash, hang, leak, escape, two_errors]
    for command in added:
        cli.add_command(command)
    yield
    for command in added:
        cli.commands.pop(command.name, None)


@pytest.mark.parametrize(
    ("args", "outcome", "detail"),
    [
        (("fuzz-crash", "{archive}"), "crash", "ValueError: boom"),
        (("fuzz-hang", "{archive}"), "hang", "over 0.3 s"),
        (("fuzz-leak", "{archive}", "{out}"), "leak", "failed run left"),
        (("fuzz-escape", "{archive}", "{out}"), "leak", "outside"),
        (("fuzz-two-errors", "{archive}"), "crash", "2 'Error:' lines"),
    ],
)
def test_harness_detects(bad_commands, tmp_path: Path, args, outcome, detail) -> None:
    base = base_archives()[0]
    finding = run_case(
        FuzzCommand("bad", args), base.data, tmp_path / "work", input_id="x", timeout=0.3
    )
    assert finding.outcome == outcome, finding
    assert detail in finding.detail


def test_harness_checks_invariants(tmp_path: Path) -> None:
    """A success whose invariant fails is a crash."""

    def never(run) -> None:
        raise AssertionError("invariant broken on purpose")

    base = base_archives()[0]
    finding = run_case(
        FuzzCommand("info", ("info", "{archive}"), never),
        base.data,
        tmp_path / "work",
        input_id="x",
    )
    assert finding.outcome == "crash"
    assert "invariant broken on purpose" in finding.detail
