"""The ``clarifai-archive`` command line: a thin layer over the library."""

from __future__ import annotations

import errno
import gc
import importlib
import os
import signal
import sys
from pathlib import Path
from typing import Any

import click

from .._atomic import remove_leftovers
from ..errors import ToolkitError, one_line
from ..jsonmap import is_out_of_memory
from ..limits import Limits
from ..safety import redact
from ._common import CliContext
from ._flags import in_flags

__all__ = ["cli", "main"]

_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


class _Failure(click.ClickException):
    """An ``Error: ...`` line with its own exit code."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        # One line, whatever a path or id in the message holds (a newline, a CR).
        super().__init__(one_line(message))
        # click declares exit_code a ClassVar; this instance's own value overrides it.
        self.exit_code = exit_code  # type: ignore[misc]


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread when a signal (SIGTERM, SIGHUP) ends the run."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class ToolkitGroup(click.Group):
    """A group that turns expected failures into one ``Error: ...`` line and exit 1.

    Interrupts (Ctrl-C, SIGTERM) exit 128 + the signal number, after every output
    under way has been removed (outputs are written under temporary names). Messages
    never show the Clarifai key.
    """

    def invoke(self, ctx: click.Context) -> Any:
        failed = True
        try:
            result = super().invoke(ctx)
            failed = False
            return result
        except click.exceptions.Exit as exc:
            failed = exc.exit_code != 0
            raise
        except ToolkitError as exc:
            raise _Failure(redact(in_flags(exc))) from None
        except KeyboardInterrupt as exc:
            signum = getattr(exc, "signum", signal.SIGINT)
            name = signal.Signals(signum).name
            raise _Failure(
                f"interrupted ({name}); no partial output was kept", 128 + signum
            ) from None
        except BrokenPipeError:
            _silence_broken_pipe()
            ctx.exit(1)
        except MemoryError:
            raise _Failure(_out_of_memory(ctx)) from None
        except OSError as exc:
            raise _Failure(redact(_describe_os_error(exc))) from None
        except RecursionError:
            raise _Failure(
                "the input is nested too deeply to handle; lower --max-metadata-depth so "
                "that such archives are refused up front"
            ) from None
        except TypeError as exc:
            # orjson reports "Not enough memory" as a JSONEncodeError (a TypeError);
            # any other TypeError is a bug, and shows as one.
            if is_out_of_memory(exc):
                raise _Failure(_out_of_memory(ctx)) from None
            raise
        finally:
            # Temporary outputs a failed run could not remove itself (an interrupt landing
            # between a file's creation and the code that owns it) go now.
            remove_leftovers(failed=failed)


#: Commands whose memory depends on search settings, not on the archive's batches.
_SEARCHING = frozenset({"search", "sort", "duplicates", "index"})


def _out_of_memory(ctx: click.Context) -> str:
    """The advice for a MemoryError, by the command that ran out."""
    if ctx.invoked_subcommand in _SEARCHING:
        return (
            "out of memory while searching; lower -k, --nprobe, --rerank or --ef-search "
            "(or the index's search settings), search fewer queries at once, or run on a "
            "machine with more memory; no partial output was kept"
        )
    return (
        "out of memory; lower --max-batch-bytes or --max-batch-objects so that such "
        "archives are refused up front, or run on a machine with more memory; no "
        "partial output was kept"
    )


def _describe_os_error(exc: OSError) -> str:
    """One line for an operating-system failure the library did not foresee."""
    where = f"{exc.filename}: " if exc.filename else ""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno in _DISK_FULL:
        return (
            f"{where}{reason}: the disk is full; free some space (or write elsewhere) and "
            "run again; no partial output was kept"
        )
    if exc.errno == errno.EFBIG:
        return (
            f"{where}{reason}: the file grew past what this file system (or a file size "
            "limit) allows; write elsewhere; no partial output was kept"
        )
    return f"{where}{reason}"


def _silence_broken_pipe() -> None:
    """After ``| head`` closed stdout, stop Python from complaining on exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


_signals_seen = 0


