"""``clarifai-archive remove`` and ``clarifai-archive filter``."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import click

from ..subset import filter_inputs, remove_inputs
from ._common import ARCHIVE, echo_json, get_context, resolve_archive
from ._criteria import criteria_from, criteria_options
from ._writing import (
    check_output,
    declared_inputs,
    note,
    output_options,
    progress_callback,
    read_ids_from,
    shown,
    write_report,
)
from .search import like_options, narrow_by_similarity


@click.command()
@click.argument("archive", type=ARCHIVE)
@click.option("--id", "ids", multiple=True, metavar="ID", help="An input id to remove (repeat).")
@click.option(
    "--ids-from",
    type=click.File("r", encoding="utf-8"),
    help="A file of ids to remove, one a line ('#' comments; '-' for stdin).",
)
@click.option("--strict", is_flag=True, help="Fail, writing nothing, if an id is not found.")
@output_options()
def remove(
    archive: str,
    ids: tuple[str, ...],
    ids_from: IO[str] | None,
    strict: bool,
    output: Path,
    force: bool,
    flavour: str | None,
    batch_size: int,
    report_path: Path | None,
    as_json: bool,
    allow_empty: bool,
) -> None:
    """Write ARCHIVE without the inputs with the given ids.

    Ids not in the archive are reported on stderr (with --strict they are an error and
    nothing is written). The source is never modified.

    \b
    Example:
        clarifai-archive remove export.zip --id img-0003 --id img-0009 -o cleaned.zip
        clarifai-archive remove export.zip --ids-from bad-ids.txt --strict -o cleaned.zip
    """
    wanted = list(ids)
    if ids_from is not None:
        wanted.extend(read_ids_from(ids_from))
    if not wanted:
        raise click.UsageError("give the ids to remove with --id ID or --ids-from FILE")
    path = resolve_archive(archive)
    check_output(output, [path], force=force, report_path=report_path)
    with progress_callback(declared_inputs([path]), "Removing") as progress:
        report = remove_inputs(
            path,
            output,
            wanted,
            strict=strict,
            allow_empty=allow_empty,
            flavour=flavour,  # type: ignore[arg-type]
            batch_size=batch_size,
            limits=get_context().limits,
            progress=progress,
        )
    note(
        f"Removed {report.inputs_removed} of {report.inputs_read} inputs; wrote "
        f"{report.inputs_written} to {report.output}."
    )
    if report.not_found:
        note(f"  not found: {len(report.not_found)}  ({shown(list(report.not_found))})")
    write_report(report_path, report.to_dict())
    if as_json:
        echo_json(report.to_dict())


@click.command("filter")
@click.argument("archive", type=ARCHIVE)
@criteria_options()
@click.option(
    "--limit", type=click.IntRange(min=0), help="Keep at most N inputs (reading stops there)."
)
@like_options()  # --like/--min-score/-k/--index: similarity (helper "index", cli/search.py)
@output_options()
def filter_command(
    archive: str,
    concepts: tuple[str, ...],
    no_concepts: tuple[str, ...],
    metadata: tuple[tuple[str, str], ...],
    types: tuple[str, ...],
    has_embeddings: bool,
    has_regions: bool,
    unlabeled: bool,
    ids_from: IO[str] | None,
    limit: int | None,
    like: tuple[str, ...],
    like_min_score: float | None,
    like_k: int | None,
    like_index: Path | None,
    output: Path,
    force: bool,
    flavour: str | None,
    batch_size: int,
    report_path: Path | None,
    as_json: bool,
    allow_empty: bool,
) -> None:
    """Write the inputs of ARCHIVE that match every option given (the values of one
    option: any of them). With no option, every input. A concept is its id or its name,
    in any case; one the archive does not have is an error, and so is an output with no
    input (unless --allow-empty).

    \b
    Example:
        clarifai-archive filter export.zip -o cats.zip --concept cat --concept kitten
        clarifai-archive filter export.zip -o boxes.zip --has-regions --no-concept person
        clarifai-archive filter export.zip -o train.zip --metadata split=train --type image
        clarifai-archive filter export.zip -o similar.zip --like img-0007 --min-score 0.9
        clarifai-archive filter export.zip -o balls.zip --like img-0007 -k 3 --concept ball

    With --like, the other options choose the candidates before the most similar are
    taken: -k 3 --concept ball keeps the 3 most similar inputs labelled ball.
    """
    criteria = criteria_from(
        concepts=concepts,
        no_concepts=no_concepts,
        metadata=metadata,
        types=types,
        has_embeddings=has_embeddings,
        has_regions=has_regions,
        unlabeled=unlabeled,
        ids_from=ids_from,
        limit=limit,
    )
    # Options that compute an id set (e.g. a similarity search) narrow it here with
    # ``criteria = criteria.with_ids(ids)``.
    path = resolve_archive(archive)
    check_output(output, [path], force=force, report_path=report_path)
    criteria = narrow_by_similarity(criteria, path, like, like_k, like_min_score, like_index)
    with progress_callback(declared_inputs([path]), "Filtering") as progress:
        report = filter_inputs(
            path,
            output,
            criteria=criteria,
            allow_empty=allow_empty,
            flavour=flavour,  # type: ignore[arg-type]
            batch_size=batch_size,
            limits=get_context().limits,
            progress=progress,
        )
    stopped = f" (stopped at --limit {limit})" if report.limit_reached else ""
    note(
        f"Kept {report.inputs_written} of {report.inputs_read} inputs read{stopped}; "
        f"wrote {report.output}."
    )
    write_report(report_path, report.to_dict())
    if as_json:
        echo_json(report.to_dict())
