"""Benchmark the training formats (issue 12): ``convert --to coco|yolo|voc`` without media,
on the archive of ``bench_convert.py`` and on the same inputs tagged by ``split --tag``,
against the bare parse loop (zipfile + ``InputBatch.FromString``) measured in the same run.

Figures are medians of ``--runs`` runs; ratios are against the parse loop of the same
archive. Example::

    python bench/bench_training.py --inputs 20000 --runs 3
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_convert import DATA, make_archive, parse_loop  # noqa: E402

from toolkit.convert import convert_archives  # noqa: E402
from toolkit.split import split_archive  # noqa: E402


def timed(runs: int, fn, *args, **kwargs) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def write_files(folder: Path, n: int) -> None:
    """The floor of yolo and voc, which write one label file per image: n small files."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for i in range(n):
        with open(folder / f"input-{i:07d}.txt", "wb") as fh:
            fh.write(b"0 0.500000 0.500000 0.100000 0.100000\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="Keep the archives in bench/_data.")
    args = parser.parse_args()
    n, dim, runs = args.inputs, args.dim, args.runs
    print(f"making the archives ({n} inputs, {dim}-d embeddings) ...", flush=True)
    archive = make_archive(DATA / f"convert-{n}-{dim}.zip", n, dim)
    tagged_dir = DATA / f"tagged-{n}-{dim}"
    parts = [tagged_dir / "train.zip", tagged_dir / "val.zip"]
    if not all(p.exists() for p in parts):
        split_archive(archive, tagged_dir, ratios={"train": 0.8, "val": 0.2}, seed=1, tag=True)
    work = Path(tempfile.mkdtemp(prefix="bench-training-"))
    try:
        loop = timed(runs, parse_loop, archive)
        loop_tagged = timed(runs, lambda: [parse_loop(p) for p in parts])
        files = timed(runs, write_files, work / "files", n)
        rows = [
            ("parse loop", loop, None, ""),
            ("parse loop (tagged, 2 archives)", loop_tagged, None, ""),
            ("write one small file per input", files, None, ""),
        ]
        for to in ("coco", "yolo", "voc"):
            out = work / to
            floor = loop if to == "coco" else loop + files
            what = "the parse loop" if to == "coco" else "parse loop + files"
            for label, sources in ((to, [archive]), (f"{to} (tagged: per split)", parts)):
                seconds = timed(runs, convert_archives, sources, out, to=to)
                rows.append((f"convert --to {label}", seconds, floor, what))
        print(f"\narchive: {n} inputs, {dim}-d embeddings; median of {runs}")
        print(f"{'task':42} {'seconds':>8} {'us/input':>9}  ratio")
        for name, seconds, base, what in rows:
            ratio = f"{seconds / base:6.2f}x {what}" if base else ""
            print(f"{name:42} {seconds:8.3f} {seconds / n * 1e6:9.1f}  {ratio}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(tagged_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