def _raise_interrupt(signum: int, frame: Any) -> None:
    """Turn a signal into :class:`Interrupted`; a second one lets the clean-up finish,
    a third ends the process at once."""
    global _signals_seen
    _signals_seen += 1
    if _signals_seen == 1:
        raise Interrupted(signum)
    if _signals_seen == 2:
        os.write(2, b"still cleaning up; send the signal again to quit at once\n")
        return
    os._exit(128 + signum)


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
    help="Highest compression ratio of an entry or of the whole archive (zip-bomb guard).",
)
@click.option(
    "--max-entries",
    type=click.IntRange(min=1),
    default=Limits.max_entries,
    show_default=True,
    help="Most zip entries accepted.",
)
@click.option(
    "--max-batch-objects",
    type=click.IntRange(min=1),
    default=Limits.max_batch_objects,
    show_default=True,
    help="Most objects (fields, list items) in one parsed batch: bounds its memory.",
)
@click.option(
    "--max-image-pixels",
    type=click.IntRange(min=1),
    default=Limits.max_image_pixels,
    show_default=True,
    help="Most pixels of an image that is decoded (decompression-bomb guard).",
)
@click.option(
    "--max-metadata-depth",
    type=click.IntRange(min=1),
    default=Limits.max_metadata_depth,
    show_default=True,
    help="Deepest nesting of an input's metadata.",
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
    max_batch_objects: int,
    max_image_pixels: int,
    max_metadata_depth: int,
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
        max_batch_objects=max_batch_objects,
        max_image_pixels=max_image_pixels,
        max_metadata_depth=max_metadata_depth,
    )
    ctx.obj = CliContext(home=home, quiet=quiet, limits=limits)


#: Command name -> (module of toolkit.cli, attribute): each module is imported when its
#: command runs (or when help lists them all), so that a command starts without loading
#: every other's dependencies (about a quarter of a second).
_COMMANDS = {
    "info": ("info", "info"),
    "inputs": ("inputs", "inputs"),
    "datasets": ("catalog", "datasets"),
    "versions": ("catalog", "versions"),
    "filters": ("filters", "filters"),
    "merge": ("merge", "merge"),
    "remove": ("subset", "remove"),
    "filter": ("subset", "filter_command"),
    "split": ("split", "split"),
    "convert": ("convert", "convert"),
    "index": ("index", "index_group"),
    "search": ("search", "search_command"),
    "sort": ("search", "sort_command"),
    "duplicates": ("search", "duplicates_command"),
    "relabel": ("relabel", "relabel"),
    "dedupe": ("prepare", "dedupe"),
    "serve": ("serve", "serve"),
}


class _Commands(dict):  # type: ignore[type-arg]
    """``cli.commands``: the commands of :data:`_COMMANDS` load on first use; looking at
    all of them (help, tests) loads them all, in the table's order."""

    def _load(self, name: object) -> None:
        if isinstance(name, str) and name in _COMMANDS and not dict.__contains__(self, name):
            module, attr = _COMMANDS[name]
            command = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
            dict.__setitem__(self, name, command)

    def _load_all(self) -> None:
        for name in _COMMANDS:
            self._load(name)

    def get(self, name: Any, default: Any = None) -> Any:
        self._load(name)
        return dict.get(self, name, default)

    def __getitem__(self, name: Any) -> Any:
        self._load(name)
        return dict.__getitem__(self, name)

    def __contains__(self, name: object) -> bool:
        return name in _COMMANDS or dict.__contains__(self, name)

    def __iter__(self) -> Any:
        self._load_all()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._load_all()
        return dict.__len__(self)

    def keys(self) -> Any:
        self._load_all()
        return dict.keys(self)

    def values(self) -> Any:
        self._load_all()
        return dict.values(self)

    def items(self) -> Any:
        self._load_all()
        return dict.items(self)

    def pop(self, name: Any, *default: Any) -> Any:
        self._load(name)
        return dict.pop(self, name, *default)


def _register() -> None:
    cli.commands = _Commands(cli.commands)
    # Further command modules may register here: one import and one add_command each.


_register()


def main() -> None:
    """Entry point: SIGINT, SIGTERM and SIGHUP end a run cleanly (outputs removed)."""
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None:
            signal.signal(signum, _raise_interrupt)
    # What is loaded by now (the modules) lives until the process ends: the collector
    # need not walk it again, during the command or at exit (23 ms at exit after a
    # conversion to Parquet).
    gc.freeze()
    try:
        cli(prog_name="clarifai-archive")
    except SystemExit as exc:
        code = exc.code
    else:  # pragma: no cover - click always exits through SystemExit
        code = 0
    # What a failed or interrupted command still held (open archives in its exception's
    # frames) is finalized now, while every module is loaded: left to interpreter exit,
    # Python 3.13's zipfile prints "Exception ignored" tracebacks.
    gc.collect()
    gc.freeze()  # what is left is live: interpreter exit need not walk it again
    sys.exit(code)
