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
    for line in re.findall(r"^\$ clarifai-archive (.+)$", readme, flags=re.M):
        words = [w for w in line.split() if not w.startswith("-")]
        assert words[0] in known or " ".join(words[:2]) in known, line
