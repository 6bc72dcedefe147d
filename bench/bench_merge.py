"""Benchmark: merging archives against a bare parse loop, and peak memory.

Targets (issue 4):
- merging two 100k-input archives with 512-d embeddings (disjoint ids) takes at most
  2x the time of a bare parse loop over both (``zipfile`` + ``InputBatch.FromString``),
  measured in the same run;
- peak memory (RSS) for merging two 1M-input archives stays under 500 MB.

Usage::

    python bench/bench_merge.py                      # 2 x 100k x 512-d, and 2 x 1M small
    python bench/bench_merge.py --n 20000 --big 0    # quick

Generated archives go to ``bench/_data/merge/`` (git-ignored) and are reused; ``--clean``
removes them at the end. Times are medians of ``--runs`` runs; each merge's peak RSS
is measured in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit._wire import encode_field as _field  # noqa: E402
from toolkit._wire import encode_varint as _varint  # noqa: E402
from toolkit.archive import ArchiveWriter  # noqa: E402
from toolkit.messages import Input, InputBatch  # noqa: E402

DATA = ROOT / "bench" / "_data" / "merge"


# -- data -------------------------------------------------------------------------------


def make_archive(path: Path, n: int, prefix: str, dim: int, seed: int, width: int = 640) -> None:
    """``n`` inputs like a hosted export: hosted image URL, size, a concept and, with
    ``dim``, one embedding. Wire bytes are assembled directly (fast); the first input is
    checked against the generated classes."""
    if path.exists():
        return
    rng = np.random.default_rng(seed)
    template = Input()
    template.data.image.hosted.prefix = "https://data.clarifai.com"
    template.data.image.hosted.sizes.extend(["orig", "small"])
    template.data.image.image_info.width = width
    template.data.image.image_info.height = 480
    template.data.concepts.add(id="cat", name="Cat", value=1.0)
    block = rng.standard_normal((4096, dim), dtype=np.float32) if dim else None
    tmp = path.with_suffix(".partial")
    with ArchiveWriter(tmp, batch_size=128) as writer:
        for i in range(n):
            record_id = f"{prefix}-{i:08d}"
            template.id = record_id
            template.data.image.hosted.suffix = f"users/u/apps/a/inputs/image/{prefix}{i:024x}"
            head = template.SerializeToString()
            if block is not None:
                vector = block[i % 4096]
                vector[0] = i  # every vector differs
                embedding = _field(1, vector.tobytes()) + b"\x10" + _varint(dim)
                # Data is field 2 of Input: append the embedding (field 9) to it.
                check = Input.FromString(head)
                data = check.data.SerializeToString() + _field(9, embedding)
                wire = _field(1, record_id.encode()) + _field(2, data)
            else:
                wire = head
            if i == 0:
                parsed = Input.FromString(wire)
                assert parsed.id == record_id
                if block is not None:
                    assert len(parsed.data.embeddings[0].vector) == dim
            writer.add_serialized(wire)
    os.replace(tmp, path)


# -- measurements -------------------------------------------------------------------------


def bare_parse(paths: list[Path]) -> int:
    """The baseline: every batch through zipfile and InputBatch.FromString."""
    n = 0
    for path in paths:
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name == "mimetype":
                    continue
                n += len(InputBatch.FromString(zf.read(name)).inputs)
    return n


def raw_write(path: Path, size: int) -> None:
    """Write ``size`` bytes to a new file, 4 MiB at a time: the floor for any output."""
    block = b"\0" * (4 << 20)
    with open(path, "wb") as out:
        left = size
        while left > 0:
            out.write(block[: min(left, len(block))])
            left -= len(block)


def timed(func, *args) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of this thread, CPU seconds of the other threads)."""
    wall, cpu, main = time.perf_counter(), time.process_time(), time.thread_time()
    func(*args)
    main = time.thread_time() - main
    cpu = time.process_time() - cpu
    return time.perf_counter() - wall, main, max(cpu - main, 0.0)


_CHILD = """
import json, resource, sys, time
from toolkit.merge import merge_archives
args = json.loads(sys.argv[1])
start = time.perf_counter()
report = None
if args["sources"]:
    report = merge_archives(args["sources"], args["output"], on_conflict=args["policy"])
elapsed = time.perf_counter() - start
print(json.dumps({
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "seconds": elapsed,
    "added": report.added if report else 0,
    "identical": len(report.identical) if report else 0,
}))
"""


