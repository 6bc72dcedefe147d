"""``clarifai-archive convert``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..convert import (
    FORMATS,
    MEDIA_CHOICES,
    TASKS,
    ConvertOptions,
    ConvertReport,
    convert_archives,
    count_batches,
)
from ..media import read_pat
from ..unknown import UnknownFields, describe_unknown_fields
from ._common import (
    ARCHIVE,
    check_writes,
    echo_json,
    get_context,
    json_option,
    report_option,
    resolve_archive,
    write_report,
)
from ._writing import allow_empty_option

_SHOWN = 10
#: What each format can hold of a region, for the note on regions left out.
_SHAPES = {
    "coco": "(no box, polygon of 3+ points, mask or point)",
    "yolo": "for YOLO (no box or polygon of 3+ points inside the image; masks and points "
    "have no YOLO row)",
    "voc": "for VOC (no box or polygon of 3+ points inside the image; masks and points "
    "have no VOC box)",
}


def _summary(report: ConvertReport) -> str:
    if report.format in ("coco", "yolo", "voc"):
        text = (
            f"{report.images} images, {report.annotations} annotations, "
            f"{report.categories} categories"
        )
    elif report.format == "parquet":
        text = f"{report.written} rows in {report.files} Parquet file(s)"
    elif report.format == "sdk":
        text = f"{report.written} inputs, {report.annotation_files} annotation files"
    else:
        text = f"{report.written} inputs written"
    if report.media is not None:
        m = report.media
        text += f"; media: {m.written} written, {m.reused} reused"
        if m.skipped:
            text += f", {m.skipped} skipped"
        if m.failed:
            text += f", {len(m.failed)} failed"
    where = "standard output" if report.output == "-" else report.output
    return f"Converted {report.inputs} inputs to {where} ({report.format}): {text}"


def _notes(report: ConvertReport) -> list[str]:
    notes = []
    for kind, count in report.skipped_inputs.items():
        hint = " (--video-frames exports frames with regions)" if kind == "video" else ""
        if report.format != "coco":
            hint = ""
        label = {"coco": "COCO", "yolo": "YOLO", "voc": "VOC"}.get(report.format, report.format)
        notes.append(f"skipped {count} {kind} input(s): {label} holds images{hint}")
    if report.regions_without_concept:
        notes.append(
            f"{report.regions_without_concept} region(s) have no positive concept and were "
            "not exported"
        )
    if report.regions_without_shape:
        notes.append(
            f"{report.regions_without_shape} region(s) have no usable shape "
            + _SHAPES.get(report.format, _SHAPES["coco"])
            + " and were not exported"
        )
    if report.images_without_size:
        ids = ", ".join(report.images_without_size[:_SHOWN])
        notes.append(
            f"{len(report.images_without_size)} image(s) left out, their size is unknown "
            f"(no image_info and no media): {ids}; --media embedded or download reads it"
        )
    if report.nulled_numbers:
        ids = ", ".join(repr(i) for i in report.nulled_number_ids[:_SHOWN])
        more = " ..." if report.nulled_number_inputs > _SHOWN else ""
        notes.append(
            f"{report.nulled_numbers} NaN or infinite metadata number(s) written as null, in "
            f"{report.nulled_number_inputs} input(s): {ids}{more} (all of them in --report)"
        )
    media = report.media
    if media is not None:
        if media.skipped:
            reasons: dict[str, list[str]] = {}
            for input_id, why in media.skip_reasons.items():
                reasons.setdefault(why, []).append(input_id)
            parts = []
            for why, skipped in reasons.items():
                shown = ", ".join(skipped[:3]) + (" ..." if len(skipped) > 3 else "")
                parts.append(f"{len(skipped)} x {why} ({shown})")
            notes.append(f"no media written for {media.skipped} input(s): " + "; ".join(parts))
        if media.jobs_lowered_to is not None:
            notes.append(
                "a server answered 429/503 (too many requests): downloads went down to "
                f"{media.jobs_lowered_to} at a time, and back up while answers were good"
            )
        if media.failed:
            shown = "; ".join(f"{k}: {v}" for k, v in list(media.failed.items())[:_SHOWN])
            more = " ..." if len(media.failed) > _SHOWN else ""
            notes.append(f"media of {len(media.failed)} input(s) failed: {shown}{more}")
    return notes


def warn_unknown_fields(report: ConvertReport) -> None:
    """The warning (on stderr, also with -q) when JSON output left unknown fields out."""
    if report.unknown_field_inputs:
        found = UnknownFields(
            report.unknown_field_inputs, report.unknown_fields, report.unknown_field_examples
        )
        click.echo(f"Warning: {describe_unknown_fields(found)}", err=True)


# Options shared with 'datasets export', which converts a catalog version.
bad_numbers_option = click.option(
    "--bad-numbers",
    type=click.Choice(["error", "null"]),
    default="error",
    show_default=True,
    help="A NaN or infinite number in metadata, which JSON cannot hold: refuse the input "
    "(error) or write null in its place (null; the report lists those inputs).",
)
media_option = click.option(
    "--media",
    type=click.Choice(list(MEDIA_CHOICES)),
    default="none",
    show_default=True,
    help="coco, yolo, voc, sdk (files) and parquet (the image_bytes column): write the media "
    "carried in the archive (embedded) or also fetch hosted copies and URLs (download).",
)
pat_file_option = click.option(
    "--pat-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File whose first line is the Clarifai key for hosted copies (default: $CLARIFAI_PAT).",
)
allow_missing_option = click.option(
    "--allow-missing", is_flag=True, help="Write the output even when some media failed."
)
force_folder_option = click.option(
    "--force",
    is_flag=True,
    help="Replace an existing output file or report, or an output folder that holds files "
    "of other origin (never a source).",
)


def check_media_usage(to: str, media: str, pat_file: Path | None) -> None:
    """Wrong usage of --media and --pat-file for format ``to``: a UsageError (exit 2)."""
    if media != "none" and not FORMATS[to].supports_media:
        takers = ", ".join(k for k, v in FORMATS.items() if v.supports_media)
        raise click.UsageError(
            f"--media applies to --to {takers}; {to} keeps the embedded bytes in the records"
        )
    if pat_file is not None and media != "download":
        raise click.UsageError("--pat-file applies to --media download")


@click.command()
@click.argument("archives", nargs=-1, required=True, type=ARCHIVE, metavar="ARCHIVE...")
@click.option(
    "--to",
    "to",
    required=True,
    type=click.Choice(list(FORMATS)),
    help="Output format: " + "; ".join(f"{k}: {v.summary}" for k, v in FORMATS.items()) + ".",
)
@click.option(
    "-o",
    "--output",
    required=True,
    metavar="OUT",
    help="Output zip, .jsonl file ('-' for standard output with jsonl) or folder (coco, "
    "yolo, voc).",
)
@media_option
@click.option(
    "--jobs",
    type=click.IntRange(1, 256),
    default=None,
    help="Downloads at a time (default 64; fewer, automatically, while a server answers "
    "429 or 503). Without downloads: files written at a time (default 16).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds a download may wait without progress.",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 20),
    default=4,
    show_default=True,
    help="Retries of a download on 429/5xx and network errors, with backoff.",
)
@pat_file_option
@allow_missing_option
@allow_empty_option
@click.option("--png", is_flag=True, help="sdk: re-encode images as PNG, as the Clarifai SDK does.")
@click.option(
    "--split",
    default="all",
    show_default=True,
    help="Folder of the batch entries (json, protobuf) or of the SDK layout (sdk).",
)
@click.option(
    "--video-frames",
    is_flag=True,
    help="coco: export each video frame that carries regions as an image.",
)
@click.option(
    "--task",
    type=click.Choice(list(TASKS)),
    default="detect",
    show_default=True,
    help="yolo: boxes (detect: class cx cy w h) or polygons (segment: class x1 y1 ...).",
)
@click.option(
    "--image-labels",
    is_flag=True,
    help="coco: make input-level concepts categories too (by default only region concepts are).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=128,
    show_default=True,
    help="Inputs per batch entry (json, protobuf).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="json, jsonl: processes that read and encode the batches (default: one per CPU, "
    "up to 8, for sources of 32 MiB or more; else 1).",
)
@report_option(
    "Also write the full report (counts, skipped and failed inputs) as JSON to this file "
    "('-' for stdout)."
)
@click.option(
    "--rows-per-file",
    type=click.IntRange(min=1),
    default=100_000,
    show_default=True,
    help="parquet: rows (inputs) per Parquet file, about.",
)
@click.option(
    "--embedding",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="parquet: which embedding of each input fills the embedding column (0: the first).",
)
@click.option(
    "--metadata-columns",
    metavar="KEY,KEY.SUB",
    default="",
    help="parquet: metadata keys (dotted paths) that get a column each, as metadata.KEY.",
)
@click.option(
    "--scheduler",
    metavar="processes|threads|tcp://HOST:PORT",
    default=None,
    help="parquet: read the archives in parallel, on a local pool of processes (--workers "
    "of them, default one per CPU) or threads, or on a running Dask cluster (its scheduler's "
    "address; the workers must reach the archives); the output is the same. Default: one "
    "process.",
)
@bad_numbers_option
@force_folder_option
@json_option("Print the report as one JSON document on stdout (not with -o -).")
def convert(
    archives: tuple[str, ...],
    to: str,
    output: str,
    media: str,
    jobs: int | None,
    timeout: float,
    retries: int,
    pat_file: Path | None,
    allow_missing: bool,
    allow_empty: bool,
    png: bool,
    split: str,
    video_frames: bool,
    task: str,
    image_labels: bool,
    batch_size: int,
    workers: int | None,
    report_path: Path | None,
    rows_per_file: int,
    embedding: int,
    metadata_columns: str,
    scheduler: str | None,
    bad_numbers: str,
    force: bool,
    as_json: bool,
) -> None:
    """Convert ARCHIVE... into one output: Clarifai-Data-JSON, JSON Lines, COCO, YOLO,
    Pascal VOC, a rewritten protobuf archive, the Clarifai SDK's export zip or a folder of
    Parquet files (one row per input), with the media if asked. coco, yolo and voc put
    inputs tagged by 'split --tag' in their split.

    Inputs go out in the archives' order; an input id found twice is an error (see
    'clarifai-archive merge'). The output appears only when complete. A one-line summary
    and notes go to stderr; with --media, exit 1 when some media failed, unless
    --allow-missing (finished downloads are kept: a re-run fetches only what is missing).

    \b
    Example:
        clarifai-archive convert clarifai-data-protobuf.zip --to jsonl -o inputs.jsonl
        clarifai-archive convert clarifai-data-protobuf.zip --to jsonl -o - | head -1
        clarifai-archive convert clarifai-data-protobuf.zip --to coco -o coco --media embedded
        clarifai-archive convert tagged.zip --to yolo -o yolo --task segment --media download
        clarifai-archive convert tagged.zip --to voc -o voc --media embedded
        clarifai-archive convert a.zip b.zip --to sdk -o export.zip --media download --png
        clarifai-archive convert clarifai-data-protobuf.zip --to parquet -o table \
            --metadata-columns split,camera.model
        clarifai-archive convert a.zip b.zip --to parquet -o table --scheduler processes
    """
    context = get_context()
    fmt = FORMATS[to]
    if output == "-" and not fmt.supports_stdout:
        raise click.UsageError(f"--to {to} writes a {fmt.output_kind}; give its path with -o")
    check_media_usage(to, media, pat_file)
    if png and (to != "sdk" or media == "none"):
        raise click.UsageError("--png applies to --to sdk with --media embedded or download")
    if video_frames and to != "coco":
        raise click.UsageError("--video-frames applies to --to coco")
    keys = tuple(k.strip() for k in metadata_columns.split(",") if k.strip())
    if to != "parquet":
        given = [
            name
            for name, value, default in (
                ("--rows-per-file", rows_per_file, 100_000),
                ("--embedding", embedding, 0),
                ("--metadata-columns", keys, ()),
                ("--scheduler", scheduler, None),
            )
            if value != default
        ]
        if given:
            raise click.UsageError(f"{given[0]} applies to --to parquet")
    if scheduler is not None and media != "none":
        raise click.UsageError("--scheduler converts without media; leave out --media")
    for key in keys:
        if any(not part for part in key.split(".")):
            raise click.BadParameter(
                f"{key!r} has an empty part; write keys like a,b.c", param_hint="--metadata-columns"
            )
    if image_labels and to != "coco":
        raise click.UsageError("--image-labels applies to --to coco")
    if task != "detect" and to != "yolo":
        raise click.UsageError("--task applies to --to yolo")
    try:
        from ..convert._base import check_split

        check_split(split)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--split") from None
    if output == "-" and (as_json or str(report_path) == "-"):
        raise click.UsageError(
            "-o - writes the inputs to standard output; --json and --report - "
            "would mix the report into them"
        )
    sources = [resolve_archive(a) for a in archives]
    check_writes(
        {"-o": None if output == "-" else Path(output), "--report": report_path},
        sources,
        force=force,
        # A folder output (coco) is the converter's: it resumes its own earlier output and
        # needs --force only for files of other origin.
        existing_ok={"-o"} if fmt.output_kind == "folder" else (),
    )
    pat = read_pat(pat_file) if media == "download" else None
    quiet = context.quiet
    if media == "download" and pat is None and not quiet:
        click.echo(
            "Note: no Clarifai key ($CLARIFAI_PAT or --pat-file); hosted copies will be "
            "refused, plain URLs still work",
            err=True,
        )
    options = ConvertOptions(
        media=media,  # type: ignore[arg-type]
        jobs=jobs,
        timeout=timeout,
        retries=retries,
        pat=pat,
        allow_missing=allow_missing,
        allow_empty=allow_empty,
        png=png,
        split=split,
        video_frames=video_frames,
        task=task,
        image_labels=image_labels,
        batch_size=batch_size,
        workers=workers,
        force=force,
        limits=context.limits,
        rows_per_file=rows_per_file,
        embedding=embedding,
        metadata_columns=keys,
        bad_numbers=bad_numbers,  # type: ignore[arg-type]
    )
    hidden = quiet or not sys.stderr.isatty()
    if scheduler is not None:
        total = count_batches(sources, limits=context.limits)
        report = _convert_scheduled(
            sources, Path(output), scheduler, options, total=total, hidden=hidden
        )
        if not quiet:
            click.echo(_summary(report), err=True)
        if report_path is not None:
            write_report(report_path, report.to_dict())
        if as_json:
            echo_json(report.to_dict())
        return
    # The total only sizes the bar: a hidden one spares the second pass over the directories.
    total = 0 if hidden else count_batches(sources, limits=context.limits)
    with click.progressbar(length=total, label="Converting", file=sys.stderr, hidden=hidden) as bar:
        report = convert_archives(
            sources,
            sys.stdout.buffer if output == "-" else Path(output),
            to=to,
            options=options,
            report_path=None if report_path is None or str(report_path) == "-" else report_path,
            progress=bar.update,
        )
    warn_unknown_fields(report)
    for note in _notes(report):
        if not quiet or "failed" in note:
            click.echo(f"Note: {note}", err=True)
    if not quiet:
        click.echo(_summary(report), err=True)
    if report_path is not None and str(report_path) == "-":
        write_report(report_path, report.to_dict())
    if as_json:
        echo_json(report.to_dict())


def _convert_scheduled(
    sources: list[Path],
    output: Path,
    scheduler: str,
    options: ConvertOptions,
    *,
    total: int,
    hidden: bool,
) -> ConvertReport:
    """``--to parquet --scheduler``: the archives read by a pool or a Dask cluster, with
    the parquet settings of ``options``."""
    from ..distributed.convert import check_scheduler, convert_to_parquet

    try:
        check_scheduler(scheduler)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scheduler") from None
    with click.progressbar(length=total, label="Converting", file=sys.stderr, hidden=hidden) as bar:
        try:
            return convert_to_parquet(
                sources,
                output,
                scheduler=scheduler,
                workers=options.workers,
                rows_per_file=options.rows_per_file,
                embedding=options.embedding,
                metadata_columns=options.metadata_columns,
                allow_empty=options.allow_empty,
                force=options.force,
                limits=options.limits,
                progress=bar.update,
            )
        except ValueError as exc:  # no dask installed, no scheduler at that address
            raise click.ClickException(str(exc)) from None
