"""Shared pieces of the command line: context, archive arguments, progress, output."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..archive import ArchiveReader
from ..limits import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from ..catalog import Catalog, CatalogRef

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class FiniteFloat(click.FloatRange):
    """A float option that refuses NaN and infinities (``float("nan")`` parses, and
    compares false with everything: ``--min-score nan`` would keep every hit)."""

    name = "finite float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


#: A finite float, any value.
FINITE = FiniteFloat()
#: The largest search setting accepted (--nprobe, --rerank, --ef-search): FAISS takes
#: them as C integers, and larger values search nothing more.
MAX_SEARCH_SETTING = 2**31 - 1


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


# click 8.5 made ParamType generic (ParamType[str, Any]); earlier releases cannot subscript it.
class ArchiveRef(click.ParamType):  # type: ignore[type-arg, unused-ignore]
    """An archive path, or a catalog reference ``DATASET[@VERSION]``."""

    name = "ARCHIVE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        return str(value)


ARCHIVE = ArchiveRef()


def open_catalog() -> Catalog:
    """The catalog at ``--home`` (else $CLARIFAI_ARCHIVE_HOME, else the per-user folder).

    It is closed when the command ends.
    """
    from ..catalog import Catalog

    ctx = click.get_current_context()
    catalog = ctx.meta.get("toolkit.catalog")
    if catalog is None:
        obj = get_context()
        catalog = ctx.meta["toolkit.catalog"] = Catalog(obj.home, limits=obj.limits)
        ctx.call_on_close(catalog.close)
    assert isinstance(catalog, Catalog)
    return catalog


def catalog_ref(ref: str, *, param_hint: str = "ARCHIVE") -> CatalogRef | None:
    """None when ``ref`` is an existing file; else the catalog version it names.

    A file path always wins over a catalog name. A ref that is neither an existing
    file nor a version in the catalog is a usage error (exit 2) naming both.
    """
    if Path(ref).exists():
        return None  # before the catalog's imports: a command on a file does without them
    from ..catalog import parse_ref
    from ..errors import CatalogError, NotInCatalogError

    catalog = open_catalog()
    try:
        parsed = parse_ref(ref)
    except CatalogError:
        raise click.BadParameter(
            f"{ref!r}: no such file, and not a catalog reference DATASET[@VERSION]",
            param_hint=param_hint,
        ) from None
    try:
        catalog.version(parsed)
    except NotInCatalogError as exc:
        raise click.BadParameter(
            f"{ref!r}: no such file, and {exc}",
            param_hint=param_hint,
        ) from None
    return parsed


def resolve_archive(ref: str) -> Path:
    """The file an ARCHIVE argument names: a path, or a catalog reference ``DATASET[@VERSION]``
    (the latest version when none is given). A usage error (exit 2) when it is neither; an
    ``Error:`` naming the file when the catalog's archive is missing."""
    parsed = catalog_ref(ref)
    if parsed is None:
        return Path(ref)
    return open_catalog().resolve(parsed)


def open_reader(ref: str, *, allow_empty: bool = True) -> ArchiveReader:
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


def json_option(help_text: str = "Print the result as JSON.") -> Callable[[F], F]:
    """``--json``: every command that prints a result takes it (a list: JSON Lines)."""
    return click.option("--json", "as_json", is_flag=True, help=help_text)


def report_option(
    help_text: str = "Also write a JSON report of what was done to this file ('-' for stdout).",
) -> Callable[[F], F]:
    """``--report FILE``: every command that writes files takes it."""
    return click.option(
        "--report",
        "report_path",
        type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
        help=help_text,
    )


def force_option(
    help_text: str = "Replace existing output files (never a source).",
) -> Callable[[F], F]:
    """``--force``: every command that writes files refuses an existing one without it."""
    return click.option("--force", is_flag=True, help=help_text)


def check_writes(
    outputs: Mapping[str, Path | None],
    sources: Iterable[Path | None],
    *,
    force: bool,
    existing_ok: Collection[str] = (),
) -> None:
    """Refuse, before any work, outputs that are (or hold, or lie in) a source, that
    collide, or that exist without ``--force`` (see :func:`toolkit._outputs.check_outputs`)."""
    from .._outputs import check_outputs

    check_outputs(outputs, sources, force=force, existing_ok=existing_ok)


def write_report(path: Path | None, report: Mapping[str, Any]) -> None:
    """The JSON report to ``path`` (atomically), or to stdout for ``-``."""
    from .._atomic import atomic_file
    from ..errors import OutputError

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


def workers_option(what: str) -> Callable[[F], F]:
    """``--workers N``: processes that read the archive's batches (see toolkit.batches)."""
    return click.option(
        "--workers",
        type=click.IntRange(1, 64),
        default=None,
        help=f"Processes that {what} (default: one per CPU, up to 8, for archives of "
        "32 MiB of batches or more; else 1).",
    )
