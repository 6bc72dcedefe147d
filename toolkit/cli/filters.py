"""``clarifai-archive filters ...``: saved filters in the catalog."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import click

from ..catalog.filters import FilterInfo
from ..subset import FilterCriteria
from ._common import echo_json, echo_jsonl, json_option, open_catalog
from ._writing import read_ids_from
from .subset import filter_command

#: Options of ``filter`` that are not criteria (what to read and write, similarity).
_NOT_CRITERIA = {
    "archive",
    "like",
    "like_min_score",
    "like_k",
    "like_index",
    "output",
    "force",
    "flavour",
    "batch_size",
    "report_path",
    "as_json",
    "allow_empty",
}


def _criteria_params() -> list[click.Parameter]:
    """The criteria options of ``filter``, so a saved filter takes exactly the same ones."""
    return [
        copy.copy(p)
        for p in filter_command.params
        if isinstance(p, click.Option) and p.name not in _NOT_CRITERIA
    ]


def criteria_from_options(options: dict[str, Any]) -> FilterCriteria:
    """The :class:`FilterCriteria` the ``filter`` criteria options describe."""
    names = {f.name for f in dataclasses.fields(FilterCriteria)}
    ids_from = options.pop("ids_from", None)
    kwargs = {k: v for k, v in options.items() if k in names}
    unused = sorted(set(options) - names)
    if unused:  # pragma: no cover - a new 'filter' option this command does not know
        raise click.UsageError(f"filters add cannot save --{unused[0].replace('_', '-')}")
    try:
        criteria = FilterCriteria(**kwargs)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if ids_from is not None:
        criteria = criteria.with_ids(read_ids_from(ids_from))
    return criteria


def _echo_filter(info: FilterInfo) -> None:
    click.echo(f"filter:      {info.id}")
    if info.description:
        click.echo(f"description: {info.description}")
    for name, value in info.criteria.to_dict().items():
        shown = ", ".join(str(v) for v in value) if isinstance(value, list) else value
        click.echo(f"  {name + ':':<16} {shown}")
    if info.used_by:
        click.echo(f"default of:  {', '.join(info.used_by)}")


@click.group("filters")
def filters() -> None:
    """Save, list, show and delete filters (the criteria of 'clarifai-archive filter')."""


@filters.command("add")
@click.argument("filter_id", metavar="ID")
@click.option("--description", default="", help="What the filter is for.")
@click.option("--replace", is_flag=True, help="Change a filter that exists already.")
@json_option("Print the saved filter as JSON.")
def add_command(
    filter_id: str, description: str, replace: bool, as_json: bool, **options: Any
) -> None:
    """Save a filter under ID: the criteria options of 'clarifai-archive filter'.

    A dataset's default filter (datasets patch ID --default-filter-id FILTER) is applied
    by 'datasets export' and 'inputs list DATASET' unless --no-default-filter.

    \b
    Example:
        clarifai-archive filters add boxes --has-regions --no-concept person
        clarifai-archive filters add train-cats --concept cat --metadata split=train
    """
    criteria = criteria_from_options(options)
    info = open_catalog().filters.add(filter_id, criteria, description=description, replace=replace)
    if as_json:
        echo_json(info.to_dict())
        return
    click.echo(f"Saved filter {info.id}: {info.criteria.to_dict()}")


add_command.params.extend(_criteria_params())


@filters.command("list")
@click.option(
    "--page", type=click.IntRange(min=1), default=1, show_default=True, help="Page, from 1."
)
@click.option(
    "--per-page", type=click.IntRange(min=1), default=100, show_default=True, help="Filters a page."
)
@json_option("JSON Lines, one filter a line.")
def list_command(page: int, per_page: int, as_json: bool) -> None:
    """List the saved filters by id.

    \b
    Example:
        clarifai-archive filters list
        clarifai-archive filters list --json
    """
    found = open_catalog().filters.list(page=page, per_page=per_page)
    if as_json:
        for info in found:
            echo_jsonl(info.to_dict())
        return
    for info in found:
        used = f"  (default of {', '.join(info.used_by)})" if info.used_by else ""
        click.echo(f"{info.id}  {info.criteria.to_dict()}{used}")


@filters.command("get")
@click.argument("filter_id", metavar="ID")
@json_option("Print the filter as JSON.")
def get_command(filter_id: str, as_json: bool) -> None:
    """Show a saved filter: its criteria and the datasets it is the default of.

    \b
    Example:
        clarifai-archive filters get boxes
        clarifai-archive filters get boxes --json
    """
    info = open_catalog().filters.get(filter_id)
    if as_json:
        echo_json(info.to_dict())
        return
    _echo_filter(info)


@filters.command("delete")
@click.argument("filter_id", metavar="ID")
@json_option("Print the deleted filter as JSON.")
def delete_command(filter_id: str, as_json: bool) -> None:
    """Delete a saved filter (refused while a dataset has it as its default).

    \b
    Example:
        clarifai-archive filters delete boxes
    """
    info = open_catalog().filters.delete(filter_id)
    if as_json:
        echo_json(info.to_dict())
        return
    click.echo(f"Deleted filter {info.id}.")
