"""The selection options of ``filter``, shared with ``search``, ``sort`` and ``duplicates``.

They build one :class:`~toolkit.subset.FilterCriteria`; the similarity commands apply it
before the nearest-neighbour search (``where=``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from ..records import INPUT_TYPES
from ..subset import FilterCriteria, parse_metadata_filter

F = TypeVar("F", bound=Callable[..., Any])

#: The parameter names the options add to a command.
CRITERIA_PARAMS = (
    "concepts",
    "no_concepts",
    "metadata",
    "types",
    "has_embeddings",
    "has_regions",
    "unlabeled",
    "ids_from",
)


def _metadata_pairs(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    try:
        return tuple(parse_metadata_filter(value) for value in values)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def criteria_options(*, archive_option: bool = False) -> Callable[[F], F]:
    """``--concept``, ``--no-concept``, ``--metadata``, ``--type``, ``--has-embeddings``,
    ``--has-regions``, ``--unlabeled`` and ``--ids-from`` (and, for commands that take an
    index, ``--archive`` to evaluate them on)."""
    options = [
        click.option(
            "--concept",
            "concepts",
            multiple=True,
            metavar="ID|NAME",
            help="Only inputs with this positive label, on the input or a region (repeat: any); "
            "a concept id or name, any case.",
        ),
        click.option(
            "--no-concept",
            "no_concepts",
            multiple=True,
            metavar="ID|NAME",
            help="Leave out inputs with this positive label (repeat: any of them).",
        ),
        click.option(
            "--metadata",
            multiple=True,
            metavar="KEY=VALUE",
            callback=_metadata_pairs,
            help="Only inputs whose metadata KEY (dotted: a.b) equals VALUE (repeat: any).",
        ),
        click.option(
            "--type",
            "types",
            multiple=True,
            type=click.Choice(INPUT_TYPES),
            help="Only inputs of this type (repeat: any).",
        ),
        click.option("--has-embeddings", is_flag=True, help="Only inputs with an embedding."),
        click.option("--has-regions", is_flag=True, help="Only inputs with a region."),
        click.option("--unlabeled", is_flag=True, help="Only inputs with no concept or region."),
        click.option(
            "--ids-from",
            type=click.File("r", encoding="utf-8"),
            help="Only inputs whose id is in this file, one a line ('#' comments; '-': stdin).",
        ),
    ]
    if archive_option:
        options.append(
            click.option(
                "--archive",
                "filter_archives",
                multiple=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="Evaluate the filter options on this archive (repeat; default: the "
                "archives the index was built from).",
            )
        )

    def decorate(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def criteria_from(
    *,
    concepts: tuple[str, ...] = (),
    no_concepts: tuple[str, ...] = (),
    metadata: tuple[tuple[str, str], ...] = (),
    types: tuple[str, ...] = (),
    has_embeddings: bool = False,
    has_regions: bool = False,
    unlabeled: bool = False,
    ids_from: IO[str] | None = None,
    limit: int | None = None,
) -> FilterCriteria:
    """The :class:`FilterCriteria` the options describe."""
    from ._writing import read_ids_from

    criteria = FilterCriteria(
        concepts=concepts,
        no_concepts=no_concepts,
        metadata=metadata,
        types=types,
        has_embeddings=has_embeddings,
        has_regions=has_regions,
        unlabeled=unlabeled,
        limit=limit,
    )
    if ids_from is not None:
        criteria = criteria.with_ids(read_ids_from(ids_from))
    return criteria


def pop_criteria(params: dict[str, Any]) -> FilterCriteria:
    """Take the criteria options out of a command's keyword arguments."""
    values = {name: params.pop(name) for name in CRITERIA_PARAMS}
    return criteria_from(**values)
