"""``clarifai-archive info``."""

from __future__ import annotations

from typing import Any

import click

from ..batches import auto_workers
from ..metrics import archive_metrics
from ._common import ARCHIVE, echo_json, open_reader, workers_option
from ._writing import progress_callback


@click.command()
@click.argument("archive", type=ARCHIVE)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@workers_option("read and count the batches")
def info(archive: str, as_json: bool, workers: int | None) -> None:
    """Show what ARCHIVE holds, as Clarifai's dataset version metrics.

    \b
    Example:
        clarifai-archive info clarifai-data-protobuf.zip
        clarifai-archive info clarifai-data-protobuf.zip --json
    """
    with open_reader(archive) as reader:
        if workers is None:
            workers = auto_workers(sum(entry.size for entry in reader.entries))
        with progress_callback(len(reader.entries), "Reading") as bar:
            metrics = archive_metrics(reader, workers=workers, progress=bar)
        flavour, entries = reader.flavour, len(reader.entries)
    if as_json:
        echo_json(metrics.to_dict())
        return
    click.echo(f"archive:    {archive} ({flavour}, {entries} batch entries)")
    echo_metrics(metrics.to_dict())


def echo_metrics(m: dict[str, Any]) -> None:
    """The metrics lines of ``info`` and ``versions get``, from ``Metrics.to_dict()``."""
    types = ", ".join(f"{k} {v}" for k, v in m.get("input_types", {}).items())
    click.echo(f"inputs:     {m['inputs_count']}" + (f" ({types})" if types else ""))
    click.echo(f"unlabeled:  {m['unlabeled_inputs_count']}")
    click.echo(f"metadata:   {m['inputs_with_metadata_count']} inputs")
    click.echo(
        f"regions:    {m['regions_count']} (boxes {m['bounding_boxes_count']}, "
        f"polygons {m['polygons_count']}, points {m['points_count']}, "
        f"masks {m['masks_count']})"
    )
    click.echo(f"frames:     {m['frames_count']}")
    dims = ", ".join(f"{n} x {d}-d" for d, n in m.get("embedding_dimensions", {}).items())
    click.echo(f"embeddings: {m['embeddings_count']}" + (f" ({dims})" if dims else ""))
    if m.get("image_width_range") and m.get("image_height_range"):
        (wmin, wmax), (hmin, hmax) = m["image_width_range"], m["image_height_range"]
        click.echo(f"image size: {wmin}-{wmax} x {hmin}-{hmax} px")
    click.echo(
        f"labels:     {m['positive_input_tags_count']} positive on inputs, "
        f"{m['positive_region_tags_count']} on regions"
    )
    concepts = m.get("concepts") or {}
    if concepts:
        click.echo("concepts:")
        width = max(len(k) for k in concepts)
        click.echo(f"  {'id':<{width}}  {'inputs':>6}  {'regions':>7}  {'negative':>8}  name")
        for concept_id in sorted(concepts):
            c = concepts[concept_id]
            click.echo(
                f"  {concept_id:<{width}}  {c['inputs']:>6}  {c['regions']:>7}  "
                f"{c['negatives']:>8}  {c['name']}"
            )
