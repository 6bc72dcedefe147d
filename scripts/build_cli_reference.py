"""Write docs/cli-reference.md from the click commands (their help, usage and options).

Usage: python scripts/build_cli_reference.py [--check]
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "cli-reference.md"
PROGRAM = "clarifai-archive"

HEADER = f"""\
# CLI reference

Every `{PROGRAM}` command, its usage, help and options, as `{PROGRAM} COMMAND --help` prints
them. This page is generated from the click commands by `python scripts/build_cli_reference.py`
(`tests/test_docs.py` fails when it is stale); edit the commands' help, not this page.
Conventions common to every command: [Command-line conventions](conventions.md).
"""

# Markdown characters that would change the meaning of help prose.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def _escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def _anchor(path: str) -> str:
    """The id MkDocs gives the heading ``path`` (its toc slugify)."""
    return re.sub(r"[^\w\s-]", "", path).strip().lower().replace(" ", "-")


def _walk(
    command: click.Command, ctx: click.Context
) -> Iterator[tuple[click.Command, click.Context]]:
    yield command, ctx
    if isinstance(command, click.Group):
        for name in sorted(command.list_commands(ctx)):
            sub = command.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            yield from _walk(sub, click.Context(sub, info_name=name, parent=ctx))


def _help_markdown(help_text: str) -> list[str]:
    """Help prose as Markdown: paragraphs joined, click's ``\\b`` blocks kept verbatim."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", inspect.cleandoc(help_text).strip()):
        lines = block.splitlines()
        if lines[0].strip() == "\b":
            lines = lines[1:]
            if lines and lines[0].rstrip().endswith(":") and not lines[0].startswith(" "):
                out += [_escape(lines[0].strip()), ""]
                lines = lines[1:]
            body = inspect.cleandoc("\n".join(lines)) if lines else ""
            out += ["```text", body, "```", ""]
        else:
            out += [_escape(" ".join(line.strip() for line in lines)), ""]
    return out


def _option_rows(command: click.Command, ctx: click.Context) -> list[str]:
    rows = []
    for param in command.get_params(ctx):
        if not isinstance(param, click.Option):
            continue  # arguments are in the usage line
        record = param.get_help_record(ctx)
        if record is None:
            continue
        names, help_text = record
        names = names.replace("`", "'")
        help_md = _escape(" ".join(help_text.split()))
        rows.append(f"| `{names}` | {help_md} |")
    return rows


def _section(command: click.Command, ctx: click.Context) -> list[str]:
    path = ctx.command_path
    out = [f"## {path}", ""]
    out += _help_markdown(command.help or "")
    usage = " ".join([path, *command.collect_usage_pieces(ctx)])
    out += ["```text", f"Usage: {usage}", "```", ""]
    if isinstance(command, click.Group):
        out += ["| command | what it does |", "| --- | --- |"]
        for name in sorted(command.list_commands(ctx)):
            sub = command.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            link = f"[`{name}`](#{_anchor(f'{path} {name}')})"
            out.append(f"| {link} | {_escape(sub.get_short_help_str(limit=300))} |")
        out.append("")
    rows = _option_rows(command, ctx)
    if rows:
        out += ["| option | description |", "| --- | --- |", *rows, ""]
    return out


def build(root: click.Command | None = None) -> str:
    """The reference page's text."""
    if root is None:
        from toolkit.cli import cli

        root = cli
    lines = [HEADER]
    with click.Context(root, info_name=PROGRAM) as ctx:
        for command, sub_ctx in _walk(root, ctx):
            lines += _section(command, sub_ctx)
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="Fail when the page is stale.")
    args = parser.parse_args()
    text = build()
    if args.check:
        if not OUTPUT.is_file() or OUTPUT.read_text(encoding="utf-8") != text:
            stale = OUTPUT.relative_to(ROOT)
            sys.exit(f"{stale} is stale: run python scripts/build_cli_reference.py")
        return
    OUTPUT.write_text(text, encoding="utf-8")
    print(OUTPUT.relative_to(ROOT))


if __name__ == "__main__":
    main()
