"""Options and output shared by the commands that write archives: merge, remove, filter, split."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from .._atomic import atomic_file
from ..archive import ArchiveReader
from ..errors import OutputError, ToolkitError
from ._common import get_context

F = TypeVar("F", bound=Callable[..., Any])

#: Ids shown in the human report before "... and N more".
SHOWN_IDS = 5


allow_empty_option = click.option(
    "--allow-empty",
    is_flag=True,
    help="Write the output even when it would hold no inputs (else an error, nothing written).",
)


def output_options(*, folder: bool = False) -> Callable[[F], F]:
    """``-o/--output``, ``--force``, ``--to``, ``--batch-size``, ``--report`` and
    ``--allow-empty``."""
    if folder:
        output = click.option(
            "-o",
            "--output",
            "output",
            required=True,
            type=click.Path(file_okay=False, path_type=Path),
            help="Folder for the split archives, <split>.zip each (created if needed).",
        )
    else:
        output = click.option(
            "-o",
            "--output",
            "output",
            required=True,
            type=click.Path(dir_okay=False, path_type=Path),
            help="Archive to write (written under a temporary name, moved into place at the end).",
        )
    options = [
        output,
        click.option(
            "--force", is_flag=True, help="Replace existing output files (never a source)."
        ),
        click.option(
            "--to",
            "flavour",
            type=click.Choice(["protobuf", "json"]),
            default=None,
            help="Flavour of the output (default: protobuf for merge, else the source's).",
        ),
        click.option(
            "--batch-size",
            type=click.IntRange(min=1),
            default=128,
            show_default=True,
            help="Inputs per batch entry in the output.",
        ),
        click.option(
            "--report",
            "report_path",
            type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
            help="Also write the report as JSON to this file ('-' for stdout).",
        ),
        allow_empty_option,
    ]

    def decorate(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def check_output(output: Path, sources: Sequence[Path], *, force: bool) -> None:
    """Refuse an output that is a source (always) or exists (unless ``force``)."""
    for source in sources:
        same = False
        with contextlib.suppress(OSError):
            same = output.exists() and os.path.samefile(output, source)
        if same or (not output.exists() and output.resolve() == source.resolve()):
            raise OutputError(
                f"{output}: this is the source {source}; sources are never modified, so "
                "write the result to a new file"
            )
    if output.exists() and not force:
        raise OutputError(f"{output}: exists; pass --force to replace it")


def note(message: str) -> None:
    """A line on stderr, hidden by ``-q``."""
    if not get_context().quiet:
        click.echo(message, err=True)


def declared_inputs(paths: Iterable[Path]) -> int | None:
    """Inputs the archives announce in their entry names (None when one does not)."""
    total = 0
    limits = get_context().limits
    try:
        for path in paths:
            with ArchiveReader(path, limits=limits, allow_empty=True) as reader:
                count = reader.declared_count
            if count is None:
                return None
            total += count
    except ToolkitError:
        return None  # the operation itself reports it
    return total


@contextlib.contextmanager
def progress_callback(length: int | None, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr (hidden by ``-q`` or a non-terminal), as a callback."""
    hidden = get_context().quiet or not sys.stderr.isatty()
    if hidden or not length:
        yield None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar.update


def write_report(path: Path | None, report: dict[str, Any]) -> None:
    """The JSON report to ``path`` (atomically), or to stdout for ``-``."""
    if path is None:
        return
    text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if str(path) == "-":
        click.echo(text, nl=False)
        return
    try:
        with atomic_file(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the report ({exc.strerror or exc})") from None


def shown(ids: Sequence[str]) -> str:
    """A few ids, then how many more."""
    head = ", ".join(ids[:SHOWN_IDS])
    if len(ids) > SHOWN_IDS:
        head += f", ... and {len(ids) - SHOWN_IDS} more"
    return head


def read_ids_from(stream: Any) -> list[str]:
    """Ids from an ``--ids-from`` file (one per line, ``#`` comments and blanks skipped)."""
    from ..subset import read_ids_file

    return read_ids_file(stream)
