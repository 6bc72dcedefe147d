"""Shared pieces of the command line: context, archive arguments, progress, output."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from ..archive import ArchiveReader
from ..limits import DEFAULT_LIMITS, Limits

T = TypeVar("T")


@dataclass
class CliContext:
    """Options of the top-level group, handed to every command."""

    home: Path | None = None
    quiet: bool = False
    limits: Limits = field(default_factory=lambda: DEFAULT_LIMITS)


def get_context() -> CliContext:
    """The current command's :class:`CliContext` (a default one outside the group)."""
    ctx = click.get_current_context()
    obj = ctx.find_object(CliContext)
    if obj is None:
        obj = ctx.ensure_object(CliContext)
    return obj


class ArchiveRef(click.ParamType):
    """An archive path (later also a catalog reference ``DATASET[@VERSION]``)."""

    name = "ARCHIVE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        return str(value)


ARCHIVE = ArchiveRef()


def resolve_archive(ref: str) -> Path:
    """The file an ARCHIVE argument names; a usage error (exit 2) when there is none."""
    path = Path(ref)
    if path.exists():
        return path
    raise click.BadParameter(f"{ref!r}: no such file", param_hint="ARCHIVE")


def open_reader(ref: str, *, allow_empty: bool = False) -> ArchiveReader:
    """Open the archive an ARCHIVE argument names, with the session's limits."""
    return ArchiveReader(resolve_archive(ref), limits=get_context().limits, allow_empty=allow_empty)


def progress(items: Iterable[T], *, label: str, length: int | None = None) -> Iterator[T]:
    """Wrap an iterable in a progress bar on stderr, hidden by ``--quiet`` or a non-terminal."""
    hidden = get_context().quiet or not sys.stderr.isatty()
    with click.progressbar(
        items, length=length, label=label, file=sys.stderr, hidden=hidden
    ) as bar:
        yield from bar


def echo_json(value: Any) -> None:
    """Print one JSON document on stdout."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def echo_jsonl(value: Any) -> None:
    """Print one compact JSON line on stdout."""
    click.echo(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
