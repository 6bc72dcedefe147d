"""``clarifai-archive dedupe``: one input per group of near-duplicates."""

from __future__ import annotations

from pathlib import Path

import click

from ..dedupe import KEEP_RULES, dedupe_archive
from ._common import ARCHIVE, get_context, resolve_archive
from ._rewrite import check_output, declared_inputs, note, output_options, progress_callback
from ._rewrite import write_report as _write_report


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
@output_options()
def dedupe(
    archive: str,
    threshold: float | None,
    keep: str,
    index_dir: Path | None,
    output: Path,
    force: bool,
    flavour: str | None,
    batch_size: int,
    report_path: Path | None,
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
    """
    path = resolve_archive(archive)
    check_output(output, [path], force=force)
    total = declared_inputs([path])
    with progress_callback(2 * total if total else None, "Deduplicating") as progress:
        report = dedupe_archive(
            path,
            output,
            threshold=threshold,
            keep=keep,  # type: ignore[arg-type]
            index=index_dir,
            flavour=flavour,  # type: ignore[arg-type]
            batch_size=batch_size,
            limits=get_context().limits,
            progress=progress,
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
