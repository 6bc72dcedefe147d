"""Every command documents itself, and the README's commands exist."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from toolkit.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        yield path, command
        if isinstance(command, click.Group):
            yield from _commands(command, path)


COMMANDS = list(_commands(cli))


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_help(runner, path, command) -> None:
    assert command.help and command.help.strip(), f"{' '.join(path)} has no help text"
    if not isinstance(command, click.Group):
        assert "Example:" in command.help, f"{' '.join(path)} has no Example: block"
    result = runner.invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"{' '.join(path)} {param.opts[0]} has no help"


def test_readme_commands_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    known = {" ".join(p) for p, _ in COMMANDS}
    global_with_value = {
        opt
        for param in cli.params
        if isinstance(param, click.Option) and not param.is_flag
        for opt in param.opts
    }
    for line in re.findall(r"^\$ clarifai-archive (.+)$", readme, flags=re.M):
        words = line.split()
        while words and words[0].startswith("-"):
            words = words[2:] if words[0] in global_with_value else words[1:]
        assert words[0] in known or " ".join(words[:2]) in known, line


def test_readme_is_assembled_from_its_parts() -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_readme.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr


def test_readme_has_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert 'pip install -e ".[test]" && python -m pytest -q' in readme
    assert "pip install -e . && clarifai-archive info sample_data/" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'pip install -q -e ".[test]" && python -m pytest -q' in ci
