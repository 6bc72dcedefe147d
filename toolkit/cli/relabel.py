"""``clarifai-archive relabel``: map, merge and drop concepts; drop regions."""

from __future__ import annotations

from pathlib import Path

import click

from ..relabel import (
    REGION_SHAPES,
    RelabelReport,
    RelabelRules,
    merge_into,
    parse_mapping,
    read_map_file,
    relabel_archive,
)
from ._common import ARCHIVE, echo_json, get_context
from ._writing import declared_inputs, note, output_options, progress_callback
from ._writing import write_report as _write_report
from .prepare import new_version_option, write_result


def _pairs(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    try:
        return tuple(parse_mapping(value) for value in values)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _merges(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for value in values:
        new, sep, olds = value.partition("=")
        concepts = [c.strip() for c in olds.split(",") if c.strip()]
        if not sep or not new.strip() or not concepts:
            raise click.BadParameter(f"{value!r} is not NEW=A,B,... (e.g. vehicle=car,truck)")
        pairs.extend(merge_into(new.strip(), concepts))
    return tuple(pairs)


def _split_commas(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _shapes(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[str]:
    shapes = _split_commas(values)
    for shape in shapes:
        if shape not in REGION_SHAPES:
            raise click.BadParameter(
                f"{shape!r} is not a region shape; use {', '.join(REGION_SHAPES)}"
            )
    return shapes


@click.command()
@click.argument("archive", type=ARCHIVE)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="OLD=NEW",
    callback=_pairs,
    help="Relabel concept OLD (id or name) as NEW (repeat). Two concepts mapped to one merge.",
)
@click.option(
    "--map-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='More OLD,NEW pairs: a CSV file of two columns, or JSON {"old": "new"}.',
)
@click.option(
    "--merge-into",
    "merges",
    multiple=True,
    metavar="NEW=A,B,...",
    callback=_merges,
    help="Make several concepts one: --merge-into vehicle=car,truck (repeat).",
)
@click.option(
    "--drop-concept",
    "drop_concepts",
    multiple=True,
    metavar="ID",
    help="Drop the labels of this concept (repeat; named after --map).",
)
@click.option(
    "--keep-concepts",
    "keep_concepts",
    multiple=True,
    metavar="ID,...",
    help="Keep only the labels of these concepts, drop every other (named after --map).",
)
@click.option(
    "--drop-regions",
    "drop_regions",
    multiple=True,
    metavar="SHAPE,...",
    callback=_shapes,
    help="Drop regions of these shapes: box, polygon, point, mask.",
)
@click.option("--drop-negatives", is_flag=True, help="Drop negative labels (value 0).")
@click.option(
    "--min-box-area",
    type=click.FloatRange(min=0),
    metavar="PX",
    help="Drop bounding boxes smaller than PX square pixels (needs the image size).",
)
@click.option(
    "--keep-unsized",
    is_flag=True,
    help="--min-box-area: keep the boxes of inputs without image size instead of failing.",
)
@click.option(
    "--empty-regions",
    type=click.Choice(["drop", "keep"]),
    default="drop",
    show_default=True,
    help="What to do with a region left with no concept.",
)
@new_version_option()
@output_options(required=False, empty_option=False)
def relabel(
    archive: str,
    mapping: tuple[tuple[str, str], ...],
    map_file: Path | None,
    merges: tuple[tuple[str, str], ...],
    drop_concepts: tuple[str, ...],
    keep_concepts: tuple[str, ...],
    drop_regions: list[str],
    drop_negatives: bool,
    min_box_area: float | None,
    keep_unsized: bool,
    empty_regions: str,
    new_version: str | None,
    output: Path | None,
    force: bool,
    flavour: str | None,
    batch_size: int,
    report_path: Path | None,
    as_json: bool,
) -> None:
    """Write ARCHIVE with its labels changed: concepts mapped, merged or dropped,
    regions dropped. Input-level, frame and region labels alike; every input is kept.

    Labels that end up with one id on the same input (or region) become one label;
    a positive label wins over a negative one. An unknown concept is an error naming
    the closest known ones. The report counts per concept the labels unchanged,
    changed, merged and dropped.

    \b
    Example:
        clarifai-archive relabel export.zip -o out.zip --map Ball=toy --map box=toy
        clarifai-archive relabel export.zip -o out.zip --merge-into toy=ball,box \\
            --drop-negatives --drop-regions point
        clarifai-archive relabel export.zip -o out.zip --keep-concepts ball,box \\
            --min-box-area 100 --report report.json
        clarifai-archive relabel birds@v1 --map Ball=toy --new-version
    """
    pairs = list(mapping)
    if map_file is not None:
        pairs.extend(read_map_file(map_file))
    pairs.extend(merges)
    if keep_concepts and not _split_commas(keep_concepts):
        raise click.UsageError("--keep-concepts needs at least one concept (ID,ID,...)")
    if keep_unsized and min_box_area is None:
        raise click.UsageError("--keep-unsized goes with --min-box-area")
    try:
        rules = RelabelRules(
            mapping=tuple(pairs),
            drop_concepts=drop_concepts,
            keep_concepts=tuple(_split_commas(keep_concepts)) if keep_concepts else None,
            drop_regions=tuple(drop_regions),
            drop_negatives=drop_negatives,
            min_box_area=min_box_area,
            empty_regions=empty_regions,  # type: ignore[arg-type]
            keep_unsized=keep_unsized,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if not (
        rules.mapping
        or rules.drop_concepts
        or rules.keep_concepts is not None
        or rules.drop_regions
        or rules.drop_negatives
        or rules.min_box_area is not None
    ):
        raise click.UsageError(
            "nothing to change: give --map, --map-file, --merge-into, --drop-concept, "
            "--keep-concepts, --drop-regions, --drop-negatives or --min-box-area"
        )

    def make(source: Path, out: Path) -> RelabelReport:
        with progress_callback(declared_inputs([source]), "Relabelling") as progress:
            return relabel_archive(
                source,
                out,
                rules=rules,
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
        tag="relabel",
        make=make,
    )
    note(
        f"Relabelled {report.inputs_changed} of {report.inputs_read} inputs; wrote "
        f"{report.inputs_written} to {report.output}."
    )
    touched = {
        c: v for c, v in sorted(report.concepts.items()) if v.changed or v.merged or v.dropped
    }
    if touched:
        width = max(len("concept"), *(len(c) for c in touched))
        note(
            f"  {'concept':<{width}}  {'labels':>6}  {'changed':>7}  {'merged':>6}  {'dropped':>7}"
        )
        for concept_id, change in touched.items():
            to = f"  -> {change.to}" if change.to != concept_id else ""
            note(
                f"  {concept_id:<{width}}  {change.labels:>6}  {change.changed:>7}  "
                f"{change.merged:>6}  {change.dropped:>7}{to}"
            )
    if report.regions_dropped:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(report.regions_dropped.items()))
        note(f"  regions dropped: {reasons}")
    if report.boxes_unsized:
        note(f"  boxes kept without image size: {report.boxes_unsized}")
    _write_report(report_path, report.to_dict())
    if as_json:
        echo_json(report.to_dict())
