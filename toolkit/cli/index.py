"""``clarifai-archive index ...``: build, add to, remove from, evaluate and describe an index.

The index package (numpy, FAISS) is imported inside the commands, so other commands
start without it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from ._common import (
    ARCHIVE,
    FiniteFloat,
    check_writes,
    echo_json,
    get_context,
    json_option,
    report_option,
    resolve_archive,
    write_report,
)


class SizeParam(click.ParamType):  # type: ignore[type-arg]  # generic in click 8.5 only
    """A size such as ``4GB``, ``512MB`` or ``1000000`` (bytes)."""

    name = "SIZE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        from ..index import parse_size

        try:
            return parse_size(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


SIZE = SizeParam()
INDEX_DIR = click.Path(path_type=Path, file_okay=True, dir_okay=True)


def note(message: str) -> None:
    """A progress note on stderr, hidden by ``-q``."""
    if not get_context().quiet:
        click.echo(message, err=True)


@contextlib.contextmanager
def progress_callback(label: str, length: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr fed by a ``callback(n)``; hidden by ``-q`` or a non-terminal."""
    hidden = get_context().quiet or not sys.stderr.isatty()
    with click.progressbar(length=length or 0, label=label, file=sys.stderr, hidden=hidden) as bar:
        yield bar.update


def archive_lengths(paths: list[Path]) -> int | None:
    """Inputs the archives announce (for a progress bar), None when unknown."""
    from ..archive import ArchiveReader

    total = 0
    for path in paths:
        with ArchiveReader(path, limits=get_context().limits, allow_empty=True) as reader:
            count = reader.declared_count
        if count is None:
            return None
        total += count
    return total


@click.group("index")
def index_group() -> None:
    """Build and maintain a similarity index over the archives' embeddings."""


@index_group.command("build")
@click.argument("archives", nargs=-1, required=True, type=ARCHIVE)
@click.option(
    "-o", "--output", "out_dir", required=True, type=INDEX_DIR, help="Index folder to write."
)
@click.option(
    "--kind",
    type=click.Choice(["auto", "flat", "ivf", "ivfpq", "hnsw"]),
    default="auto",
    show_default=True,
    help="auto: exact below 50,000 vectors, else IVF + PQ fast-scan with exact re-ranking.",
)
@click.option(
    "--metric",
    type=click.Choice(["cosine", "ip", "l2"]),
    default="cosine",
    show_default=True,
    help="cosine (vectors normalised), ip (inner product) or l2 (Euclidean).",
)
@click.option(
    "--memory-budget", type=SIZE, help="Most RAM the index may take, e.g. 4GB (default: no limit)."
)
@click.option(
    "--embedding",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Which embedding of an input, when it has several.",
)
@click.option("--skip-bad", is_flag=True, help="Skip NaN, zero or wrong-sized vectors (counted).")
@click.option(
    "--target-recall",
    type=FiniteFloat(0, 1),
    default=0.95,
    show_default=True,
    help="recall@10 the search settings are tuned to reach.",
)
@click.option(
    "--flat-below",
    type=click.IntRange(min=0),
    default=50_000,
    show_default=True,
    help="auto: search exactly below this many vectors.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for sampling.")
