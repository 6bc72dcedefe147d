"""Benchmark the data-science side (issue 12 targets), against a bare loop in the same run.

The baseline is a bare ``zipfile`` + ``InputBatch.FromString`` loop over the same archive.

1. ``Archive.embeddings()`` of N x 512 (target at 1M: <= 1.5x the bare loop; peak memory
   the matrix plus under 100 MB).
2. ``clarifai-archive convert --to parquet`` of N x 512, the whole command in a fresh
   process (target at 100k: <= 3x the bare loop), and its peak RSS at --memory-inputs
   (target at 1M: under 500 MB). Also the bare loop as a whole process, and the floor:
   python with the command's imports, plus writing the same table alone.
3. ``Archive.to_pandas()`` of N inputs without embeddings (target at 100k: <= 4x).

Usage: python bench/bench_parquet.py [--inputs 100000] [--runs 5] [--memory-inputs 1000000]
Archives are generated (seeded) under bench/_data/ and reused; outputs go to a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_read import bare_loop, make_embedding_archive  # noqa: E402

from toolkit._wire import encode_field as _field  # noqa: E402
from toolkit._wire import encode_varint as _varint  # noqa: E402
from toolkit.archive import ArchiveWriter  # noqa: E402

DATA = ROOT / "bench" / "_data"


def make_plain_archive(path: Path, count: int, seed: int = 0) -> Path:
    """``count`` image inputs without embeddings: a URL, a size, two concepts (one
    negative), metadata with three keys and, on every fourth input, a box region."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    one = b"\x1d" + np.float32(1).tobytes()
    positive = _field(3, _field(1, b"cat") + _field(2, b"Cat") + one)
    negative = _field(3, _field(1, b"dog") + _field(2, b"Dog"))
    region_concept = _field(3, _field(1, b"cat") + _field(2, b"Cat") + one)

    def number(value: float) -> bytes:  # google.protobuf.Value.number_value (field 2)
        return b"\x11" + np.float64(value).tobytes()

    with ArchiveWriter(path, batch_size=128) as writer:
        for i in range(count):
            width, height = (int(x) for x in rng.integers(64, 4096, size=2))
            info = b"\x08" + _varint(width) + b"\x10" + _varint(height)
            image = _field(1, f"https://example.com/img/{i}.jpg".encode()) + _field(6, info)
            fields = (
                _field(1, _field(1, b"split") + _field(2, _field(3, b"train")))
                + _field(1, _field(1, b"frame") + _field(2, number(i % 1000)))
                + _field(1, _field(1, b"camera") + _field(2, _field(3, b"cam-7")))
            )
            data = _field(1, image) + positive + negative + _field(5, fields)
            if i % 4 == 0:
                box = b"".join(
                    bytes([(n << 3) | 5]) + np.float32(v).tobytes()
                    for n, v in ((1, 0.1), (2, 0.2), (3, 0.6), (4, 0.7))
                )
                region = _field(1, f"r{i}".encode()) + _field(2, _field(1, box))
                data += _field(11, region + _field(3, region_concept))
            writer.add_serialized(_field(1, f"in-{i:07d}".encode()) + _field(2, data))
    return path


