"""``clarifai-archive inputs ...``: list, get and delete inputs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import click

from ..inputs import list_inputs
from ..jsonmap import iter_input_json
from ..messages import Input
from ..records import input_type, iter_regions, positive_concepts
from ..subset import FilterCriteria
from ..unknown import UnknownFieldTally, describe_unknown_fields
from ._common import ARCHIVE, catalog_ref, get_context, open_catalog, open_reader
from ._writing import allow_empty_option
from .convert import bad_numbers_option


def _write_json(record: Input, *, indent: bool, bad_numbers: str) -> None:
    """One input's JSON and a newline on stdout, written a piece at a time (a long
    escaped string never sits in memory whole)."""
    stream = sys.stdout.buffer
    for piece in iter_input_json(record, indent=indent, bad_numbers=bad_numbers):  # type: ignore[arg-type]
        stream.write(piece)
    stream.write(b"\n")


@click.group()
def inputs() -> None:
    """List, show and delete inputs."""


@inputs.command("list")
@click.argument("archive", type=ARCHIVE)
@click.option(
    "--page", type=click.IntRange(min=1), default=1, show_default=True, help="Page, from 1."
)
@click.option(
    "--per-page", type=click.IntRange(min=1), default=100, show_default=True, help="Inputs a page."
)
@click.option(
    "--concept",
    metavar="ID|NAME",
    help="Only inputs with this positive label (or a region's): a concept id or name, any case.",
)
@click.option(
    "--no-default-filter",
    is_flag=True,
    help="DATASET: list every input, not only those the dataset's default filter keeps.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one input a line (proto names).")
@bad_numbers_option
def list_command(
    archive: str,
    page: int,
    per_page: int,
    concept: str | None,
    no_default_filter: bool,
    as_json: bool,
    bad_numbers: str,
) -> None:
    """List the inputs of ARCHIVE a page at a time, as the Clarifai API pages them.

    For a catalog dataset with a default filter, only the inputs it keeps are listed
    (a note says so), unless --no-default-filter.

    \b
    Example:
        clarifai-archive inputs list clarifai-data-protobuf.zip --per-page 5
        clarifai-archive inputs list clarifai-data-protobuf.zip --concept cat --json
    """
    ref = catalog_ref(archive)
    found = None
    if ref is not None and not no_default_filter:
        found = open_catalog().default_filter(ref)
        if found is not None and not get_context().quiet:
            click.echo(
                f"Note: applying the default filter {found.id!r} of {ref.dataset} "
                "(--no-default-filter lists every input)",
                err=True,
            )
    with open_reader(archive) as reader:
        records_in = reader.iter_inputs()
        if found is not None:
            records_in = _kept(records_in, found.criteria)
        records = list_inputs(
            records_in, page=page, per_page=per_page, concept=concept, source=archive
        )
    if as_json:
        for record in records:
            _write_json(record, indent=False, bad_numbers=bad_numbers)
        _warn_unknown_fields(records)
        return
    if not records:
        return
    width = max(len(r.id) for r in records)
    click.echo(f"{'id':<{width}}  {'type':<7}  {'regions':>7}  concepts")
    for record in records:
        labels = ", ".join(c.name or c.id for c in positive_concepts(record.data))
        regions = sum(1 for _ in iter_regions(record))
        click.echo(f"{record.id:<{width}}  {input_type(record):<7}  {regions:>7}  {labels}")


def _kept(records: Iterator[Input], criteria: FilterCriteria) -> Iterator[Input]:
    """The records ``criteria`` keep, up to its limit."""
    kept = 0
    for record in records:
        if criteria.limit is not None and kept >= criteria.limit:
            return
        if criteria.matches(record):
            kept += 1
            yield record


@inputs.command("get")
@click.argument("archive", type=ARCHIVE)
@click.argument("input_id")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the input as JSON (its only form; accepted as by every command).",
)
@bad_numbers_option
def get_command(archive: str, input_id: str, as_json: bool, bad_numbers: str) -> None:
    """Print one input of ARCHIVE as JSON (proto field names, as Clarifai's REST API).

    ARCHIVE may be a catalog reference DATASET[@VERSION] (the latest version by
    default): the input is then found with the catalog's id index, without a scan.

    \b
    Example:
        clarifai-archive inputs get clarifai-data-protobuf.zip img-0001
        clarifai-archive inputs get birds@v1 img-0001
    """
    ref = catalog_ref(archive)
    if ref is not None:
        record = open_catalog().get_input(ref, input_id)
    else:
        with open_reader(archive) as reader:
            record = reader.get_input(input_id)
    _write_json(record, indent=True, bad_numbers=bad_numbers)
    _warn_unknown_fields([record])


def _warn_unknown_fields(records: list[Input]) -> None:
    """Warn (stderr, also with -q) when JSON left out fields the schema does not know."""
    tally = UnknownFieldTally()
    for record in records:
        tally.add(record)
    found = tally.result()
    if found.inputs:
        click.echo(f"Warning: {describe_unknown_fields(found)}", err=True)


@inputs.command("delete")
@click.argument("dataset", metavar="DATASET[@VERSION]")
@click.option("--id", "ids", multiple=True, metavar="ID", help="An input id to delete (repeat).")
@click.option(
    "--ids-from",
    type=click.File("r", encoding="utf-8"),
    metavar="FILE",
    help="Input ids to delete, one a line ('-' for stdin).",
)
@click.option("--version", "version_id", metavar="VID", help="Id of the new version.")
@click.option("--description", default="", help="Description of the new version.")
@click.option("--strict", is_flag=True, help="Fail when an id is not in the version.")
@allow_empty_option
@click.option("--json", "as_json", is_flag=True, help="Print the new version as JSON.")
def delete_command(
    dataset: str,
    ids: tuple[str, ...],
    ids_from: IO[str] | None,
    version_id: str | None,
    description: str,
    strict: bool,
    allow_empty: bool,
    as_json: bool,
) -> None:
    """Delete inputs from a catalog dataset: the result is a new version (its id is printed).

    The dataset's latest version (or DATASET@VERSION) is left as it was: versions are
    immutable, as on Clarifai. To remove inputs from a plain archive file, use
    'clarifai-archive remove'.

    \b
    Example:
        clarifai-archive inputs delete birds --id img-0003 --id img-0007
        clarifai-archive inputs delete birds@v1 --ids-from bad-ids.txt
    """
    from .catalog import _echo_derived, read_ids

    if Path(dataset).exists():
        raise click.BadParameter(
            f"{dataset!r} is a file; inputs delete works on catalog datasets (versions are "
            "immutable). For an archive file use 'clarifai-archive remove'",
            param_hint="DATASET",
        )
    wanted = read_ids(ids, ids_from)
    if not wanted:
        raise click.UsageError("give the ids to delete with --id or --ids-from")
    ref = catalog_ref(dataset, param_hint="DATASET")
    assert ref is not None
    made = open_catalog().delete_inputs(
        ref,
        wanted,
        version=version_id,
        description=description,
        strict=strict,
        allow_empty=allow_empty,
    )
    assert made.parent is not None  # a deletion always has the version it started from
    if made.missing_ids:
        shown = ", ".join(made.missing_ids[:5])
        more = f" and {len(made.missing_ids) - 5} more" if len(made.missing_ids) > 5 else ""
        click.echo(
            f"Warning: {len(made.missing_ids)} id(s) not in {made.parent.ref}: {shown}{more}",
            err=True,
        )
    removed = made.parent.inputs_count - made.version.inputs_count
    _echo_derived(made, as_json, f"{removed} input(s) deleted")
