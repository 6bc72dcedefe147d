"""Benchmark the streaming reader (issue 2 targets).

1. Time to read every input of a 100,000-input archive with one 512-d embedding each, against a
   bare ``zipfile`` + ``InputBatch.FromString`` loop over the same file, in the same run
   (target: <= 1.15x).
2. Peak memory (max RSS of a fresh process) while reading archives of 10,000 and 1,000,000 inputs
   (target: under 300 MB, and the two within 50 MB).

Usage: python bench/bench_read.py [--inputs 100000] [--runs 7] [--memory-sizes 10000,1000000]
Archives are generated (seeded) under bench/_data/ and reused.
"""

from __future__ import annotations

import argparse
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
from toolkit.archive import ArchiveReader, ArchiveWriter  # noqa: E402
from toolkit.messages import InputBatch  # noqa: E402

DATA = ROOT / "bench" / "_data"


def make_embedding_archive(path: Path, count: int, dim: int = 512, seed: int = 0) -> Path:
    """An archive of ``count`` inputs, each with an id, a concept and one ``dim``-d embedding.

    Inputs are encoded straight to wire bytes (fast), which the reader parses as usual.
    """
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    one = b"\x1d" + np.float32(1).tobytes()  # Concept.value = 1.0 (field 3, fixed32)
    concept = _field(3, _field(1, b"thing") + _field(2, b"Thing") + one)
    with ArchiveWriter(path, batch_size=128) as writer:
        for start in range(0, count, 4096):
            block = rng.standard_normal((min(4096, count - start), dim), dtype=np.float32)
            for offset, vector in enumerate(block):
                embedding = _field(1, vector.tobytes()) + b"\x10" + _varint(dim)
                data = concept + _field(9, embedding)
                input_id = f"in-{start + offset:07d}".encode()
                writer.add_serialized(_field(1, input_id) + _field(2, data))
    return path


def bare_loop(path: Path) -> int:
    """The baseline: zipfile + InputBatch.FromString, touching every input."""
    count = 0
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name == "mimetype" or name.endswith("/"):
                continue
            for _record in InputBatch.FromString(zf.read(name)).inputs:
                count += 1
    return count


def toolkit_loop(path: Path) -> int:
    """The toolkit's reader, touching every input."""
    count = 0
    with ArchiveReader(path) as reader:
        for _record in reader.iter_inputs():
            count += 1
    return count


def time_reading(path: Path, runs: int) -> None:
    bare_times, ours_times = [], []
    bare_loop(path)  # warm the page cache
    for _ in range(runs):
        for fn, times in ((bare_loop, bare_times), (toolkit_loop, ours_times)):
            start = time.perf_counter()
            n = fn(path)
            times.append(time.perf_counter() - start)
    bare, ours = statistics.median(bare_times), statistics.median(ours_times)
    size_mb = path.stat().st_size / 1e6
    print(f"read {n} inputs ({size_mb:.0f} MB), median of {runs} interleaved runs:")
    print(f"  bare zipfile + FromString loop: {bare:.3f} s")
    print(f"  ArchiveReader.iter_inputs():    {ours:.3f} s")
    print(f"  ratio: {ours / bare:.3f}x (target <= 1.15x)")


_MEASURE = """
import resource, sys
sys.path.insert(0, {root!r})
from toolkit.archive import ArchiveReader
n = 0
with ArchiveReader({path!r}) as reader:
    for batch_entry, batch in reader.iter_batches():
        n += len(batch.inputs)
print(n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_memory(path: Path) -> tuple[int, float]:
    """Inputs read and max RSS in MB of a fresh process reading the whole archive."""
    code = _MEASURE.format(root=str(ROOT), path=str(path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    n, kb = out.stdout.split()
    return int(n), int(kb) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--memory-sizes", default="10000,1000000")
    args = parser.parse_args()
    path = make_embedding_archive(DATA / f"read-{args.inputs}x512.zip", args.inputs)
    time_reading(path, args.runs)
    sizes = [int(s) for s in args.memory_sizes.split(",") if s]
    results = []
    for size in sizes:
        archive = make_embedding_archive(DATA / f"read-{size}x512.zip", size)
        n, mb = peak_memory(archive)
        results.append(mb)
        print(f"peak RSS reading {n} inputs ({archive.stat().st_size / 1e6:.0f} MB): {mb:.1f} MB")
    if len(results) >= 2:
        print(
            f"  largest {max(results):.1f} MB (target < 300 MB); spread "
            f"{max(results) - min(results):.1f} MB (target < 50 MB)"
        )


if __name__ == "__main__":
    main()