def median_times(fns: list[Callable[[], object]], runs: int) -> list[tuple[float, float]]:
    """Median wall and CPU seconds (user + sys, this process and its threads) of each
    function, runs interleaved."""
    times: list[list[tuple[float, float]]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, bucket in zip(fns, times, strict=True):
            cpu = time.process_time()
            start = time.perf_counter()
            fn()
            bucket.append((time.perf_counter() - start, time.process_time() - cpu))
    return [(statistics.median(w for w, _ in t), statistics.median(c for _, c in t)) for t in times]


def load_average() -> str:
    """The 1-minute load average (other jobs on a shared machine inflate wall times)."""
    return Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"


def children_cpu() -> float:
    """CPU seconds (user + sys) of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


_PEAK = """
import sys, runpy
sys.path.insert(0, {root!r})
{body}
# VmHWM, not ru_maxrss: Linux carries the parent's peak into ru_maxrss across exec.
print(
    next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")),
    file=sys.stderr,
)
"""


def run_measured(body: str) -> tuple[float, float, str]:
    """Run ``body`` in a fresh Python; its wall time, peak RSS (MB) and stdout."""
    code = _PEAK.format(root=str(ROOT), body=body)
    start = time.perf_counter()
    # As installed: with the bytecode cache (this machine sets PYTHONDONTWRITEBYTECODE,
    # which would make every start compile the toolkit again).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    kb = int(proc.stderr.strip().splitlines()[-1])
    return elapsed, kb / 1024, proc.stdout


def bench_embeddings(path: Path, runs: int, n: int) -> None:
    import toolkit

    def ours() -> object:
        with toolkit.open(path) as archive:
            return archive.embeddings()

    def touch() -> object:  # what the result alone costs: a fresh (n, 512) matrix, written
        matrix = np.empty((n, 512), np.float32)
        matrix.reshape(-1)[::1024] = 0
        return matrix

    bare_loop(path)  # warm the page cache
    load = load_average()
    (bare, bare_cpu), (mine, mine_cpu), (fresh, _) = median_times(
        [lambda: bare_loop(path), ours, touch], runs
    )
    print(f"1. embeddings() of {n} x 512, median of {runs} interleaved runs (load {load}):")
    print(f"   bare zipfile + FromString loop: {bare:.3f} s (CPU {bare_cpu:.3f} s)")
    print(f"   Archive.embeddings():           {mine:.3f} s (CPU {mine_cpu:.3f} s)")
    print(f"   ratio: {mine / bare:.2f}x (target <= 1.5x); CPU ratio {mine_cpu / bare_cpu:.2f}x")
    print(f"   (allocating and touching a fresh {n} x 512 matrix alone: {fresh:.3f} s)")
    _, base_mb, _ = run_measured(
        f"import toolkit\na = toolkit.open({str(path)!r})\nids = a.ids()[:1]"
    )
    _, peak_mb, out = run_measured(
        f"import toolkit\nids, m = toolkit.open({str(path)!r}).embeddings()\nprint(m.nbytes)"
    )
    matrix_mb = int(out) / 2**20
    print(
        f"   peak RSS {peak_mb:.0f} MB = matrix {matrix_mb:.0f} MB + {peak_mb - matrix_mb:.0f} MB "
        f"(target < 100 MB; a process that only opens and reads it peaks at {base_mb:.0f} MB)"
    )


#: The bare loop as a whole process: python, protobuf and the toolkit's generated
#: ``InputBatch`` (loaded without the toolkit package's own imports), zipfile, the loop.
_BARE_PROCESS = """
import sys, types, zipfile
package = types.ModuleType("toolkit")
package.__path__ = [{toolkit!r}]
sys.modules["toolkit"] = package
from toolkit._proto.resources_pb2 import InputBatch
count = 0
with zipfile.ZipFile({src!r}) as zf:
    for name in zf.namelist():
        if name != "mimetype" and not name.endswith("/"):
            for _record in InputBatch.FromString(zf.read(name)).inputs:
                count += 1
print(count)
"""

#: What the command imports before it reads: its floor, with the interpreter's start.
_IMPORTS = "import toolkit.cli.convert, toolkit.convert._parquet_impl, toolkit.cli"


def _write_alone(out: Path, scratch: Path) -> tuple[float, float]:
    """Wall and CPU seconds (this process and its threads) of writing the command's table
    (read back from ``out``) with the command's writer, reading excluded: the encoding
    and the write that the command cannot avoid."""
    import pyarrow as pa
    import pyarrow.dataset as pads

    from toolkit.tabular.parquet import ParquetFolderWriter

    table = pads.dataset(out).to_table()
    batches = []  # shaped as the command hands them over (its archives: 128 inputs an entry)
    for start in range(0, table.num_rows, 2048):  # 16 entries' columns built in one go
        group = table.slice(start, 2048)
        columns = {n: pa.concat_arrays(group.column(n).chunks) for n in group.schema.names}
        for offset in range(0, group.num_rows, 128):  # and a record batch per entry
            arrays = [
                pa.concat_arrays([columns[n].slice(offset, 128)])  # the entry's own vectors
                if n == "embedding"
                else columns[n].slice(offset, 128)
                for n in group.schema.names
            ]
            batches.append(pa.RecordBatch.from_arrays(arrays, schema=table.schema))
    del table
    shutil.rmtree(scratch, ignore_errors=True)
    cpu = time.process_time()
    start = time.perf_counter()
    schema = batches[0].schema
    rows = sum(b.num_rows for b in batches)
    with ParquetFolderWriter(scratch, schema, rows_per_file=max(rows, 1)) as w:
        for batch in batches:
            w.write(batch)
    elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    shutil.rmtree(scratch, ignore_errors=True)
    return elapsed, used


def bench_convert(path: Path, runs: int, n: int, *, timing: bool = True) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-parquet-"))
    out = tmp / "out"
    body = (
        f"sys.argv = ['clarifai-archive', '-q', 'convert', {str(path)!r}, '--to', 'parquet', "
        f"'-o', {str(out)!r}, '--force']\n"
        "try:\n    runpy.run_module('toolkit', run_name='__main__')\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code"
    )
    bare_code = _BARE_PROCESS.format(toolkit=str(ROOT / "toolkit"), src=str(path))
    try:
        if timing:
            bare_times, ours, peaks, bare_cpus, our_cpus = [], [], [], [], []
            procs, proc_cpus, starts, start_cpus, alone, alone_cpus = [], [], [], [], [], []
            bare_loop(path)
            run_measured(body)  # warm: the bytecode cache and the page cache
            load = load_average()
            for _ in range(runs):
                cpu = time.process_time()
                start = time.perf_counter()
                bare_loop(path)
                bare_times.append(time.perf_counter() - start)
                bare_cpus.append(time.process_time() - cpu)
                for code, walls, cpus in (
                    (bare_code, procs, proc_cpus),
                    (_IMPORTS, starts, start_cpus),
                ):
                    cpu = children_cpu()
                    elapsed, _, _ = run_measured(code)
                    cpus.append(children_cpu() - cpu)
                    walls.append(elapsed)
                # A new output each run (as a user's first conversion): removing the last
                # run's 200 MB is not the command's time.
                shutil.rmtree(out, ignore_errors=True)
                cpu = children_cpu()
                elapsed, peak, _ = run_measured(body)
                our_cpus.append(children_cpu() - cpu)
                ours.append(elapsed)
                peaks.append(peak)
                elapsed, used = _write_alone(out, tmp / "alone")
                alone.append(elapsed)
                alone_cpus.append(used)
            end_load = load_average()
            med = statistics.median
            bare, mine, proc, begin = med(bare_times), med(ours), med(procs), med(starts)
            bare_cpu, mine_cpu = med(bare_cpus), med(our_cpus)
            size = sum(p.stat().st_size for p in out.iterdir()) / 1e6
            floor = begin + med(alone)
            print(
                f"2. convert --to parquet of {n} x 512 (whole command), median of {runs} "
                f"interleaved runs (load {load} -> {end_load}):"
            )
            print(f"   bare zipfile + FromString loop: {bare:.3f} s (CPU {bare_cpu:.3f} s)")
            print(
                f"   the same loop, whole process:   {proc:.3f} s (CPU {med(proc_cpus):.3f} s; "
                "python, protobuf, the loop)"
            )
            print(
                f"   clarifai-archive convert:       {mine:.3f} s (CPU {mine_cpu:.3f} s; "
                f"{size:.0f} MB of Parquet, a new output folder each run)"
            )
            print(
                f"   ratio: {mine / bare:.2f}x (target <= 3x); CPU ratio "
                f"{mine_cpu / bare_cpu:.2f}x; against the whole-process loop {mine / proc:.2f}x; "
                f"peak RSS {max(peaks):.0f} MB"
            )
            print(
                f"   floor: python + the command's imports {begin:.3f} s (CPU "
                f"{med(start_cpus):.3f} s) + writing the same table alone {med(alone):.3f} s "
                f"(CPU {med(alone_cpus):.3f} s) = {floor:.3f} s = {floor / bare:.2f}x the bare "
                f"loop, {floor / proc:.2f}x the whole-process loop"
            )
        else:
            elapsed, peak, _ = run_measured(body)
            print(f"   convert --to parquet of {n} x 512: {elapsed:.1f} s, peak RSS {peak:.0f} MB")
            print("   (target at 1M: under 500 MB)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_pandas(path: Path, runs: int, n: int) -> None:
    import toolkit

    def ours() -> object:
        with toolkit.open(path) as archive:
            return archive.to_pandas()

    bare_loop(path)
    ours()  # pandas imported once, as in a session
    load = load_average()
    (bare, bare_cpu), (mine, mine_cpu) = median_times([lambda: bare_loop(path), ours], runs)
    print(
        f"3. to_pandas() of {n} inputs without embeddings, median of {runs} interleaved runs "
        f"(load {load}):"
    )
    print(f"   bare zipfile + FromString loop: {bare:.3f} s (CPU {bare_cpu:.3f} s)")
    print(f"   Archive.to_pandas():            {mine:.3f} s (CPU {mine_cpu:.3f} s)")
    print(f"   ratio: {mine / bare:.2f}x (target <= 4x); CPU ratio {mine_cpu / bare_cpu:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=100_000, help="inputs for the timings")
    parser.add_argument("--embedding-inputs", type=int, default=None, help="1.: default --inputs")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--memory-inputs", type=int, default=1_000_000, help="2.: 0 skips")
    parser.add_argument("--only", default="1,2,3", help="which parts to run, e.g. 1,3")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    n = args.inputs
    if "1" in parts:
        m = args.embedding_inputs or n
        bench_embeddings(make_embedding_archive(DATA / f"read-{m}x512.zip", m), args.runs, m)
    if "2" in parts:
        bench_convert(make_embedding_archive(DATA / f"read-{n}x512.zip", n), args.runs, n)
        if args.memory_inputs:
            big = make_embedding_archive(
                DATA / f"read-{args.memory_inputs}x512.zip", args.memory_inputs
            )
            bench_convert(big, 1, args.memory_inputs, timing=False)
    if "3" in parts:
        bench_pandas(make_plain_archive(DATA / f"plain-{n}.zip", n), args.runs, n)


if __name__ == "__main__":
    main()
