"""Benchmark archives on a Dask cluster and an index built from shards (issue 15 targets).

1. Throughput: the single-process reader (``toolkit.open(...).record_batches()``, the
   Arrow table of ``convert --to parquet``, made into Arrow-backed pandas frames of a
   partition's size, as the workers make them) against ``toolkit.dask.read_archives`` on a
   ``distributed.LocalCluster`` of W one-thread workers (Dask's default worker
   environment), over the same archives, interleaved in the same run. Target: rows per
   second per worker >= 80% of the single process's. The CPU time of the single process
   and of the workers is printed too: on cores shared with other jobs, rows per CPU
   second compare the two where wall time cannot.
2. An index built from shards (``build_sharded_index`` on the same cluster): recall@10
   against the exact answer (numpy, in blocks) on held-out queries (target >= 0.95), and
   the peak RSS of each worker process (target: under 1 GB), and of this process.

Usage:
    python bench/bench_dask.py --archives 4 --inputs 25000 --workers 1 --skip-index  # here
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


def single_process(paths: list[Path], part_bytes: int) -> int:
    """Rows of the archives through the single-process Arrow reader, made into the same
    output as a partition's: an Arrow-backed pandas frame (``toolkit.dask.to_pandas``) of
    about ``part_bytes`` of rows at a time, all columns."""
    import pyarrow as pa

    import toolkit
    from toolkit.dask import to_pandas

    rows = 0
    for path in paths:
        with toolkit.open(path) as archive:
            reader = archive.record_batches()
            held: list[pa.RecordBatch] = []
            size = 0
            for batch in reader:
                held.append(batch)
                size += batch.nbytes
                if size >= part_bytes:
                    rows += len(to_pandas(pa.Table.from_batches(held, schema=reader.schema)))
                    held, size = [], 0
            if held:
                rows += len(to_pandas(pa.Table.from_batches(held, schema=reader.schema)))
    return rows


def on_cluster(client, paths: list[Path], part_bytes: int) -> int:
    """Rows of the archives read by the cluster's workers, all columns, as the pandas
    partitions of ``read_archives`` (only the counts come back)."""
    import toolkit.dask

    ddf = toolkit.dask.read_archives([str(p) for p in paths], part_bytes=part_bytes)
    return int(client.compute(ddf.map_partitions(len)).result().sum())


def cpu_seconds() -> float:
    """User + system CPU time of the calling process (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


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
    parser.add_argument(
        "--part-mb", type=float, default=64.0, help="MiB of batch entries a partition"
    )
    parser.add_argument("--skip-index", action="store_true")
    parser.add_argument(
        "--worker-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an environment variable of the workers, e.g. MALLOC_TRIM_THRESHOLD_=65536 "
        "(Dask's own setting; toolkit.distributed.malloc raises the mmap threshold it freezes "
        "while a part is read)",
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
    part_bytes = int(args.part_mb * 1024**2)
    with (
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: 8787 may be taken on a shared machine
            silence_logs=40,
            env=env,
        ) as cluster,
        Client(cluster) as client,
    ):
        on_cluster(client, paths[:1], part_bytes)  # warm the workers (imports)
        single_process(paths[:1], part_bytes)
        print(f"load average before: {loadavg()}")
        # Interleaved, so that a change of load on the machine hits both alike.
        single_times, cluster_times, single_cpu, cluster_cpu = [], [], [], []
        for run in range(args.runs):
            started, cpu = time.perf_counter(), cpu_seconds()
            assert single_process(paths, part_bytes) == total
            single_times.append(time.perf_counter() - started)
            single_cpu.append(cpu_seconds() - cpu)
            before = sum(client.run(cpu_seconds).values())
            started = time.perf_counter()
            assert on_cluster(client, paths, part_bytes) == total
            cluster_times.append(time.perf_counter() - started)
            cluster_cpu.append(sum(client.run(cpu_seconds).values()) - before)
            print(
                f"  run {run + 1}: single {single_times[-1]:.2f} s ({single_cpu[-1]:.2f} s CPU), "
                f"cluster {cluster_times[-1]:.2f} s ({cluster_cpu[-1]:.2f} s worker CPU), "
                f"load {loadavg()}"
            )
        single = statistics.median(single_times)
        single_rate = total / single
        elapsed = statistics.median(cluster_times)
        per_worker = total / elapsed / args.workers
        cpu_single = statistics.median(single_cpu)
        cpu_cluster = statistics.median(cluster_cpu)
        print(
            f"single process: {single:.2f} s, {single_rate:,.0f} rows/s; "
            f"{cpu_single:.2f} s CPU, {total / cpu_single:,.0f} rows per CPU second"
        )
        print(
            f"cluster of {args.workers}: {elapsed:.2f} s, {total / elapsed:,.0f} rows/s, "
            f"{per_worker:,.0f} rows/s per worker = {per_worker / single_rate:.2f} x the single "
            "process (target >= 0.80)"
        )
        print(
            f"  worker CPU: {cpu_cluster:.2f} s, {total / cpu_cluster:,.0f} rows per CPU second = "
            f"{cpu_single / cpu_cluster:.2f} x the single process's rate per CPU second "
            "(the per-worker figure on busy cores)"
        )
        print(f"load average after: {loadavg()}")
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