@click.option(
    "--shard-rows",
    type=click.IntRange(min=1),
    default=None,
    help="Build from shards of this many vectors, added by parallel workers and merged on "
    "disk (index.ivfdata, memory-mapped by search): an ivf index that may exceed RAM. "
    "ARCHIVES may then be one Parquet folder (convert --to parquet).",
)
@click.option(
    "--scheduler",
    metavar="processes|threads|tcp://HOST:PORT",
    default=None,
    help="With shards: where the workers run, a local pool (default: processes) or a running "
    "Dask cluster, whose workers must see the output folder.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 1024),
    default=None,
    help="With shards: local workers (default: one per CPU).",
)
@click.option(
    "--force", is_flag=True, help="Replace an index already in the folder, or the --report file."
)
@report_option("Also write the summary as JSON to this file ('-' for stdout).")
@json_option("Print the summary as JSON.")
def build_command(
    archives: tuple[str, ...],
    out_dir: Path,
    kind: str,
    metric: str,
    memory_budget: int | None,
    embedding: int,
    skip_bad: bool,
    target_recall: float,
    flat_below: int,
    seed: int,
    shard_rows: int | None,
    scheduler: str | None,
    workers: int | None,
    force: bool,
    report_path: Path | None,
    as_json: bool,
) -> None:
    """Index the embeddings of ARCHIVES into the folder OUTPUT.

    The folder gets vectors.npy, ids.json, index.faiss and index.json (dimension,
    metric, kind, counts, source checksums, the measured recall@10 and the tuned
    search settings). Inputs without an embedding are counted and skipped.

    \b
    Example:
        clarifai-archive index build clarifai-data-protobuf.zip -o my-index
        clarifai-archive index build a.zip b.zip -o big-index --memory-budget 4GB
        clarifai-archive index build a.zip b.zip -o huge-index --shard-rows 250000
        clarifai-archive index build table/ -o huge-index --shard-rows 250000 \
            --scheduler tcp://10.0.0.5:8786
    """
    from ..index import build_index

    paths = [resolve_archive(a) for a in archives]
    check_writes({"-o": out_dir, "--report": report_path}, paths, force=force, existing_ok={"-o"})
    ctx = get_context()
    if shard_rows is None and (scheduler is not None or workers is not None):
        raise click.UsageError("--scheduler and --workers apply to --shard-rows")
    if shard_rows is not None:
        index = _build_sharded(
            paths,
            out_dir,
            kind=kind,
            memory_budget=memory_budget,
            flat_below=flat_below,
            shard_rows=shard_rows,
            scheduler=scheduler or "processes",
            workers=workers,
            metric=metric,
            embedding=embedding,
            skip_bad=skip_bad,
            target_recall=target_recall,
            seed=seed,
            force=force,
        )
    else:
        with progress_callback("Reading embeddings", archive_lengths(paths)) as update:
            index = build_index(
                paths,
                out_dir,
                kind=kind,
                metric=metric,
                memory_budget=memory_budget,
                embedding=embedding,
                skip_bad=skip_bad,
                target_recall=target_recall,
                flat_max=flat_below,
                seed=seed,
                force=force,
                limits=ctx.limits,
                progress=update,
                note=note,
            )
    summary = build_summary(index)
    write_report(report_path, summary)
    if as_json:
        echo_json(summary)
        return
    counts = summary["counts"]
    click.echo(
        f"indexed {counts['indexed']} of {counts['inputs_read']} inputs into {index.path} "
        f"({counts['skipped_no_embedding']} without embedding, {counts['skipped_bad']} bad)"
    )
    click.echo(
        f"kind {index.kind} ({summary['choice']}), metric {index.metric}, "
        f"{index.dimension} dimensions"
    )
    tuning = summary["tuning"]
    if index.kind == "flat":
        click.echo("recall@10 1 by construction (exact search: nothing to tune)")
        return
    settings = ", ".join(f"{k}={v}" for k, v in summary["search_params"].items())
    click.echo(
        f"recall@10 {tuning['recall_at_10']:.3f} on {tuning['queries']} held-out queries "
        f"(target {tuning['target_recall_at_10']}); search settings: {settings}"
    )


def _build_sharded(
    paths: list[Path],
    out_dir: Path,
    *,
    kind: str,
    memory_budget: int | None,
    flat_below: int,
    shard_rows: int,
    scheduler: str,
    workers: int | None,
    **options: Any,
) -> Any:
    """``index build --shard-rows``: an ivf index built from shards (toolkit.index.shards)."""
    from ..distributed.pool import check_scheduler
    from ..index.shards import build_sharded_index

    if kind not in ("auto", "ivf") or memory_budget is not None or flat_below != 50_000:
        raise click.UsageError(
            "--shard-rows builds an ivf index; --kind, --memory-budget and --flat-below do "
            "not apply"
        )
    try:
        check_scheduler(scheduler)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scheduler") from None
    folder = len(paths) == 1 and paths[0].is_dir()
    with progress_callback(
        "Reading embeddings", None if folder else archive_lengths(paths)
    ) as update:
        try:
            return build_sharded_index(
                [str(p) for p in paths],
                out_dir,
                scheduler=scheduler,
                workers=workers,
                shard_rows=shard_rows,
                limits=get_context().limits,
                progress=update,
                note=note,
                **options,
            )
        except ValueError as exc:  # no dask installed, no scheduler at that address
            raise click.ClickException(str(exc)) from None


