"""Benchmark archives on a Dask cluster and an index built from shards (issue 15 targets).

1. Throughput: the single-process reader (``toolkit.open(...).record_batches()``, the
   Arrow table of ``convert --to parquet``) against ``toolkit.dask.read_archives`` on a
   ``distributed.LocalCluster`` of W one-thread workers, over the same archives, in the
   same run. Target: rows per second per worker >= 80% of the single process's.
2. An index built from shards (``build_sharded_index`` on the same cluster): recall@10
   against the exact answer (numpy, in blocks) on held-out queries (target >= 0.95), and
   the peak RSS of each worker process (target: under 1 GB), and of this process.

Usage:
    python bench/bench_dask.py --archives 4 --inputs 25000 --workers 2          # here
    python bench/bench_dask.py --archives 8 --inputs 250000 --dim 512 --workers 8 \\
        --shard-rows 100000                                                   # the issue's size
Archives are generated (seeded, vectors with a decaying spectrum like real embeddings)
under bench/_data/ and reused. Medians of --runs runs.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit._wire import encode_field as _field  # noqa: E402
from toolkit._wire import encode_varint as _varint  # noqa: E402
from toolkit.archive import ArchiveWriter  # noqa: E402

DATA = ROOT / "bench" / "_data"


def realistic_block(rng: np.random.Generator, mix: np.ndarray, n: int) -> np.ndarray:
    """``n`` vectors: Gaussian samples through a fixed mixing matrix (a decaying spectrum
    in a random rotation) plus a little noise, as real embeddings look."""
    d = mix.shape[0]
    samples = rng.standard_normal((n, d), dtype=np.float32)
    return (samples @ mix + 0.01 * rng.standard_normal((n, d), dtype=np.float32)).astype(np.float32)


def mixing(d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rotation, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return ((np.arange(d) + 1.0) ** -0.75)[:, None] * rotation


def make_archive(path: Path, count: int, dim: int, number: int) -> Path:
    """An archive of ``count`` inputs (id, a concept, one embedding), written as wire bytes."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1000 + number)
    mix = mixing(dim).astype(np.float32)
    one = b"\x1d" + np.float32(1).tobytes()
    concept = _field(3, _field(1, b"thing") + _field(2, b"Thing") + one)
    tmp = path.with_suffix(".tmp")
    with ArchiveWriter(tmp, batch_size=128) as writer:
        for start in range(0, count, 8192):
            block = realistic_block(rng, mix, min(8192, count - start))
            for offset, vector in enumerate(block):
                embedding = _field(1, vector.tobytes()) + b"\x10" + _varint(dim)
                input_id = f"a{number}-{start + offset:07d}".encode()
                writer.add_serialized(
                    _field(1, input_id) + _field(2, concept + _field(9, embedding))
                )
    tmp.rename(path)
    return path


def single_process(paths: list[Path]) -> int:
    """Rows of the archives through the single-process Arrow reader."""
    import toolkit

    rows = 0
    for path in paths:
        with toolkit.open(path) as archive:
            for batch in archive.record_batches():
                rows += batch.num_rows
    return rows


def on_cluster(client, paths: list[Path]) -> int:
    """Rows of the archives read by the cluster's workers (only the counts come back)."""
    import toolkit.dask

    ddf = toolkit.dask.read_archives([str(p) for p in paths])
    return int(client.compute(ddf.map_partitions(len)).result().sum())


