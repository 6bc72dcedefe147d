"""An index built from shards, its inverted lists on disk: bigger than RAM, searched mapped.

How (as autofaiss does on Spark):

1. the embeddings are read (archives: in parallel, by the parts of
   :mod:`toolkit.distributed.parts`; or a Parquet dataset) into ``vectors.npy``;
2. the IVF coarse quantizer is trained on a sample (40 vectors a list);
3. workers (local processes or a Dask cluster) each add one shard of rows to a copy of
   the trained, empty index and write it to a shard file: a pure function of the row
   range, so a task run again writes the same file;
4. the shards' inverted lists are merged into one ``index.ivfdata`` file
   (``faiss.contrib.ondisk.merge_ondisk``, FAISS ``OnDiskInvertedLists``), which
   :class:`~toolkit.index.SimilarityIndex` memory-maps: the lists are never all in RAM.

The folder is an ordinary index folder (``kind`` ``ivf``) plus ``index.ivfdata``; the
sidecar says so under ``ondisk``. :func:`find_duplicates_sharded` looks for duplicates
one shard of rows per worker, against the whole merged index.

Example::

    index = build_sharded_index(["a.zip", "b.zip"], "big-index", shard_rows=250_000)
    groups = find_duplicates_sharded(index.path, threshold=0.95)
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from .._atomic import atomic_dir
from ..errors import SchemaError
from ..limits import DEFAULT_LIMITS, Limits
from . import _engine as engine
from ._collect import Collector
from ._ondisk import quiet_c_stdout
from ._store import (
    IDS_FILE,
    IVFDATA_FILE,
    SIDECAR_FILE,
    VECTORS_FILE,
    VectorWriter,
    file_record,
    open_vectors,
    sha256_file,
    write_ids,
    write_sidecar,
)
from .core import SimilarityIndex, _check_choice, _check_out_dir, _finish_folder, _sidecar
from .ops import DEFAULT_DUPLICATE_THRESHOLD, DuplicateGroup

__all__ = [
    "DEFAULT_SHARD_ROWS",
    "ShardTask",
    "add_shard",
    "build_sharded_index",
    "find_duplicates_sharded",
]

#: Rows a worker adds at a time: 100k x 512 floats is 200 MB of lists in its memory.
DEFAULT_SHARD_ROWS = 100_000
_SHARD_FOLDER = "shards"
_TRAINED_FILE = "trained.faiss"
_BLOCK = 16_384

Progress = Callable[[int], None]
Note = Callable[[str], None]


@dataclass(frozen=True)
class ShardTask:
    """Add rows ``[start, stop)`` of ``vectors`` to the trained index; write ``out``."""

    trained: str
    vectors: str
    start: int
    stop: int
    out: str


def add_shard(task: ShardTask) -> int:
    """Run one shard (in a worker): the rows get their row numbers as ids. The file is
    written under a temporary name and renamed, so a retried task leaves one whole file."""
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)  # one core per worker: the pool gives the parallelism
    try:
        index = faiss.read_index(task.trained)
        vectors = np.load(task.vectors, mmap_mode="r")
        for start in range(task.start, task.stop, _BLOCK):
            stop = min(start + _BLOCK, task.stop)
            block = np.ascontiguousarray(vectors[start:stop], dtype=np.float32)
            index.add_with_ids(block, np.arange(start, stop, dtype=np.int64))
        temporary = f"{task.out}.{os.getpid()}.tmp"
        faiss.write_index(index, temporary)
        os.replace(temporary, task.out)
        return int(index.ntotal)
    finally:
        faiss.omp_set_num_threads(threads)


# -- reading the embeddings ----------------------------------------------------------------


def _is_parquet_dataset(path: str) -> bool:
    folder = Path(path)
    return folder.is_dir() and any(folder.glob("*.parquet"))


def _feed_table(collector: Collector, table: Any, where: str) -> int:
    """Append the ``id`` and ``embedding`` columns of an Arrow table; the rows read."""
    import pyarrow as pa

    stats = collector.stats
    rows = int(table.num_rows)
    stats.inputs_read += rows
    column = table.column("embedding").combine_chunks()
    if not pa.types.is_fixed_size_list(column.type):  # no input has one
        stats.no_embedding += rows
        return rows
    have = column.is_valid().to_numpy(zero_copy_only=False)
    stats.no_embedding += int(rows - have.sum())
    if not have.any():
        return rows
    dim = column.type.list_size
    ids = table.column("id").to_pylist()
    kept = column.filter(pa.array(have)) if not have.all() else column
    block = np.asarray(kept.flatten().to_numpy(zero_copy_only=False), np.float32)
    stats.dimension_counts[dim] = stats.dimension_counts.get(dim, 0) + int(have.sum())
    collector.add_block(
        block.reshape(-1, dim), [i for i, ok in zip(ids, have, strict=True) if ok], where
    )
    return rows


def _sha256_any(source: str) -> str:
    """The SHA-256 of a local file or an fsspec URL, read in chunks."""
    from ..distributed.parts import is_url

    if not is_url(source) or source.startswith("file://"):
        return sha256_file(Path(source.removeprefix("file://")))
    import fsspec

    digest = hashlib.sha256()
    with fsspec.open(source, "rb") as stream:
        while chunk := stream.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _read_archives(
    sources: Sequence[str],
    collector: Collector,
    pool: Any,
    *,
    embedding: int,
    limits: Limits,
    progress: Progress | None,
    scratch: Path,
) -> list[dict[str, Any]]:
    """Read the archives' ids and embeddings in parallel parts, in order."""
    from ..distributed.parts import iter_part_tables, plan_parts
    from ..tabular.rows import RowOptions

    options = RowOptions(embedding=embedding, columns=("id", "embedding"))
    plan = plan_parts(sources, options, limits=limits)
    resolved = sorted({(p.archive, p.source) for p in plan.parts})
    read = dict.fromkeys(range(len(sources)), 0)
    indexed = dict.fromkeys(range(len(sources)), 0)
    tables = iter_part_tables(pool, plan.parts, scratch=scratch)
    for part, table in zip(plan.parts, tables, strict=True):
        before = collector.stats.indexed
        read[part.archive] += _feed_table(collector, table, part.source)
        indexed[part.archive] += collector.stats.indexed - before
        if progress is not None:
            progress(table.num_rows)
    names = dict(resolved)
    records = []
    for number, given in enumerate(sources):
        source = names.get(number, given)
        local = "://" not in source or source.startswith("file://")
        path = os.path.abspath(source.removeprefix("file://")) if local else source
        record: dict[str, Any] = {"path": path, "sha256": _sha256_any(source)}
        if local:
            record["bytes"] = Path(path).stat().st_size
        record.update(inputs=read[number], indexed=indexed[number])
        records.append(record)
    return records