def build_summary(index: Any) -> dict[str, Any]:
    """The parts of the sidecar a person wants after a build."""
    sidecar = index.sidecar
    return {
        "path": str(index.path),
        "kind": index.kind,
        "choice": sidecar.get("choice", ""),
        "metric": index.metric,
        "dimension": index.dimension,
        "count": len(index),
        "counts": sidecar.get("counts", {}),
        "params": sidecar.get("params", {}),
        "search_params": sidecar.get("search_params", {}),
        "tuning": {
            k: v for k, v in sidecar.get("tuning", {}).items() if k not in ("tried", "queries_from")
        },
        "estimated_index_bytes": sidecar.get("estimated_index_bytes"),
        "timings_s": sidecar.get("timings_s", {}),
    }


@index_group.command("add")
@click.argument("index_dir", type=INDEX_DIR)
@click.argument("archives", nargs=-1, required=True, type=ARCHIVE)
@click.option("--replace", is_flag=True, help="Overwrite indexed inputs whose embedding changed.")
@click.option("--skip-bad", is_flag=True, help="Skip NaN, zero or wrong-sized vectors (counted).")
@click.option("--force", is_flag=True, help="Replace an existing --report file.")
@report_option()
@json_option("Print the report as JSON.")
def add_command(
    index_dir: Path,
    archives: tuple[str, ...],
    replace: bool,
    skip_bad: bool,
    force: bool,
    report_path: Path | None,
    as_json: bool,
) -> None:
    """Add the inputs of ARCHIVES to the index in INDEX_DIR, without a rebuild.

    New ids are appended. An id already indexed with the same vector is left
    alone, so adding an archive twice changes nothing; with a different vector it
    is an error unless --replace. The search settings are re-tuned.

    \b
    Example:
        clarifai-archive index add my-index new-inputs.zip
        clarifai-archive index add my-index updated.zip --replace
    """
    from ..index import add_to_index

    paths = [resolve_archive(a) for a in archives]
    # The index is changed in place (the library checks the archives against it); the
    # report may land neither on an archive nor in the index folder.
    check_writes({"--report": report_path}, [index_dir, *paths], force=force)
    with progress_callback("Reading embeddings", archive_lengths(paths)) as update:
        report = add_to_index(
            index_dir,
            paths,
            replace=replace,
            skip_bad=skip_bad,
            limits=get_context().limits,
            progress=update,
        )
    write_report(report_path, report.to_dict())
    _echo_change(report, as_json)


@index_group.command("remove")
@click.argument("index_dir", type=INDEX_DIR)
@click.option("--id", "ids", multiple=True, metavar="INPUT_ID", help="Input to remove (repeat).")
@click.option(
    "--ids-from",
    type=click.File("r", encoding="utf-8"),
    help="A file of input ids to remove, one a line ('-' for stdin).",
)
@click.option("--missing-ok", is_flag=True, help="Ignore ids that are not in the index.")
@click.option("--force", is_flag=True, help="Replace an existing --report file.")
@report_option()
@json_option("Print the report as JSON.")
def remove_command(
    index_dir: Path,
    ids: tuple[str, ...],
    ids_from: Any,
    missing_ok: bool,
    force: bool,
    report_path: Path | None,
    as_json: bool,
) -> None:
    """Remove inputs from the index in INDEX_DIR, without a rebuild.

    \b
    Example:
        clarifai-archive index remove my-index --id img-0008 --id img-0018
        clarifai-archive index remove my-index --ids-from stale.txt
    """
    from ..index import remove_from_index

    wanted = list(ids)
    if ids_from is not None:
        wanted.extend(line.strip() for line in ids_from if line.strip())
    if not wanted:
        raise click.UsageError("give at least one --id (or --ids-from FILE)")
    check_writes({"--report": report_path}, [index_dir], force=force)
    report = remove_from_index(index_dir, wanted, missing_ok=missing_ok)
    write_report(report_path, report.to_dict())
    _echo_change(report, as_json)