def peak_rss_mb() -> float:
    """Peak RSS of the calling process, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def exact_top10(vectors: np.ndarray, queries: np.ndarray, block: int = 131072) -> np.ndarray:
    """The exact top 10 rows by inner product, over a memory-mapped matrix in blocks."""
    best_scores = np.full((len(queries), 10), -np.inf, dtype=np.float64)
    best_rows = np.zeros((len(queries), 10), dtype=np.int64)
    q = queries.astype(np.float64)
    for start in range(0, vectors.shape[0], block):
        scores = q @ np.asarray(vectors[start : start + block], dtype=np.float64).T
        rows = np.arange(start, start + scores.shape[1])
        joined = np.concatenate([best_scores, scores], axis=1)
        joined_rows = np.concatenate([best_rows, np.broadcast_to(rows, scores.shape)], axis=1)
        top = np.argsort(-joined, axis=1)[:, :10]
        best_scores = np.take_along_axis(joined, top, axis=1)
        best_rows = np.take_along_axis(joined_rows, top, axis=1)
    return best_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archives", type=int, default=4)
    parser.add_argument("--inputs", type=int, default=25_000, help="inputs per archive")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shard-rows", type=int, default=25_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--skip-index", action="store_true")
    parser.add_argument(
        "--worker-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an environment variable of the workers, e.g. MALLOC_MMAP_THRESHOLD_=33554432 "
        "(Dask sets MALLOC_TRIM_THRESHOLD_=65536, which also stops glibc from raising its mmap "
        "threshold: every buffer over 128 kB is then mapped and faulted in anew)",
    )
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    paths = [
        make_archive(DATA / f"dask-{args.inputs}x{args.dim}-{i}.zip", args.inputs, args.dim, i)
        for i in range(args.archives)
    ]
    total = args.archives * args.inputs
    size = sum(p.stat().st_size for p in paths) / 1e6
    print(f"{args.archives} archives x {args.inputs} inputs x {args.dim} floats ({size:.0f} MB)")

    env = dict(item.split("=", 1) for item in args.worker_env)
    if env:
        print("worker environment: " + " ".join(f"{k}={v}" for k, v in env.items()))
    with (
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
            env=env,
        ) as cluster,
        Client(cluster) as client,
    ):
        on_cluster(client, paths[:1])  # warm the workers (imports)
        single_process(paths[:1])
        # Interleaved, so that a change of load on the machine hits both alike.
        single_times, cluster_times = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            assert single_process(paths) == total
            single_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            assert on_cluster(client, paths) == total
            cluster_times.append(time.perf_counter() - started)
        single = statistics.median(single_times)
        single_rate = total / single
        elapsed = statistics.median(cluster_times)
        per_worker = total / elapsed / args.workers
        print(f"single process: {single:.2f} s, {single_rate:,.0f} rows/s")
        print(
            f"cluster of {args.workers}: {elapsed:.2f} s, {total / elapsed:,.0f} rows/s, "
            f"{per_worker:,.0f} rows/s per worker = {per_worker / single_rate:.2f} x the single "
            "process (target >= 0.80)"
        )
        if args.skip_index:
            return
        client.restart()  # fresh worker processes: their peak RSS is the index build's
        from toolkit.index import SimilarityIndex
        from toolkit.index.shards import build_sharded_index

        folder = Path(tempfile.mkdtemp(prefix="bench-dask-", dir=DATA))
        try:
            started = time.perf_counter()
            index = build_sharded_index(
                paths,
                folder / "index",
                scheduler=cluster.scheduler_address,
                shard_rows=args.shard_rows,
            )
            built = time.perf_counter() - started
            peaks = client.run(peak_rss_mb)
            timings = index.sidecar["timings_s"]
            print(
                f"index from {index.sidecar['ondisk']['shards']} shards: {built:.1f} s "
                f"(read {timings['read']:.1f}, train {timings['train']:.1f}, add "
                f"{timings['add']:.1f}, merge {timings['merge']:.1f}, tune {timings['tune']:.1f}); "
                f"{index.sidecar['params']['factory']}, nprobe {index.search_params.nprobe}"
            )
            print(
                "peak RSS per worker: "
                + ", ".join(f"{v:.0f} MB" for v in peaks.values())
                + f" (target < 1024); this process: {peak_rss_mb():.0f} MB"
            )
            del index
            index = SimilarityIndex.load(folder / "index")
            rng = np.random.default_rng(7)
            mix = mixing(args.dim).astype(np.float32)
            queries = realistic_block(rng, mix, args.queries)
            queries /= np.linalg.norm(queries, axis=1, keepdims=True)
            truth = exact_top10(index.vectors, queries)
            hits = index.search(queries, k=10)
            rows = index._row_map()
            found = sum(
                len(set(row.tolist()) & {rows[h.id] for h in got})
                for row, got in zip(truth, hits, strict=True)
            )
            print(
                f"recall@10 on {args.queries} new queries against numpy's exact answer: "
                f"{found / (10 * args.queries):.3f} (target >= 0.95; tuned on held-out rows: "
                f"{index.sidecar['tuning']['recall_at_10']:.3f})"
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
