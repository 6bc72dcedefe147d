"""``clarifai-archive inputs ...``: list and get inputs."""

from __future__ import annotations

import click

from ..inputs import list_inputs
from ..jsonmap import input_to_dict, input_to_json
from ..records import input_type, iter_regions, positive_concepts
from ._common import ARCHIVE, echo_json, open_reader


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
    "--concept", metavar="ID", help="Only inputs with this positive label (or a region's)."
)
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one input a line (proto names).")
def list_command(
    archive: str, page: int, per_page: int, concept: str | None, as_json: bool
) -> None:
    """List the inputs of ARCHIVE a page at a time, as the Clarifai API pages them.

    \b
    Example:
        clarifai-archive inputs list clarifai-data-protobuf.zip --per-page 5
        clarifai-archive inputs list clarifai-data-protobuf.zip --concept cat --json
    """
    with open_reader(archive) as reader:
        records = list_inputs(reader.iter_inputs(), page=page, per_page=per_page, concept=concept)
    if as_json:
        for record in records:
            click.echo(input_to_json(record))
        return
    if not records:
        return
    width = max(len(r.id) for r in records)
    click.echo(f"{'id':<{width}}  {'type':<7}  {'regions':>7}  concepts")
    for record in records:
        labels = ", ".join(c.name or c.id for c in positive_concepts(record.data))
        regions = sum(1 for _ in iter_regions(record))
        click.echo(f"{record.id:<{width}}  {input_type(record):<7}  {regions:>7}  {labels}")


@inputs.command("get")
@click.argument("archive", type=ARCHIVE)
@click.argument("input_id")
def get_command(archive: str, input_id: str) -> None:
    """Print one input of ARCHIVE as JSON (proto field names, as Clarifai's REST API).

    \b
    Example:
        clarifai-archive inputs get clarifai-data-protobuf.zip img-0001
    """
    with open_reader(archive) as reader:
        record = reader.get_input(input_id)
    echo_json(input_to_dict(record))
