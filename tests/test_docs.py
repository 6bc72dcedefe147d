"""Every command documents itself; the README, the docs pages and the CLI reference are current."""

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


DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


@pytest.mark.parametrize("page", DOC_FILES, ids=[str(p.relative_to(ROOT)) for p in DOC_FILES])
def test_documented_commands_exist(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    known = {" ".join(p) for p, _ in COMMANDS}
    global_with_value = {
        opt
        for param in cli.params
        if isinstance(param, click.Option) and not param.is_flag
        for opt in param.opts
    }
    for line in re.findall(r"^\$ clarifai-archive (.+)$", text, flags=re.M):
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


def test_readme_is_at_most_300_lines() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 300, "the README is short: move the detail to a page under docs/"


def test_cli_reference_is_current() -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_cli_reference.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr


def test_cli_reference_has_every_command_and_option() -> None:
    reference = (ROOT / "docs" / "cli-reference.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^## (clarifai-archive.*)$", reference, flags=re.M))
    expected = {"clarifai-archive " + " ".join(p) for p, _ in COMMANDS}
    assert headings == {"clarifai-archive", *expected}
    for path, command in COMMANDS:
        section = reference.split(f"\n## clarifai-archive {' '.join(path)}\n")[1].split("\n## ")[0]
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert f"`{param.opts[0]}" in section or f", {param.opts[0]}" in section, (
                    path,
                    param.opts[0],
                )


def _nav_pages(items: list) -> list[str]:
    pages: list[str] = []
    for item in items:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        pages += _nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_every_docs_page_is_in_the_site_nav() -> None:
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    nav = _nav_pages(config["nav"])
    excluded = set(config.get("exclude_docs", "").split())
    pages = {str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md")}
    # index.md (README.md), SECURITY.md and CHANGELOG.md are added by scripts/mkdocs_hooks.py.
    generated = {"index.md", "SECURITY.md", "CHANGELOG.md"}
    assert sorted(pages - excluded) == sorted(set(nav) - generated)
    assert excluded == {"readme/00-head.md", "readme/99-tail.md"}
    assert len(nav) == len(set(nav))


def _hooks():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "mkdocs_hooks", ROOT / "scripts" / "mkdocs_hooks.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_site_guide_pages_get_one_title() -> None:
    hooks = _hooks()
    page = "## Title `x`\n\ntext\n\n```sh\n# a comment\n## not a heading\n```\n\n### Part\n"
    assert hooks.promote_headings(page) == (
        "# Title `x`\n\ntext\n\n```sh\n# a comment\n## not a heading\n```\n\n## Part\n"
    )
    titled = "# Title\n\n## Part\n"
    assert hooks.promote_headings(titled) == titled


def test_site_home_is_the_readme_with_links_into_docs() -> None:
    hooks = _hooks()
    text = "[a](docs/readme/convert.md), [b](docs/cli-reference.md#x), [c](SECURITY.md)"
    assert hooks.readme_as_home(text) == (
        "[a](readme/convert.md), [b](cli-reference.md#x), [c](SECURITY.md)"
    )
