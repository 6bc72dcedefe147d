"""``clarifai-archive search``, ``sort`` and ``duplicates``: use a similarity index."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import click

from ._common import (
    FINITE,
    MAX_SEARCH_SETTING,
    check_writes,
    echo_jsonl,
    get_context,
    json_option,
    report_option,
    write_report,
)
from ._criteria import criteria_options, pop_criteria
from ._flags import with_flags
from .index import INDEX_DIR, note, progress_callback


def _load_vectors(path: Path) -> Any:
    import numpy as np

    from ..errors import SchemaError

    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise SchemaError(f"{path}: not a readable .npy file ({exc})") from None
    if not isinstance(array, np.ndarray):  # a zip: .npz (or not numpy at all)
        array.close()
        raise SchemaError(f"{path}: a zip (.npz), not a .npy file; save the query with np.save")
    if array.ndim not in (1, 2) or array.dtype.kind not in "fiu" or not array.size:
        raise SchemaError(
            f"{path}: expected a vector (d,) or a matrix (q, d) of numbers, found {array.dtype} "
            f"{array.shape}"
        )
    return array


def index_sources(index: Any, *extra: Path | None) -> list[Path | None]:
    """What a command over ``index`` reads: its folder, the archives it indexed (for
    media) and ``extra`` paths (a media folder, a query vector)."""
    paths: list[Path | None] = [index.path, *extra]
    for source in index.sources:
        if isinstance(source, dict) and isinstance(source.get("path"), str):
            paths.append(Path(source["path"]))
    return paths


@click.command("search")
@click.argument("index_dir", type=INDEX_DIR)
@click.option(
    "--like",
    "like",
    multiple=True,
    metavar="INPUT_ID",
    help="Query with an indexed input (repeat).",
)
@click.option(
    "--vector",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Query with a vector file (.npy of shape (d,) or (q, d)).",
)
@click.option(
    "-k", "k", type=click.IntRange(min=1), default=10, show_default=True, help="Hits per query."
)
@click.option("--min-score", type=FINITE, help="Only hits scoring at least this much.")
@json_option("JSON Lines: rank, id, score (+ query).")
@click.option(
    "--sheet",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw a contact sheet PNG of each query and its hits.",
)
@click.option(
    "--html",
    "html_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a self-contained HTML gallery page.",
)
@click.option(
    "--media-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of media files named by input id (default: the indexed archives).",
)
@click.option(
    "--tile",
    type=click.IntRange(min=32, max=1024),
    default=160,
    show_default=True,
    help="Tile size of the sheet and gallery, in pixels.",
)
@click.option("--force", is_flag=True, help="Overwrite --sheet / --html / --report files.")
@report_option("Also write the hits as one JSON report to this file ('-' for stdout).")
@click.option(
    "--nprobe",
    type=click.IntRange(1, MAX_SEARCH_SETTING),
    help="Override the tuned IVF lists probed.",
)
@click.option(
    "--rerank",
    type=click.IntRange(1, MAX_SEARCH_SETTING),
    help="Override the re-ranking depth (x k).",
)
@click.option(
    "--ef-search",
    type=click.IntRange(1, MAX_SEARCH_SETTING),
    help="Override the tuned HNSW efSearch.",
)
@criteria_options(archive_option=True)
def search_command(
    index_dir: Path,
    like: tuple[str, ...],
    vector: Path | None,
    k: int,
    min_score: float | None,
    as_json: bool,
    sheet: Path | None,
    html_out: Path | None,
    media_dir: Path | None,
    tile: int,
    force: bool,
    report_path: Path | None,
    nprobe: int | None,
    rerank: int | None,
    ef_search: int | None,
    filter_archives: tuple[Path, ...],
    **filters: Any,
) -> None:
    """Find the inputs nearest to some inputs (--like) or vectors (--vector).

    Scores are cosine similarities (inner products for an index built with
    --metric ip, negated Euclidean distances for l2): higher is more similar. A
    --like query is left out of its own results. Several queries run as one batch.
    The filter options (--concept, --metadata, ... as in filter) choose the candidates
    first, from the archives the index was built from (or --archive): -k 5 --concept
    ball gives the 5 nearest inputs labelled ball.

    \b
    Example:
        clarifai-archive search my-index --like img-0007 -k 5
        clarifai-archive search my-index --like img-0007 -k 3 --concept ball
        clarifai-archive search my-index --like img-0007 --like img-0017 --json
        clarifai-archive search my-index --vector query.npy --min-score 0.8
        clarifai-archive search my-index --like img-0007 --sheet sheet.png --html sheet.html
    """
    from ..index import SheetRow, SimilarityIndex, gather_media, write_gallery, write_sheet
    from ..index.sheet import NOTE_PARAMS

    if bool(like) == bool(vector):
        raise click.UsageError("give --like INPUT_ID (one or more) or --vector FILE.npy, not both")
    if media_dir is not None and sheet is None and html_out is None:
        raise click.UsageError("--media-dir goes with --sheet or --html")
    index = SimilarityIndex.load(index_dir)
    check_writes(
        {"--sheet": sheet, "--html": html_out, "--report": report_path},
        index_sources(index, media_dir, vector),
        force=force,
    )
    where = _where(index, filters, filter_archives)
    labels: list[Any]
    if like:
        queries = list(dict.fromkeys(like))
        results = index.search_like(
            queries,
            k,
            min_score=min_score,
            nprobe=nprobe,
            rerank=rerank,
            ef_search=ef_search,
            where=where,
        )
        labels = queries
    else:
        assert vector is not None
        matrix = _load_vectors(vector)
        results = index.search(
            matrix,
            k,
            min_score=min_score,
            nprobe=nprobe,
            rerank=rerank,
            ef_search=ef_search,
            where=where,
        )
        labels = list(range(len(results)))
    several = len(results) > 1
    write_report(
        report_path,
        {
            "index": str(index.path),
            "queries": [
                {"query": label, "hits": [hit.to_dict() for hit in hits]}
                for label, hits in zip(labels, results, strict=True)
            ],
            "sheet": None if sheet is None else str(sheet),
            "html": None if html_out is None else str(html_out),
        },
    )
    if as_json:
        for label, hits in zip(labels, results, strict=True):
            for hit in hits:
                row = hit.to_dict()
                echo_jsonl({"query": label, **row} if several else row)
    else:
        for number, (label, hits) in enumerate(zip(labels, results, strict=True)):
            if several:
                if number:
                    click.echo("")
                click.echo(f"query {label}" if like else f"query vector {label}")
            _echo_table(hits)
    if sheet is not None or html_out is not None:
        rows = [
            SheetRow(str(label) if like else f"vector {label}", bool(like), hits)
            for label, hits in zip(labels, results, strict=True)
        ]
        media, notes = gather_media(
            rows, index=index, media_dir=media_dir, limits=get_context().limits
        )
        for text in notes:
            note(f"note: {with_flags(text, NOTE_PARAMS)}")
        limits = get_context().limits
        if sheet is not None:
            write_sheet(sheet, rows, media, tile=tile, force=True, limits=limits)
            note(f"wrote {sheet}")
        if html_out is not None:
            title = "Similar to " + ", ".join(r.query for r in rows)
            write_gallery(html_out, rows, media, tile=tile, title=title, force=True, limits=limits)
            note(f"wrote {html_out}")


def _where(index: Any, filters: dict[str, Any], archives: tuple[Path, ...]) -> Any:
    """The selection the filter options make on ``index`` (None without filter options)."""
    if archives and not filters_given(filters):
        raise click.UsageError("--archive goes with a filter option (--concept, --metadata, ...)")
    criteria = pop_criteria(filters)
    if criteria.is_empty:
        return None
    selection = index.select(criteria, archives=list(archives) or None, limits=get_context().limits)
    note(f"filter: {len(selection)} of {len(index)} indexed inputs match")
    return selection


def filters_given(filters: dict[str, Any]) -> bool:
    """True when any filter option was given."""
    return any(bool(value) for value in filters.values())


def _echo_table(hits: Any) -> None:
    if not hits:
        click.echo("(no hits)")
        return
    width = max(2, max(len(h.id) for h in hits))
    click.echo(f"{'rank':>4}  {'id':<{width}}  score")
    for hit in hits:
        click.echo(f"{hit.rank:>4}  {hit.id:<{width}}  {hit.score:.4f}")


@click.command("sort")
@click.argument("index_dir", type=INDEX_DIR)
@click.option("--like", metavar="INPUT_ID", help="Rank by similarity to this input.")
@click.option(
    "--vector",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Rank by similarity to this vector (.npy of shape (d,)).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path, allow_dash=True),
    default="-",
    show_default=True,
    help="JSON Lines file to write ('-' for stdout).",
)
@click.option("--force", is_flag=True, help="Overwrite the output or --report file.")
@report_option()
@json_option("JSON Lines (the only output of sort; accepted as by every command).")
@criteria_options(archive_option=True)
def sort_command(
    index_dir: Path,
    like: str | None,
    vector: Path | None,
    output: Path,
    force: bool,
    report_path: Path | None,
    as_json: bool,
    filter_archives: tuple[Path, ...],
    **filters: Any,
) -> None:
    """Rank the whole collection by exact similarity, as JSON Lines (rank, id, score).

    The --like input itself is left out. Output is streamed; a file is written
    under a temporary name and renamed when complete. The filter options (as in
    filter) rank only the matching inputs.

    \b
    Example:
        clarifai-archive sort my-index --like img-0007 | head -3
        clarifai-archive sort my-index --like img-0007 --concept ball --type image
        clarifai-archive sort my-index --like img-0007 -o ranked.jsonl
    """
    import orjson

    from .._atomic import atomic_file
    from ..errors import OutputError
    from ..index import SimilarityIndex

    if bool(like) == bool(vector):
        raise click.UsageError("give --like INPUT_ID or --vector FILE.npy, not both")
    to_stdout = str(output) == "-"
    if to_stdout and report_path is not None and str(report_path) == "-":
        raise click.UsageError("-o - and --report - would both write to standard output")
    index = SimilarityIndex.load(index_dir)
    check_writes({"-o": output, "--report": report_path}, index_sources(index, vector), force=force)
    where = _where(index, filters, filter_archives)
    if like:
        hits = index.rank_all(like, where=where)
    else:
        assert vector is not None
        matrix = _load_vectors(vector)
        if matrix.ndim == 2 and matrix.shape[0] != 1:
            raise click.UsageError("--vector for sort takes one vector (d,)")
        hits = index.rank_all(matrix.reshape(-1), where=where)

    def write(stream: IO[bytes]) -> None:
        buffer: list[bytes] = []
        for hit in hits:
            buffer.append(orjson.dumps(hit.to_dict()))
            if len(buffer) >= 4096:
                stream.write(b"\n".join(buffer) + b"\n")
                buffer.clear()
        if buffer:
            stream.write(b"\n".join(buffer) + b"\n")

    if to_stdout:

        class _Echo:
            def write(self, data: bytes) -> None:
                click.echo(data, nl=False)

        write(_Echo())  # type: ignore[arg-type]
    ranked = len(index) if where is None else len(where)
    if like and (where is None or index.row(like) in set(where.rows.tolist())):
        ranked -= 1
    if not to_stdout:
        try:
            with atomic_file(output) as tmp, open(tmp, "wb") as stream:
                write(stream)
        except OSError as exc:
            raise OutputError(f"{output}: cannot write ({exc.strerror or exc})") from None
        note(f"wrote {ranked} ranked inputs to {output}")
    write_report(report_path, {"index": str(index.path), "output": str(output), "ranked": ranked})


@click.command("duplicates")
@click.argument("index_dir", type=INDEX_DIR)
@click.option(
    "--threshold",
    type=FINITE,
    help="Least score of a duplicate pair (default 0.95 for cosine; required for ip and l2, "
    "where it is an inner product or a negated distance).",
)
@click.option(
    "--exact",
    is_flag=True,
    help="Score every pair, however many inputs (by default above 20,000 inputs each is "
    "compared with those of its nearest k-means cells, chosen for 95% pair recall).",
)
@click.option(
    "--scheduler",
    metavar="processes|threads|tcp://HOST:PORT",
    default=None,
    help="flat and ivf indexes: search the rows 100,000 at a time in parallel, on a local "
    "pool or a running Dask cluster (whose workers must see the index folder).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 1024),
    default=None,
    help="With --scheduler processes or threads: workers (default: one per CPU).",
)
@json_option("JSON Lines, one group a line.")
@criteria_options(archive_option=True)
def duplicates_command(
    index_dir: Path,
    threshold: float | None,
    exact: bool,
    scheduler: str | None,
    workers: int | None,
    as_json: bool,
    filter_archives: tuple[Path, ...],
    **filters: Any,
) -> None:
    """Groups of near-duplicate inputs, largest first.

    Every pair scoring at least the threshold is joined, and the groups are the
    connected components: if A~B and B~C, A, B and C are one group. Up to 20,000
    inputs (or with --exact) every pair is scored; above, each input is compared with
    the inputs of its nearest k-means cells, as many as reach 95% of the pairs.
    The filter options (as in filter) look among the matching inputs only.

    \b
    Example:
        clarifai-archive duplicates my-index
        clarifai-archive duplicates my-index --concept box --threshold 0.9
        clarifai-archive duplicates my-index --threshold 0.9 --json
        clarifai-archive duplicates huge-index --scheduler processes --workers 8
    """
    from ..index import DEFAULT_DUPLICATE_THRESHOLD, SimilarityIndex, find_duplicates

    index = SimilarityIndex.load(index_dir)
    if threshold is None and index.metric != "cosine":
        raise click.UsageError(
            f"the index uses metric {index.metric}: give --threshold (for l2 a negated distance, "
            "e.g. --threshold -0.1 for pairs within distance 0.1)"
        )
    value = DEFAULT_DUPLICATE_THRESHOLD if threshold is None else threshold
    where = _where(index, filters, filter_archives)
    if scheduler is None and workers is not None:
        raise click.UsageError("--workers applies to --scheduler")
    if scheduler is not None:
        if exact:
            raise click.UsageError("--exact does not apply with --scheduler")
        groups = _duplicates_sharded(index, value, scheduler, workers, where)
    else:
        with progress_callback("Comparing", len(index) if where is None else len(where)) as update:
            groups = find_duplicates(
                index, threshold=value, exact=exact or None, progress=update, where=where
            )
    if as_json:
        for number, group in enumerate(groups, start=1):
            echo_jsonl({"group": number, **group.to_dict()})
        return
    if not groups:
        click.echo(f"no near-duplicates at threshold {value}")
        return
    inputs = sum(g.size for g in groups)
    click.echo(f"{len(groups)} groups, {inputs} inputs (threshold {value}):")
    for number, group in enumerate(groups, start=1):
        scores = (
            f"{group.min_score:.4f}"
            if group.min_score == group.max_score
            else f"{group.min_score:.4f}-{group.max_score:.4f}"
        )
        click.echo(f"group {number}: {group.size} inputs, score {scores}: " + " ".join(group.ids))


def _duplicates_sharded(
    index: Any, threshold: float, scheduler: str, workers: int | None, where: Any
) -> list[Any]:
    """``duplicates --scheduler``: the rows searched by parallel workers (index.shards)."""
    from ..distributed.pool import check_scheduler
    from ..index.shards import find_duplicates_sharded

    if where is not None:
        raise click.UsageError("--scheduler looks among all inputs; leave out the filter options")
    if index.kind not in ("flat", "ivf"):
        raise click.UsageError(
            f"--scheduler needs a flat or ivf index; {index.path} is {index.kind}"
        )
    try:
        check_scheduler(scheduler)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scheduler") from None
    try:
        return find_duplicates_sharded(
            index.path, threshold=threshold, scheduler=scheduler, workers=workers
        )
    except ValueError as exc:  # no dask installed, no scheduler at that address
        raise click.ClickException(str(exc)) from None


# -- filter --like (the filter command lives in subset.py and calls these) ------------


def like_options() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The options ``filter`` takes to select inputs similar to chosen ones."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        func = click.option(
            "--index",
            "like_index",
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            help="--like: search this index (default: exact search over the archive's own "
            "embeddings).",
        )(func)
        func = click.option(
            "-k",
            "like_k",
            type=click.IntRange(min=1),
            help="--like: keep the k most similar inputs of each.",
        )(func)
        func = click.option(
            "--min-score",
            "like_min_score",
            type=FINITE,
            help="--like: keep inputs scoring at least this (cosine similarity by default).",
        )(func)
        func = click.option(
            "--like",
            "like",
            multiple=True,
            metavar="INPUT_ID",
            help="Keep inputs similar to this one, and it (repeat; with --min-score and/or -k).",
        )(func)
        return func

    return decorate


def narrow_by_similarity(
    criteria: Any,
    archive: Path,
    like: tuple[str, ...],
    like_k: int | None,
    like_min_score: float | None,
    like_index: Path | None,
) -> Any:
    """``criteria`` also requiring similarity to the ``--like`` inputs (unchanged without)."""
    if not like:
        if like_k is not None or like_min_score is not None or like_index is not None:
            raise click.UsageError("-k, --min-score and --index go with --like INPUT_ID")
        return criteria
    if like_k is None and like_min_score is None:
        raise click.UsageError("--like needs --min-score S, -k N or both")
    from ..index import similar_ids

    # The other criteria choose the candidates before the nearest are taken.
    found = similar_ids(
        like_index if like_index is not None else archive,
        like,
        k=like_k,
        min_score=like_min_score,
        include_queries=True,
        where=criteria,
        archive=archive,
        limits=get_context().limits,
    )
    note(f"--like: {len(found)} similar inputs (the --like inputs included)")
    return criteria.with_ids(found)