def child_merge(sources: list[Path], output: Path, policy: str = "error") -> dict:
    """Merge in a fresh process: its peak RSS and time (no sources: the import cost)."""
    args = json.dumps(
        {"sources": [str(s) for s in sources], "output": str(output), "policy": policy}
    )
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, args],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    output.unlink(missing_ok=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="inputs per archive (speed)")
    parser.add_argument("--dim", type=int, default=512, help="embedding dimension")
    parser.add_argument("--runs", type=int, default=5, help="runs per timing (median)")
    parser.add_argument(
        "--big", type=int, default=1_000_000, help="inputs per archive for the memory run (0: skip)"
    )
    parser.add_argument("--clean", action="store_true", help="delete the generated data")
    parser.add_argument("--no-shm", action="store_true", help="skip the run with output on tmpfs")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {}

    a = DATA / f"a-{args.n}x{args.dim}.zip"
    b = DATA / f"b-{args.n}x{args.dim}.zip"
    t0 = time.perf_counter()
    make_archive(a, args.n, "a", args.dim, seed=1)
    make_archive(b, args.n, "b", args.dim, seed=2)
    print(
        f"data: 2 x {args.n} inputs, {args.dim}-d, {a.stat().st_size / 1e6:.0f} MB each "
        f"(ready in {time.perf_counter() - t0:.1f} s)"
    )

    from toolkit.merge import merge_archives

    assert bare_parse([a, b]) == 2 * args.n
    outputs = [("disk", DATA)]
    if Path("/dev/shm").is_dir() and not args.no_shm:
        outputs.append(("tmpfs", Path("/dev/shm")))
    for label, folder in outputs:
        out = folder / "bench-merged.zip"
        # Warm the page cache and the code once, then alternate the measurements.
        merge_archives([a, b], out)
        size = out.stat().st_size
        out.unlink()
        base_runs, merge_runs, write_runs = [], [], []
        for _ in range(args.runs):
            base_runs.append(timed(bare_parse, [a, b]))
            merge_runs.append(timed(merge_archives, [a, b], out))
            out.unlink()
            write_runs.append(timed(raw_write, out, size))
            out.unlink()
        base = statistics.median(r[0] for r in base_runs)
        merged = statistics.median(r[0] for r in merge_runs)
        floor = statistics.median(r[0] for r in write_runs)
        base_cpu = statistics.median(r[1] for r in base_runs)
        main_cpu = statistics.median(r[1] for r in merge_runs)
        writer_cpu = statistics.median(r[2] for r in merge_runs)
        critical = max(main_cpu, writer_cpu)
        print(f"[output on {label}: {folder}]")
        print(f"  bare parse loop over both:     {base:.3f} s  (runs: {_fmt(base_runs)})")
        print(f"  merge_archives (disjoint ids): {merged:.3f} s  (runs: {_fmt(merge_runs)})")
        print(
            f"  writing {size / 1e6:.0f} MB, nothing else: {floor:.3f} s  "
            f"(runs: {_fmt(write_runs)})"
        )
        print(f"  ratio merge / bare parse, wall time: {merged / base:.2f}x  (target: at most 2x)")
        print(
            f"  CPU time: bare parse {base_cpu:.3f} s; merge {main_cpu:.3f} s in the reading "
            f"thread + {writer_cpu:.3f} s in the writing thread"
        )
        print(
            f"  ratio with a core free for each thread (busier thread's CPU / bare parse CPU): "
            f"{critical / base_cpu:.2f}x"
        )
        results[label] = {
            "bare_parse_s": base,
            "merge_s": merged,
            "write_only_s": floor,
            "ratio": merged / base,
            "bare_parse_cpu_s": base_cpu,
            "merge_main_cpu_s": main_cpu,
            "merge_writer_cpu_s": writer_cpu,
            "ratio_cpu_critical_path": critical / base_cpu,
        }

    out = DATA / "merged.zip"
    empty = child_merge([], DATA / "none.zip")
    disjoint = child_merge([a, b], out)
    print(
        f"peak RSS, merging 2 x {args.n} x {args.dim}-d: {disjoint['rss_mb']:.0f} MB "
        f"(Python + imports alone: {empty['rss_mb']:.0f} MB)"
    )
    results.update(rss_100k_mb=disjoint["rss_mb"], rss_import_mb=empty["rss_mb"])

    if args.big:
        big_a = DATA / f"a-{args.big}x0.zip"
        big_b = DATA / f"b-{args.big}x0.zip"
        t0 = time.perf_counter()
        make_archive(big_a, args.big, "a", 0, seed=3)
        make_archive(big_b, args.big, "b", 0, seed=4)
        print(
            f"data: 2 x {args.big} small inputs (no embeddings), "
            f"{big_a.stat().st_size / 1e6:.0f} MB each (ready in {time.perf_counter() - t0:.1f} s)"
        )
        big = child_merge([big_a, big_b], out)
        print(
            f"peak RSS, merging 2 x {args.big} (disjoint ids): {big['rss_mb']:.0f} MB in "
            f"{big['seconds']:.1f} s   (target: under 500 MB)"
        )
        # Every id twice: the later passes compare all 1M repeated ids.
        same = child_merge([big_a, big_a], out, policy="error")
        print(
            f"peak RSS, merging 2 x {args.big} (same ids, identical): {same['rss_mb']:.0f} MB in "
            f"{same['seconds']:.1f} s   ({same['identical']} identical)"
        )
        # Every id twice, every input different: the worst case, all renamed.
        changed = DATA / f"a-{args.big}x0-w641.zip"
        make_archive(changed, args.big, "a", 0, seed=3, width=641)
        renamed = child_merge([big_a, changed], out, policy="rename")
        print(
            f"peak RSS, merging 2 x {args.big} (same ids, all different, --on-conflict rename): "
            f"{renamed['rss_mb']:.0f} MB in {renamed['seconds']:.1f} s"
        )
        results.update(
            rss_1m_disjoint_mb=big["rss_mb"],
            rss_1m_identical_mb=same["rss_mb"],
            rss_1m_renamed_mb=renamed["rss_mb"],
        )
    print(json.dumps(results))
    if args.clean:
        shutil.rmtree(DATA)


def _fmt(runs: list[tuple[float, float, float]]) -> str:
    return ", ".join(f"{r[0]:.3f}" for r in runs)


if __name__ == "__main__":
    main()
