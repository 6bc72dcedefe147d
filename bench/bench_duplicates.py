"""Benchmark ``duplicates``: the whole command's time and its pair recall against exact search.

Data (seeded, L2-normalised, n x d float32), each with planted near-duplicates: 2% of
the rows are copies of other rows plus noise (cosine 0.96-0.995 to the original), and
1% more are copies at cosine 0.93-0.95 (just under the default threshold):

- ``unstructured``: isotropic Gaussian vectors (no structure at all);
- ``clustered``: n/100 random centres, each row a centre plus noise (cosine ~0.5 to
  its centre), so the rows come in tight groups;
- ``decaying``: the decaying-spectrum vectors of bench_index.py (std of component i is
  (1 + i)^-0.75 in a random rotation).

Measured:
- the index build (``build_index_from_arrays``, ``--kind``, default auto), once;
- ``clarifai-archive -q duplicates INDEX --json`` as a subprocess (interpreter start and
  index loading included), median of ``--runs``: wall time, and CPU time (user + system
  of all its threads; on a shared machine, CPU / cores is what a quiet one would take);
- pair recall against exact search: ``--recall-rows`` rows drawn with the seed are
  scored exactly against every row; recall = pairs above the threshold touching those
  rows that the command found, over all such pairs;
- baseline in the same run: the exact all-pairs scan (the way a flat range search
  works) timed on those drawn rows and scaled to n rows (n / rows x its time / 2, as
  each pair is scored once), and, where n <= --exact-max, ``duplicates --exact`` run
  whole.

Usage:
    python bench/bench_duplicates.py --n 200000 --data unstructured clustered
    python bench/bench_duplicates.py --n 1000000 --data unstructured clustered decaying
    python bench/bench_duplicates.py --n 1000000 --kind flat   # quick build; same pairs

The pairs come from the stored vectors whatever the index kind; ``--kind flat`` skips
the tuning (at 1M unstructured rows ``auto`` builds and times HNSW graphs for minutes)
and makes the command load the largest index file (every vector again).

Results are printed and written to bench/_results/duplicates.json; the data and
indexes go to bench/_data/ (git-ignored) and are deleted unless --keep-data.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit.index import build_index_from_arrays  # noqa: E402

DATA = ROOT / "bench" / "_data"
RESULTS = ROOT / "bench" / "_results"
CLI = [sys.executable, "-m", "toolkit"]
SEED = 20261204
BLOCK = 65536


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}/{fifteen:.2f} on {os.cpu_count()} cores"


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def generate(kind: str, n: int, d: int) -> np.ndarray:
    """Seeded vectors of one kind with planted near-duplicates (in memory, n x d float32)."""
    rng = np.random.default_rng([SEED, n, d])
    out = np.empty((n, d), dtype=np.float32)
    if kind == "clustered":
        centres = _unit(rng.standard_normal((max(1, n // 100), d), dtype=np.float32))
    elif kind == "decaying":
        rotation, _ = np.linalg.qr(rng.standard_normal((d, d)))
        mix = (((np.arange(d) + 1.0) ** -0.75)[:, None] * rotation).astype(np.float32)
    for start in range(0, n, BLOCK):
        m = min(BLOCK, n - start)
        x = rng.standard_normal((m, d), dtype=np.float32)
        if kind == "clustered":
            picked = centres[rng.integers(0, len(centres), m)]
            x = picked + _unit(x) * 1.7  # cosine ~0.5 to the centre
        elif kind == "decaying":
            x = x @ mix + 0.01 * rng.standard_normal((m, d), dtype=np.float32)
        out[start : start + m] = _unit(x)
    # Planted copies: 2% above the threshold, 1% just under it.
    for fraction, low, high in ((0.02, 0.96, 0.995), (0.01, 0.93, 0.95)):
        count = int(n * fraction)
        copies = rng.choice(n, size=count, replace=False)
        sources = rng.choice(n, size=count, replace=False)
        target = rng.uniform(low, high, count).astype(np.float32)[:, None]
        noise = rng.standard_normal((count, d), dtype=np.float32)
        base = out[sources]
        noise -= (noise * base).sum(axis=1, keepdims=True) * base
        out[copies] = _unit(target * base + np.sqrt(1 - target**2) * _unit(noise))
    return out


def exact_pairs_of(x: np.ndarray, drawn: np.ndarray, threshold: float) -> set[tuple[int, int]]:
    """Pairs (i < j) above the threshold that touch the drawn rows, by exact search."""
    found: set[tuple[int, int]] = set()
    queries = x[drawn]
    for start in range(0, len(x), BLOCK):
        scores = queries @ x[start : start + BLOCK].T
        qi, mi = np.nonzero(scores >= threshold)
        for a, b in zip(drawn[qi].tolist(), (mi + start).tolist(), strict=True):
            if a != b:
                found.add((min(a, b), max(a, b)))
    return found


def timed(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system, all threads) and stdout of a command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if result.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return elapsed, cpu, result.stdout


def pairs_in(groups_jsonl: str, row_of: dict[str, int], drawn: set[int]) -> set[tuple[int, int]]:
    """Pairs touching the drawn rows that share a group (groups are connected components:
    two rows of one group are joined through found pairs; compared with exact pairs below,
    a pair counts as found when both rows share a group)."""
    out: set[tuple[int, int]] = set()
    for line in groups_jsonl.splitlines():
        rows = [row_of[i] for i in json.loads(line)["ids"]]
        inside = [r for r in rows if r in drawn]
        for a in inside:
            for b in rows:
                if a != b:
                    out.add((min(a, b), max(a, b)))
    return out


def run_one(kind: str, args: argparse.Namespace) -> dict[str, object]:
    n, d = args.n, args.d
    started = time.perf_counter()
    x = generate(kind, n, d)
    print(f"[{kind}] data ready in {time.perf_counter() - started:.1f} s; {load()}", flush=True)
    ids = [f"e{i:07d}" for i in range(n)]
    row_of = {input_id: i for i, input_id in enumerate(ids)}
    folder = DATA / f"dup-{kind}-{n}x{d}"
    started = time.perf_counter()
    index = build_index_from_arrays(x, ids, folder, kind=args.kind, force=True)
    build_s = time.perf_counter() - started
    print(f"[{kind}] index {index.kind} built in {build_s:.1f} s", flush=True)
    result: dict[str, object] = {"data": kind, "index_kind": index.kind, "build_s": build_s}
    del index

    times, cpus = [], []
    stdout = ""
    for _ in range(args.runs):
        elapsed, cpu, stdout = timed([*CLI, "-q", "duplicates", str(folder), "--json"])
        times.append(elapsed)
        cpus.append(cpu)
    cores = len(os.sched_getaffinity(0))
    result["duplicates_s_runs"] = times
    result["duplicates_cpu_s_runs"] = cpus
    result["duplicates_s_p50"] = statistics.median(times)
    result["duplicates_cpu_s_p50"] = statistics.median(cpus)
    # On a shared machine the wall time follows the load; a quiet one with these cores
    # takes about the CPU time over the cores (the work is parallel but for a few seconds).
    result["cpu_s_over_cores"] = statistics.median(cpus) / cores
    result["cores"] = cores
    result["load_after"] = load()
    result["groups"] = len(stdout.splitlines())
    print(f"[{kind}] duplicates: {statistics.median(times):.1f} s wall, "
          f"{statistics.median(cpus):.1f} s CPU = {statistics.median(cpus) / cores:.1f} s over "
          f"{cores} cores (runs {[round(t, 1) for t in times]}); "
          f"{result['groups']} groups; {load()}", flush=True)  # fmt: skip

    rng = np.random.default_rng(SEED + 1)
    drawn = np.sort(rng.choice(n, size=min(n, args.recall_rows), replace=False))
    started = time.perf_counter()
    truth = exact_pairs_of(x, drawn, args.threshold)
    exact_s = time.perf_counter() - started
    found = pairs_in(stdout, row_of, set(drawn.tolist()))
    hits = len(truth & found)
    recall = hits / len(truth) if truth else 1.0
    extra = len(found - truth)
    result.update(
        recall_rows=len(drawn),
        exact_pairs_touching_rows=len(truth),
        pair_recall=recall,
        same_group_not_a_pair=extra,
        exact_scan_s_for_rows=exact_s,
        exact_all_pairs_s_estimate=exact_s * n / len(drawn) / 2,
    )
    print(f"[{kind}] pair recall {recall:.4f} ({hits} of {len(truth)} pairs touching "
          f"{len(drawn)} drawn rows); exact all-pairs estimate "
          f"{exact_s * n / len(drawn) / 2:.0f} s", flush=True)  # fmt: skip
    if n <= args.exact_max:
        elapsed, _cpu, exact_out = timed(
            [*CLI, "-q", "duplicates", str(folder), "--json", "--exact"]
        )
        result["duplicates_exact_s"] = elapsed
        result["same_groups_as_exact"] = exact_out == stdout
        print(f"[{kind}] duplicates --exact: {elapsed:.1f} s; same output: "
              f"{exact_out == stdout}", flush=True)  # fmt: skip
    if not args.keep_data:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--d", type=int, default=512)
    parser.add_argument(
        "--data", nargs="+", default=["unstructured", "clustered"],
        choices=["unstructured", "clustered", "decaying"],
    )  # fmt: skip
    parser.add_argument("--kind", default="auto", help="index kind to build (default auto)")
    parser.add_argument("--threshold", type=float, default=0.95)
    parser.add_argument("--runs", type=int, default=1, help="duplicates runs (median)")
    parser.add_argument("--recall-rows", type=int, default=2000)
    parser.add_argument("--exact-max", type=int, default=50_000, help="run --exact up to n")
    parser.add_argument("--keep-data", action="store_true")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    print(f"# bench_duplicates: {args.n} x {args.d}, {args.data}; {load()}", flush=True)
    results = {
        "n": args.n,
        "d": args.d,
        "threshold": args.threshold,
        "cpu_count": os.cpu_count(),
        "runs": [run_one(kind, args) for kind in args.data],
        "end": load(),
    }
    (RESULTS / "duplicates.json").write_text(json.dumps(results, indent=2))
    print("# targets (2 cores): 200k x 512 <= 30 s, 1M x 512 <= 180 s, pair recall >= 0.95")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