def _read_parquet(
    folder: str, collector: Collector, *, progress: Progress | None
) -> list[dict[str, Any]]:
    """Read the ``id`` and ``embedding`` columns of a Parquet dataset (``convert --to
    parquet``'s folder), a row group at a time."""
    import pyarrow.dataset as ds

    dataset = ds.dataset(folder, format="parquet")
    missing = {"id", "embedding"} - set(dataset.schema.names)
    if missing:
        raise SchemaError(
            f"{folder}: the Parquet dataset has no {sorted(missing)[0]!r} column; index the "
            "folder 'clarifai-archive convert --to parquet' wrote"
        )
    digest = hashlib.sha256()
    files = sorted(dataset.files)
    size = 0
    for name in files:
        digest.update(sha256_file(Path(name)).encode())
        size += Path(name).stat().st_size
    rows = 0
    for batch in dataset.to_batches(columns=["id", "embedding"]):
        import pyarrow as pa

        rows += _feed_table(collector, pa.Table.from_batches([batch]), folder)
        if progress is not None:
            progress(batch.num_rows)
    return [
        {
            "path": os.path.abspath(folder),
            "kind": "parquet",
            # The SHA-256 of the files' SHA-256 (hex, in name order).
            "sha256": digest.hexdigest(),
            "bytes": size,
            "inputs": rows,
            "indexed": collector.stats.indexed,
        }
    ]


