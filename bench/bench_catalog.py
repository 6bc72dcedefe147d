"""Benchmark the local catalog against its two targets (issue 6).

1. ``inputs get`` of one input in a 1,000,000-input dataset: the lookup itself (the id
   index query) must take under 50 ms. Also timed: the whole ``Catalog.get_input`` (lookup,
   open the archive, read the one batch entry), a fresh ``clarifai-archive inputs get``
   process (mostly Python start-up), and, as the baseline, ``ArchiveReader.get_input`` on
   the plain file, which reads batches until it finds the id.
2. ``datasets add`` of a 100k-input archive with 512-d embeddings: at most 2x the time of
   reading the archive once (``ArchiveReader.iter_batches`` parsing every batch), both
   measured in this run, median of several runs.

The 1M-input archive holds small inputs (an id and a short text) to keep the data
small; the lookup cost does not depend on the inputs' size. Data goes to bench/_data/
(git-ignored) and is deleted at the end unless --keep.

Usage: python bench/bench_catalog.py [--get-inputs 1000000] [--add-inputs 100000]
                                     [--dim 512] [--runs 5] [--keep]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit._wire import encode_varint as _varint  # noqa: E402
from toolkit.archive import ArchiveReader, ArchiveWriter  # noqa: E402
from toolkit.catalog import Catalog  # noqa: E402
from toolkit.messages import Input  # noqa: E402
from toolkit.metrics import MetricsCounter  # noqa: E402

DATA = ROOT / "bench" / "_data"


def make_small_archive(path: Path, n: int) -> None:
    """``n`` inputs ``in-0000000`` ... with a short text each (wire bytes built directly)."""
    data = Input(id="x")
    data.data.text.raw = "a short caption of an image"
    data.data.concepts.add(id="cat", name="Cat", value=1.0)
    data_bytes = data.SerializeToString()[3:]  # drop the id field (3 bytes for "x")
    with ArchiveWriter(path, batch_size=128) as writer:
        for i in range(n):
            key = b"in-%07d" % i
            writer.add_serialized(b"\x0a" + _varint(len(key)) + key + data_bytes)


def make_embedding_archive(path: Path, n: int, dim: int) -> None:
    """``n`` image inputs (size, a concept, a box, metadata, a ``dim``-d embedding)."""
    import numpy as np

    rng = np.random.default_rng(6)
    with ArchiveWriter(path, batch_size=128) as writer:
        for start in range(0, n, 1000):
            vectors = rng.standard_normal((min(1000, n - start), dim), dtype=np.float32)
            for k, vec in enumerate(vectors):
                i = start + k
                record = Input(id=f"img-{i:07d}")
                image = record.data.image
                image.hosted.prefix = "https://data.clarifai.com"
                image.hosted.suffix = f"users/u/apps/a/inputs/image/{i:032x}"
                image.hosted.sizes.extend(["orig", "small"])
                image.image_info.width, image.image_info.height = 640, 480
                record.data.concepts.add(id=f"c{i % 20}", name=f"C{i % 20}", value=1.0)
                region = record.data.regions.add(id=f"r{i}", value=1.0)
                box = region.region_info.bounding_box
                box.top_row, box.left_col, box.bottom_row, box.right_col = 0.1, 0.2, 0.6, 0.7
                region.data.concepts.add(id=f"c{i % 20}", name=f"C{i % 20}", value=1.0)
                record.data.metadata.update({"source": "bench", "n": i})
                record.data.embeddings.add(vector=vec.tolist(), num_dimensions=dim)
                writer.add_serialized(record.SerializeToString())


def timed(fn: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_of(fn: Callable[[], object], runs: int) -> tuple[float, list[float]]:
    times = [timed(fn) for _ in range(runs)]
    return statistics.median(times), times


def bench_get(n: int, runs: int) -> None:
    print(f"== inputs get in a {n:,}-input dataset (small inputs: an id and a short text)")
    archive = DATA / f"get-{n}.zip"
    if not archive.exists():
        t = timed(lambda: make_small_archive(archive, n))
        print(f"made {archive.name}: {archive.stat().st_size / 2**20:.0f} MiB in {t:.1f} s")
    home = DATA / "home-get"
    shutil.rmtree(home, ignore_errors=True)
    catalog = Catalog(home)
    t = timed(lambda: catalog.datasets.add(archive, dataset="big", version="v1"))
    print(f"datasets add (one-off, {n:,} ids indexed): {t:.2f} s")
    rng = random.Random(6)
    ids = [f"in-{rng.randrange(n):07d}" for _ in range(200)]

    catalog.close()
    catalog = Catalog(home)  # a fresh catalog, as a new command has
    lookups = []
    for input_id in ids:
        start = time.perf_counter()
        catalog.locate_input("big", input_id)
        lookups.append(time.perf_counter() - start)
    first = lookups[0]
    lookup = statistics.median(lookups)
    gets = []
    for input_id in ids:
        start = time.perf_counter()
        record = catalog.get_input("big", input_id)
        gets.append(time.perf_counter() - start)
        assert record.id == input_id
    get = statistics.median(gets)
    catalog.close()

    cold = []
    for _ in range(10):
        c = Catalog(home)
        start = time.perf_counter()
        c.get_input("big", ids[0])
        cold.append(time.perf_counter() - start)
        c.close()

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "toolkit", "--home", str(home), "inputs", "get", "big"]
    proc_times = []
    for input_id in ids[: max(3, runs)]:
        start = time.perf_counter()
        subprocess.run([*cmd, input_id], env=env, check=True, capture_output=True)
        proc_times.append(time.perf_counter() - start)
    startup = []
    for _ in range(max(3, runs)):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "toolkit", "--version"], env=env, check=True, capture_output=True
        )
        startup.append(time.perf_counter() - start)

    scans = []
    for input_id in ids[:3]:
        with ArchiveReader(archive) as reader:
            start = time.perf_counter()
            reader.get_input(input_id)
            scans.append(time.perf_counter() - start)
    scan = statistics.median(scans)

    print(
        f"lookup (id index query), median of {len(lookups)}: {lookup * 1e3:.3f} ms "
        f"(first, cold: {first * 1e3:.2f} ms)   target < 50 ms: "
        f"{'OK' if lookup < 0.050 else 'MISSED'}"
    )
    print(
        f"Catalog.get_input (lookup + open archive + read 1 entry), median: {get * 1e3:.2f} ms; "
        f"with a new Catalog each time: {statistics.median(cold) * 1e3:.2f} ms"
    )
    print(
        f"clarifai-archive inputs get, whole process, median: "
        f"{statistics.median(proc_times) * 1e3:.0f} ms (of which start-up "
        f"'clarifai-archive --version': {statistics.median(startup) * 1e3:.0f} ms)"
    )
    print(
        f"baseline ArchiveReader.get_input on the file (scan), median of {len(scans)}: "
        f"{scan * 1e3:.0f} ms -> the index is {scan / get:.0f}x faster end to end"
    )
    shutil.rmtree(home, ignore_errors=True)


def bench_add(n: int, dim: int, runs: int) -> None:
    print(f"\n== datasets add of a {n:,}-input archive with {dim}-d embeddings")
    archive = DATA / f"add-{n}-{dim}.zip"
    if not archive.exists():
        t = timed(lambda: make_embedding_archive(archive, n, dim))
        print(f"made {archive.name} in {t:.1f} s")
    size = archive.stat().st_size
    print(f"archive: {size / 2**20:.0f} MiB")

    def read_once() -> None:
        with ArchiveReader(archive) as reader:
            for _entry, _batch in reader.iter_batches():
                pass

    def read_with_metrics() -> None:
        counter = MetricsCounter()
        with ArchiveReader(archive) as reader:
            for _entry, batch in reader.iter_batches():
                for record in batch.inputs:
                    counter.add(record)

    home = DATA / "home-add"

    def add() -> None:
        shutil.rmtree(home, ignore_errors=True)
        with Catalog(home) as catalog:
            version = catalog.datasets.add(archive, dataset="emb", version="v1")
        assert version.inputs_count == n

    read_once()  # warm the page cache, as for every run after it
    # interleave the runs so drift on a shared machine hits both alike
    reads, infos, adds = [], [], []
    for _ in range(runs):
        reads.append(timed(read_once))
        adds.append(timed(add))
        infos.append(timed(read_with_metrics))
    read, info, added = (statistics.median(x) for x in (reads, infos, adds))
    print(f"read once (parse every batch), median of {runs}: {read:.2f} s  {_fmt(reads)}")
    print(f"read once + metrics (what 'info' does), median: {info:.2f} s  {_fmt(infos)}")
    print(f"datasets add (copy + sha256 + metrics + id index), median: {added:.2f} s  {_fmt(adds)}")
    ratio = added / read
    print(
        f"ratio add / read once: {ratio:.2f}x   target <= 2x: {'OK' if ratio <= 2 else 'MISSED'}"
        f"   (add / read + metrics: {added / info:.2f}x)"
    )
    shutil.rmtree(home, ignore_errors=True)


def _fmt(times: list[float]) -> str:
    return "[" + ", ".join(f"{t:.2f}" for t in times) + "]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--get-inputs", type=int, default=1_000_000)
    parser.add_argument("--add-inputs", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="Keep the generated archives.")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    try:
        if args.get_inputs:
            bench_get(args.get_inputs, args.runs)
        if args.add_inputs:
            bench_add(args.add_inputs, args.dim, args.runs)
    finally:
        if not args.keep:
            for path in DATA.glob("get-*.zip"):
                path.unlink()
            for path in DATA.glob("add-*.zip"):
                path.unlink()


if __name__ == "__main__":
    main()
