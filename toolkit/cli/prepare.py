"""``clarifai-archive dedupe``, and writing a result as a new catalog version
(``--new-version``, shared with ``relabel``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..dedupe import KEEP_RULES, dedupe_archive
from ._common import ARCHIVE, catalog_ref, echo_json, get_context, open_catalog, resolve_archive
from ._writing import check_output, declared_inputs, note, output_options, progress_callback
from ._writing import write_report as _write_report

F = TypeVar("F", bound=Callable[..., Any])


def new_version_option() -> Callable[[F], F]:
    """``--new-version [VID]``: write the result into the catalog instead of ``-o``."""
    return click.option(
        "--new-version",
        "new_version",
        is_flag=False,
        flag_value="",
        default=None,
        metavar="[VID]",
        help="ARCHIVE is a catalog reference: add the result as a new version of its dataset "
        "(id VID, else derived: v1-relabel1) instead of writing -o.",
    )


def write_result(
    archive: str,
    output: Path | None,
    *,
    force: bool,
    new_version: str | None,
    report_path: Path | None,
    tag: str,
    make: Callable[[Path, Path], Any],
) -> Any:
    """Run ``make(source, output)`` into ``-o OUT``, or into a new catalog version."""
    if new_version is not None:
        if output is not None:
            raise click.UsageError("give -o OUT or --new-version, not both")
        ref = catalog_ref(archive)
        if ref is None:
            raise click.UsageError(
                f"--new-version needs a catalog reference DATASET[@VERSION]; {archive} is a file"
            )
        made = open_catalog().derive(
            ref,
            make,
            tag=tag,
            origin=tag,  # type: ignore[arg-type]
            version=new_version or None,
        )
        assert made.parent is not None  # derive always has a parent
        note(
            f"Created version {made.version.ref} from {made.parent.ref}: "
            f"{made.version.inputs_count} inputs."
        )
        return made.report
    if output is None:
        raise click.UsageError("give -o OUT (or --new-version when ARCHIVE is a catalog reference)")
    path = resolve_archive(archive)
    check_output(output, [path], force=force, report_path=report_path)
    return make(path, output)


@click.command()
@click.argument("archive", type=ARCHIVE)
@click.option(
    "--threshold",
    type=float,
    help="Least score of a near-duplicate pair (default 0.95 cosine; needed for an index "
    "built with --metric ip or l2).",
)
@click.option(
    "--keep",
    type=click.Choice(KEEP_RULES),
    default="first",
    show_default=True,
    help="Which input of a group stays: the first in the archive, the largest image, or "
    "the one with the most labels (ties: the first).",
)
@click.option(
    "--index",
    "index_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Find the pairs with this index (default: an exact one built in memory from the "
    "archive's embeddings).",
)
@new_version_option()
@output_options(required=False, empty_option=False)
def dedupe(
    archive: str,
    threshold: float | None,
    keep: str,
    index_dir: Path | None,
    new_version: str | None,
    output: Path | None,
    force: bool,
    flavour: str | None,
    batch_size: int,
    report_path: Path | None,
    as_json: bool,
) -> None:
    """Write ARCHIVE with one input per group of near-duplicates.

    Pairs whose embeddings score at least the threshold are joined (A~B and B~C make
    one group); each group keeps one input, chosen by --keep. Inputs without an
    embedding are kept. The groups go to the report (--report).

    \b
    Example:
        clarifai-archive dedupe export.zip -o unique.zip
        clarifai-archive dedupe export.zip -o unique.zip --threshold 0.9 --keep most-labels \\
            --report groups.json
        clarifai-archive dedupe birds@v1 --new-version
    """

    def make(source: Path, out: Path) -> Any:
        total = declared_inputs([source])
        with progress_callback(2 * total if total else None, "Deduplicating") as progress:
            return dedupe_archive(
                source,
                out,
                threshold=threshold,
                keep=keep,  # type: ignore[arg-type]
                index=index_dir,
                flavour=flavour,  # type: ignore[arg-type]
                batch_size=batch_size,
                limits=get_context().limits,
                progress=progress,
            )

    report = write_result(
        archive,
        output,
        force=force,
        new_version=new_version,
        report_path=report_path,
        tag="dedupe",
        make=make,
    )
    note(
        f"Kept {report.inputs_written} of {report.inputs_read} inputs: {len(report.groups)} "
        f"groups of near-duplicates (threshold {report.threshold:g}, keep {report.keep}); "
        f"wrote {report.output}."
    )
    for number, group in enumerate(report.groups[:10], start=1):
        note(f"  group {number}: kept {group.kept}, removed {' '.join(group.removed)}")
    if len(report.groups) > 10:
        note(f"  ... and {len(report.groups) - 10} more groups (see --report)")
    if report.inputs_without_embedding:
        note(f"  inputs without embedding (kept, not compared): {report.inputs_without_embedding}")
    _write_report(report_path, report.to_dict())
    if as_json:
        echo_json(report.to_dict())