# -- building ------------------------------------------------------------------------------


def _train(
    vectors: np.ndarray, nlist: int, metric: str, train_rows: np.ndarray, seed: int
) -> faiss.Index:
    """An empty ``IVF{nlist},Flat`` index with its coarse quantizer trained on the rows."""
    d = vectors.shape[1]
    index = faiss.index_factory(d, f"IVF{nlist},Flat", engine.faiss_metric(metric))
    ivf = faiss.extract_index_ivf(index)
    ivf.cp.niter = 10
    ivf.cp.seed = seed
    ivf.cp.max_points_per_centroid = 256
    sample = np.ascontiguousarray(vectors[np.sort(train_rows)])
    clustering = faiss.Clustering(d, nlist, ivf.cp)
    clustering.train(sample, ivf.quantizer)
    ivf.quantizer.is_trained = True
    index.train(sample)
    return index


def build_sharded_index(
    sources: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    scheduler: str = "processes",
    workers: int | None = None,
    shard_rows: int = DEFAULT_SHARD_ROWS,
    metric: str = "cosine",
    nlist: int | None = None,
    embedding: int = 0,
    skip_bad: bool = False,
    target_recall: float = 0.95,
    seed: int = 0,
    force: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    progress: Progress | None = None,
    note: Note | None = None,
) -> SimilarityIndex:
    """Index the embeddings of archives (paths or fsspec URLs) or of one Parquet dataset
    folder, adding shards of ``shard_rows`` rows in parallel on ``scheduler``
    (``processes``, ``threads`` or a Dask scheduler address, whose workers must see
    ``out_dir``'s parent folder) and merging their lists into ``index.ivfdata``.

    The index is ``ivf`` (``IVF{nlist},Flat``; ``nlist`` by default the power of two
    nearest sqrt(n)); its search is tuned until recall@10 reaches ``target_recall``, as
    :func:`~toolkit.index.build_index` does. A worker holds one shard's lists (``shard_rows``
    x d x 4 bytes) and maps the vectors; the folder appears when complete.

    Example::

        index = build_sharded_index(["a.zip", "b.zip"], "big-index", workers=8)
    """
    from ..distributed.pool import WorkPool, check_scheduler

    _check_choice(metric, engine.METRICS, "metric")
    check_scheduler(scheduler)
    if shard_rows < 1 or embedding < 0 or (nlist is not None and nlist < 1):
        raise ValueError("shard_rows and nlist must be at least 1, embedding 0 or more")
    given = [os.fspath(s) for s in sources]
    if not given:
        raise ValueError("give at least one archive or a Parquet dataset folder")
    parquet = len(given) == 1 and _is_parquet_dataset(given[0])
    out = Path(out_dir)
    local = [Path(s) for s in given if "://" not in s and not parquet]
    _check_out_dir(out, local, force=force)
    threads = engine.configure_threads()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with WorkPool(scheduler, workers) as pool, atomic_dir(out) as tmp:
        writer = VectorWriter(tmp / VECTORS_FILE)
        collector = Collector(writer, metric=metric, embedding=embedding, skip_bad=skip_bad)
        try:
            if parquet:
                records = _read_parquet(given[0], collector, progress=progress)
            else:
                records = _read_archives(
                    given,
                    collector,
                    pool,
                    embedding=embedding,
                    limits=limits,
                    progress=progress,
                    scratch=tmp,
                )
            collector.check(local)
        except BaseException:
            writer.close()
            raise
        writer.finish()
        timings["read"] = time.perf_counter() - started
        n = writer.rows
        if n == 0:
            raise SchemaError(
                f"{', '.join(given)}: nothing to index (no input has embedding number "
                f"{embedding}); export the dataset version with embeddings included"
            )
        write_ids(tmp / IDS_FILE, collector.ids)
        vectors = open_vectors(tmp / VECTORS_FILE)
        dim = vectors.shape[1]
        lists = nlist or engine.choose_nlist(n)
        lists = max(1, min(lists, n))
        plan = engine.Plan(
            kind="ivf",
            factory=f"IVF{lists},Flat",
            estimated_bytes=engine.estimate_bytes("ivf", n, dim, nlist=lists),
            nlist=lists,
            reason=f"built from {-(-n // shard_rows)} shard(s), lists on disk",
        )
        query_rows = engine.tuning_queries(n, seed)
        mark = time.perf_counter()
        if note:
            note(f"{n} vectors of {dim} dimensions: training {plan.factory}")
        train_rows = engine.train_sample(n, lists, query_rows, seed)
        trained = _train(vectors, lists, metric, train_rows, seed)
        shard_dir = tmp / _SHARD_FOLDER
        shard_dir.mkdir()
        faiss.write_index(trained, str(shard_dir / _TRAINED_FILE))
        timings["train"] = time.perf_counter() - mark
        mark = time.perf_counter()
        tasks = [
            ShardTask(
                trained=str(shard_dir / _TRAINED_FILE),
                vectors=str(tmp / VECTORS_FILE),
                start=start,
                stop=min(start + shard_rows, n),
                out=str(shard_dir / f"shard-{number:05d}.faiss"),
            )
            for number, start in enumerate(range(0, n, shard_rows))
        ]
        if note:
            note(f"adding {len(tasks)} shard(s) of up to {shard_rows} vectors on {scheduler}")
        added = sum(pool.map(add_shard, tasks))
        if added != n:  # pragma: no cover - a worker wrote a short shard
            raise SchemaError(f"{out}: the shards hold {added} vectors, expected {n}")
        timings["add"] = time.perf_counter() - mark
        mark = time.perf_counter()
        from faiss.contrib.ondisk import merge_ondisk

        with quiet_c_stdout():  # FAISS prints the file's resizing
            merge_ondisk(trained, [t.out for t in tasks], str(tmp / IVFDATA_FILE))
        for task in tasks:
            os.unlink(task.out)
        os.unlink(shard_dir / _TRAINED_FILE)
        shard_dir.rmdir()
        timings["merge"] = time.perf_counter() - mark
        mark = time.perf_counter()
        if note:
            note(f"tuning the search for recall@10 >= {target_recall} on {len(query_rows)} queries")
        tuning = engine.tune(
            trained, "ivf", vectors, metric, query_rows, target=target_recall, nlist=lists
        )
        timings["tune"] = time.perf_counter() - mark
        sidecar = _sidecar(
            plan=plan,
            requested_kind="ivf",
            metric=metric,
            dimension=dim,
            count=n,
            embedding=embedding,
            memory_budget=None,
            target=target_recall,
            tuning=tuning,
            counts=collector.stats.as_counts(),
            sources=records,
            seed=seed,
            timings=timings,
        )
        sidecar["threads"] = threads
        sidecar["ondisk"] = {
            "ivfdata": IVFDATA_FILE,
            "shards": len(tasks),
            "shard_rows": shard_rows,
            "scheduler": "dask" if "://" in scheduler else scheduler,
            "workers": pool.width,
        }
        del vectors
        _finish_folder(tmp, sidecar, trained, writer.rows_sha256)
        del trained  # unmaps the lists before the folder moves
        sidecar["files"][IVFDATA_FILE] = file_record(tmp / IVFDATA_FILE)
        timings["total"] = time.perf_counter() - started
        sidecar["timings_s"] = {k: round(v, 3) for k, v in timings.items()}
        write_sidecar(tmp / SIDECAR_FILE, sidecar)
    return SimilarityIndex.load(out)


