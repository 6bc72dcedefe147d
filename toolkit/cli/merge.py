"""``clarifai-archive merge``."""

from __future__ import annotations

from pathlib import Path

import click

from ..merge import CONFLICT_POLICIES, MergeReport, merge_archives
from ._common import ARCHIVE, echo_json, get_context, resolve_archive
from ._writing import (
    check_output,
    declared_inputs,
    note,
    output_options,
    progress_callback,
    shown,
    write_report,
)


@click.command()
@click.argument("archives", nargs=-1, required=True, type=ARCHIVE)
@click.option(
    "--on-conflict",
    type=click.Choice(CONFLICT_POLICIES),
    default="error",
    show_default=True,
    help="What to do with an id that holds different inputs: error (write nothing), skip "
    "(keep the first), overwrite (keep the last), rename (keep both, the later as <id>~2).",
)
@click.option(
    "--merge-annotations",
    is_flag=True,
    help="For an id whose media are the same, keep one input with the union of the "
    "concepts and regions.",
)
@output_options(merge=True)
def merge(
    archives: tuple[str, ...],
    on_conflict: str,
    merge_annotations: bool,
    output: Path,
    force: bool,
    flavour: str | None,
    batch_size: int,
    report_path: Path | None,
    as_json: bool,
    allow_empty: bool,
) -> None:
    """Merge ARCHIVES into one, in order; the sources are never modified.

    An input id seen again with the same content is kept once. With different content
    it is a conflict, resolved by --on-conflict. Every kept input stays where it was
    found (overwrite keeps the last one in its place). The report goes to stderr, and as
    JSON to --report FILE.

    \b
    Example:
        clarifai-archive merge a.zip b.zip -o merged.zip
        clarifai-archive merge v1.zip v2.zip -o all.zip --on-conflict overwrite --report r.json
        clarifai-archive merge a.zip b.zip -o all.zip --merge-annotations --on-conflict rename
    """
    paths = [resolve_archive(ref) for ref in archives]
    check_output(output, paths, force=force, report_path=report_path)
    with progress_callback(declared_inputs(paths), "Merging") as progress:
        report = merge_archives(
            paths,
            output,
            on_conflict=on_conflict,  # type: ignore[arg-type]
            merge_annotations=merge_annotations,
            allow_empty=allow_empty,
            flavour=flavour or "protobuf",  # type: ignore[arg-type]
            batch_size=batch_size,
            limits=get_context().limits,
            progress=progress,
        )
    _print_report(report)
    write_report(report_path, report.to_dict())
    if as_json:
        echo_json(report.to_dict())


def _print_report(report: MergeReport) -> None:
    n = len(report.sources)
    note(
        f"Merged {n} archive{'s' if n != 1 else ''} ({report.inputs_read} inputs) into "
        f"{report.output}: {report.added} inputs."
    )
    for source in report.sources:
        note(f"  {source.path}: {source.inputs} inputs")
    rows = [
        ("identical (kept once)", [a.id for a in report.identical]),
        ("skipped", [a.id for a in report.skipped]),
        ("overwritten", [a.id for a in report.overwritten]),
        ("renamed", [f"{r.id} -> {r.new_id}" for r in report.renamed]),
        ("annotations merged", [a.id for a in report.annotations_merged]),
    ]
    for label, ids in rows:
        line = f"  {label + ':':<22} {len(ids)}"
        if ids:
            line += f"  ({shown(ids)})"
        note(line)
