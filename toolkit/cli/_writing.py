"""Options and output shared by the commands that write archives: merge, remove, filter, split."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from ..archive import ArchiveReader
from ..errors import ToolkitError
from ._common import check_writes, get_context, json_option, report_option
from ._common import write_report as write_report

F = TypeVar("F", bound=Callable[..., Any])

#: Ids shown in the human report before "... and N more".
SHOWN_IDS = 5


allow_empty_option = click.option(
    "--allow-empty",
    is_flag=True,
    help="Write the output even when it would hold no inputs (else an error, nothing written).",
)


def output_options(
    *, folder: bool = False, merge: bool = False, required: bool = True, empty_option: bool = True
) -> Callable[[F], F]:
    """``-o/--output``, ``--force``, ``--to``, ``--batch-size``, ``--report``, ``--json``
    and ``--allow-empty`` (``required=False``: ``-o`` may be left out, for commands that can
    write elsewhere; ``empty_option=False``: for commands that keep every input or one of
    each group, whose output is empty only when the source is)."""
    what = "archives" if folder else "archive"
    default = "protobuf" if merge else "the source's"
    to_help = f"Flavour of the output {what}: protobuf or json (default: {default})."
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
            required=required,
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
            help=to_help,
        ),
        click.option(
            "--batch-size",
            type=click.IntRange(min=1),
            default=128,
            show_default=True,
            help="Inputs per batch entry in the output.",
        ),
        report_option(),
        json_option("Print the report as one JSON document on stdout."),
    ]
    if empty_option:
        options.append(allow_empty_option)

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def warned(*args: Any, **kwargs: Any) -> Any:
            with unknown_fields_warning():
                return func(*args, **kwargs)

        command: Any = warned
        for option in reversed(options):
            command = option(command)
        return command  # type: ignore[no-any-return]

    return decorate


@contextlib.contextmanager
def unknown_fields_warning() -> Iterator[None]:
    """Warn (stderr, also with -q) when a JSON-flavour output left out fields the schema
    does not know (``--to json``); a protobuf output keeps them and counts nothing."""
    from ..unknown import collecting_unknown_fields, describe_unknown_fields

    with collecting_unknown_fields() as tally:
        yield
    found = tally.result()
    if found.inputs:
        click.echo(f"Warning: {describe_unknown_fields(found)}", err=True)


def check_output(
    output: Path, sources: Sequence[Path], *, force: bool, report_path: Path | None = None
) -> None:
    """Refuse an output or report that is a source (always) or exists (unless ``force``)."""
    check_writes({"-o": output, "--report": report_path}, sources, force=force)


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