# -- duplicates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _PairsTask:
    folder: str
    start: int
    stop: int
    threshold: float


def shard_pairs(task: _PairsTask) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``(i, j, score)``, ``i < j``, scoring at least the threshold, for the rows
    ``[start, stop)`` searched against the whole index (in a worker; it maps the index)."""
    faiss.omp_set_num_threads(1)
    index = SimilarityIndex.load(task.folder)
    metric = index.metric
    if metric == "l2":
        if task.threshold > 0:
            empty = np.empty(0, np.int64)
            return empty, empty, np.empty(0, np.float64)
        radius = float(task.threshold) ** 2 * (1 + 1e-6) + 1e-12
    else:
        radius = float(task.threshold) - 1e-6
    params = engine.ivf_params(max(1, index.search_params.nprobe)) if index.kind == "ivf" else None
    found_a, found_b, found_s = [], [], []
    for start in range(task.start, task.stop, _BLOCK):
        stop = min(start + _BLOCK, task.stop)
        block = np.ascontiguousarray(index.vectors[start:stop], dtype=np.float32)
        if params is not None:
            lims, distances, labels = index.faiss_index.range_search(block, radius, params=params)
        else:
            lims, distances, labels = index.faiss_index.range_search(block, radius)
        queries = np.repeat(np.arange(start, stop), np.diff(lims).astype(np.int64))
        scores = engine.to_scores(distances, metric)
        keep = (labels > queries) & (scores >= task.threshold)
        found_a.append(queries[keep])
        found_b.append(labels[keep].astype(np.int64))
        found_s.append(scores[keep].astype(np.float64))
    return np.concatenate(found_a), np.concatenate(found_b), np.concatenate(found_s)


def _groups(
    ids: Sequence[str], pairs: Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]
) -> list[DuplicateGroup]:
    """Connected components of the pairs (union-find), largest first, then the closest."""
    n = len(ids)
    parent = np.arange(n)

    def find(a: int) -> int:
        root = a
        while parent[root] != root:
            root = parent[root]
        while parent[a] != root:
            parent[a], a = root, parent[a]
        return root

    low: dict[int, float] = {}
    high: dict[int, float] = {}
    edges: list[tuple[int, float]] = []
    for a, b, scores in pairs:
        for i, j, score in zip(a.tolist(), b.tolist(), scores.tolist(), strict=True):
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
            edges.append((i, score))
    if not edges:
        return []
    members: dict[int, list[int]] = {}
    for row in range(n):
        members.setdefault(find(row), []).append(row)
    for row, score in edges:
        root = find(row)
        low[root] = min(low.get(root, score), score)
        high[root] = max(high.get(root, score), score)
    groups = [
        DuplicateGroup(tuple(ids[r] for r in rows), low[root], high[root])
        for root, rows in members.items()
        if len(rows) > 1
    ]
    groups.sort(key=lambda g: (-g.size, -round(g.max_score, 5), g.ids[0]))
    return groups


def find_duplicates_sharded(
    folder: str | os.PathLike[str],
    *,
    threshold: float | None = None,
    scheduler: str = "processes",
    workers: int | None = None,
    shard_rows: int = DEFAULT_SHARD_ROWS,
) -> list[DuplicateGroup]:
    """Groups of near-duplicate inputs of the index in ``folder``, as
    :func:`~toolkit.index.find_duplicates` finds them on a ``flat`` or ``ivf`` index (a
    range search over the probed lists), with the rows searched ``shard_rows`` at a time
    by parallel workers that each map the index.

    Example::

        groups = find_duplicates_sharded("big-index", threshold=0.95, workers=8)
    """
    from ..distributed.pool import WorkPool

    index = SimilarityIndex.load(folder)
    if index.kind not in ("flat", "ivf"):
        raise ValueError(
            f"{folder}: a {index.kind} index; duplicates by shard need a flat or ivf index "
            "(index build --shards builds one)"
        )
    if threshold is None:
        if index.metric != "cosine":
            raise ValueError(f"the index uses metric {index.metric!r}: give a threshold")
        threshold = DEFAULT_DUPLICATE_THRESHOLD
    n = len(index)
    tasks = [
        _PairsTask(str(index.path), start, min(start + shard_rows, n), float(threshold))
        for start in range(0, n, shard_rows)
    ]
    with WorkPool(scheduler, workers) as pool:
        return _groups(index.ids, pool.map(shard_pairs, tasks))
