"""``clarifai-archive split``."""

from __future__ import annotations

from pathlib import Path

import click

from ..split import GroupBy, parse_group_by, parse_ratios, split_archive
from ._common import ARCHIVE, check_writes, echo_json, get_context, resolve_archive
from ._writing import declared_inputs, note, output_options, progress_callback
from ._writing import write_report as _write_report


def _ratios(ctx: click.Context, param: click.Parameter, value: str) -> dict[str, float]:
    try:
        return parse_ratios(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _group_by(ctx: click.Context, param: click.Parameter, value: str | None) -> GroupBy | None:
    if value is None:
        return None
    try:
        return parse_group_by(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command()
@click.argument("archive", type=ARCHIVE)
@click.option(
    "--ratios",
    required=True,
    callback=_ratios,
    metavar="NAME=RATIO,...",
    help="Splits and their shares, adding up to 1: train=0.8,val=0.2.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed: the same seed, the same split."
)
@click.option(
    "--stratify-by",
    type=click.Choice(["concept"]),
    help="Spread every concept over the splits by the ratios (iterative stratification).",
)
@click.option("--tag", is_flag=True, help="Record the split name in each input's metadata.split.")
@click.option(
    "--group-by",
    callback=_group_by,
    metavar="near-duplicates[:T]|metadata:KEY",
    help="Keep groups whole in one split: near-duplicates (embeddings scoring >= T, "
    "default 0.95) or inputs sharing metadata KEY.",
)
@click.option(
    "--index",
    "index_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="--group-by near-duplicates: use this index (default: an exact one built in "
    "memory from the archive's embeddings).",
)
@output_options(folder=True)
def split(
    archive: str,
    ratios: dict[str, float],
    seed: int,
    stratify_by: str | None,
    tag: bool,
    group_by: GroupBy | None,
    index_dir: Path | None,
    output: Path,
    force: bool,
    flavour: str | None,
    batch_size: int,
    report_path: Path | None,
    as_json: bool,
    allow_empty: bool,
) -> None:
    """Split ARCHIVE into one archive per split, OUTPUT/<name>.zip, reproducibly.

    Each archive's batch folder is the split name (the official SDK reads it as the
    split). Other files in OUTPUT are left alone. --group-by keeps near-duplicates
    (or inputs sharing a metadata value) in one split, so none leaks from train to test;
    the ratios then hold as well as the groups allow. A split that would get no input is an
    error (nothing is written) unless --allow-empty.

    \b
    Example:
        clarifai-archive split export.zip --ratios train=0.8,val=0.2 -o splits
        clarifai-archive split export.zip --ratios train=0.7,val=0.15,test=0.15 \\
            --stratify-by concept --seed 7 --tag -o splits
        clarifai-archive split export.zip --ratios train=0.8,test=0.2 \\
            --group-by near-duplicates:0.9 -o splits
        clarifai-archive split export.zip --ratios train=0.8,test=0.2 \\
            --group-by metadata:patient_id -o splits
    """
    if index_dir is not None and (group_by is None or group_by.kind != "near-duplicates"):
        raise click.UsageError("--index goes with --group-by near-duplicates")
    path = resolve_archive(archive)
    check_writes(
        {
            **{f"-o {name}.zip": output / f"{name}.zip" for name in ratios},
            "--report": report_path,
        },
        [path],
        force=force,
    )
    total = declared_inputs([path])
    with progress_callback(2 * total if total else None, "Splitting") as progress:
        report = split_archive(
            path,
            output,
            ratios=ratios,
            seed=seed,
            stratify_by=stratify_by,  # type: ignore[arg-type]
            tag=tag,
            group_by=group_by,
            index=index_dir,
            allow_empty=allow_empty,
            flavour=flavour,  # type: ignore[arg-type]
            batch_size=batch_size,
            limits=get_context().limits,
            progress=progress,
        )
    n = sum(report.counts.values())
    how = " stratified by concept" if stratify_by else ""
    note(f"Split {n} inputs{how} (seed {seed}) into {report.out_dir}:")
    width = max(len(name) for name in report.counts)
    for name, count in report.counts.items():
        share = count / n if n else 0.0
        note(
            f"  {name:<{width}}  {count:>7} inputs  ({share:.1%}, "
            f"asked {report.ratios[name]:.1%})  {report.files[name]}"
        )
    if report.groups is not None:
        groups = report.groups
        largest = groups["largest"] or {"size": 0, "split": "-"}
        note(
            f"  groups ({report.group_by}): {groups['count']}, {groups['grouped_inputs']} inputs "
            f"in groups of 2 or more, {groups['ungrouped_inputs']} ungrouped; largest "
            f"{largest['size']} inputs, in {largest['split']}"
        )
    _write_report(report_path, report.to_dict())
    if as_json:
        echo_json(report.to_dict())