def _echo_change(report: Any, as_json: bool) -> None:
    if as_json:
        echo_json(report.to_dict())
        return
    parts = [f"added {report.added}"]
    if report.replaced:
        parts.append(f"replaced {report.replaced}")
    if report.unchanged:
        parts.append(f"unchanged {report.unchanged}")
    parts.append(f"removed {report.removed}")
    if report.skipped_no_embedding or report.skipped_bad:
        parts.append(
            f"skipped {report.skipped_no_embedding} without embedding, {report.skipped_bad} bad"
        )
    line = ", ".join(parts) + f"; the index now holds {report.count} inputs"
    if report.recall_at_10 is not None:
        line += f" (recall@10 {report.recall_at_10:.3f})"
    click.echo(line)


@index_group.command("eval")
@click.argument("index_dir", type=INDEX_DIR)
@click.option(
    "--queries",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Queries sampled from the index.",
)
@click.option("--seed", type=int, default=12345, show_default=True, help="Seed for sampling.")
@json_option("Print the report as JSON.")
def eval_command(index_dir: Path, queries: int, seed: int, as_json: bool) -> None:
    """Measure recall@1/10/100 against exact search, and query latency p50/p99.

    Queries are inputs of the index (each left out of its own results, as search
    --like does); latency is one in-process query at a time.

    \b
    Example:
        clarifai-archive index eval my-index
        clarifai-archive index eval my-index --queries 500 --json
    """
    from ..index import SimilarityIndex, evaluate_index

    report = evaluate_index(SimilarityIndex.load(index_dir), queries=queries, seed=seed)
    if as_json:
        echo_json(report.to_dict())
        return
    settings = ", ".join(f"{k}={v}" for k, v in report.search_params.items()) or "exact"
    click.echo(
        f"index:    {report.kind}, {report.metric}, {report.count} vectors ({settings}, "
        f"{report.threads} threads)"
    )
    click.echo(f"queries:  {report.queries}")
    click.echo("recall:   " + ", ".join(f"@{k} {v:.4f}" for k, v in report.recall.items()))
    click.echo(
        f"latency:  p50 {report.latency_ms_p50:.3f} ms, p99 {report.latency_ms_p99:.3f} ms "
        f"(exact search p50 {report.exact_latency_ms_p50:.3f} ms, {report.speedup:.1f}x)"
    )


@index_group.command("info")
@click.argument("index_dir", type=INDEX_DIR)
@click.option("--verify", is_flag=True, help="Also check every file against its SHA-256.")
@json_option("Print the whole sidecar as JSON.")
def info_command(index_dir: Path, verify: bool, as_json: bool) -> None:
    """Describe the index in INDEX_DIR (after checking it against its files).

    \b
    Example:
        clarifai-archive index info my-index
        clarifai-archive index info my-index --verify --json
    """
    from ..index import SimilarityIndex

    index = SimilarityIndex.load(index_dir, verify=verify)
    if as_json:
        echo_json(index.sidecar)
        return
    summary = build_summary(index)
    counts = summary["counts"]
    click.echo(f"index:      {index.path}")
    click.echo(f"kind:       {index.kind} ({summary['choice']})")
    click.echo(f"metric:     {index.metric}, {index.dimension} dimensions")
    click.echo(
        f"inputs:     {len(index)} indexed of {counts.get('inputs_read', 0)} read "
        f"({counts.get('skipped_no_embedding', 0)} without embedding, "
        f"{counts.get('skipped_bad', 0)} bad)"
    )
    tuning = summary["tuning"]
    settings = ", ".join(f"{k}={v}" for k, v in summary["search_params"].items()) or "exact"
    click.echo(f"recall@10:  {tuning.get('recall_at_10')} (search settings: {settings})")
    for source in index.sources:
        if source.get("path") is None:
            click.echo(f"source:     arrays ({source.get('inputs', 0)} vectors)")
        else:
            click.echo(f"source:     {source['path']} (sha256 {source['sha256'][:12]}…)")
    if verify:
        click.echo("verified:   every file matches its checksum")
