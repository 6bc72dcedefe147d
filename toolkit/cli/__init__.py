"""The ``clarifai-archive`` command line: a thin layer over the library."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import ToolkitError
from ..limits import Limits
from ._common import CliContext

__all__ = ["cli", "main"]


class ToolkitGroup(click.Group):
    """A group that turns expected failures into one ``Error: ...`` line and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ToolkitError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            raise click.ClickException("interrupted; no partial output was kept") from None
        except BrokenPipeError:
            _silence_broken_pipe()
            ctx.exit(1)


def _silence_broken_pipe() -> None:
    """After ``| head`` closed stdout, stop Python from complaining on exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@click.group(cls=ToolkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="clarifai-archive-toolkit")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="CLARIFAI_ARCHIVE_HOME",
    help="Catalog folder (default: $CLARIFAI_ARCHIVE_HOME, else a per-user data folder).",
)
@click.option("-q", "--quiet", is_flag=True, help="Hide progress bars and notes on stderr.")
@click.option(
    "--max-batch-bytes",
    type=click.IntRange(min=1),
    default=Limits.max_batch_bytes,
    show_default=True,
    help="Largest uncompressed batch entry accepted.",
)
@click.option(
    "--max-total-bytes",
    type=click.IntRange(min=1),
    default=Limits.max_total_bytes,
    show_default=True,
    help="Largest uncompressed archive accepted.",
)
@click.option(
    "--max-ratio",
    type=click.FloatRange(min=1),
    default=Limits.max_ratio,
    show_default=True,
    help="Highest compression ratio of one entry (zip-bomb guard).",
)
@click.option(
    "--max-entries",
    type=click.IntRange(min=1),
    default=Limits.max_entries,
    show_default=True,
    help="Most zip entries accepted.",
)
@click.pass_context
def cli(
    ctx: click.Context,
    home: Path | None,
    quiet: bool,
    max_batch_bytes: int,
    max_total_bytes: int,
    max_ratio: float,
    max_entries: int,
) -> None:
    """Work on Clarifai dataset exports (clarifai-data-protobuf.zip) offline.

    \b
    Example:
        clarifai-archive info sample_data/clarifai-data-protobuf.zip
        clarifai-archive inputs list sample_data/clarifai-data-protobuf.zip --json
    """
    limits = Limits(
        max_batch_bytes=max_batch_bytes,
        max_total_bytes=max_total_bytes,
        max_ratio=max_ratio,
        max_entries=max_entries,
    )
    ctx.obj = CliContext(home=home, quiet=quiet, limits=limits)


def _register() -> None:
    from . import info, inputs

    cli.add_command(info.info)
    cli.add_command(inputs.inputs)
    # Command modules register below: one import and one add_command each.


_register()


def main() -> None:
    """Entry point: SIGTERM ends a run like Ctrl-C, so outputs are cleaned up."""
    signal.signal(signal.SIGTERM, _raise_interrupt)
    cli(prog_name="clarifai-archive")
