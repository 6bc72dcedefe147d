"""Benchmark ``convert`` (issue 3): json and jsonl against protobuf's own JSON, coco against
the bare parse loop, and peak memory against archive size.

The archive (seeded, made once under ``bench/_data/``) has ``--inputs`` inputs, each an
image with a hosted URL and image_info, two concepts, metadata, a ``--dim``-d embedding,
a timestamp and 0-2 labelled boxes: the shape of a real export with embeddings.

- baseline: read the archive (zipfile + ``InputBatch.FromString``) and write each input as
  ``json.dumps(json_format.MessageToDict(input, preserving_proto_field_name=True))``, as
  Clarifai's SDK writes its annotation files; target: ours >= 30x faster, same run.
- parse loop: zipfile + ``InputBatch.FromString`` over every entry, nothing else;
  target: ``--to coco`` (no media) <= 3x its time. It is timed with the C reader
  (``toolkit._speedups``, built at install where a C compiler is) and without it.
- memory: each conversion runs in a fresh process on an archive of ``--inputs`` / 10 and
  of ``--inputs`` inputs; the peak resident size should not grow with the archive.

Every figure is the median of ``--runs`` runs (``--baseline-runs`` for the slow baseline).

Usage: python bench/bench_convert.py [--inputs 100000] [--dim 512] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
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

from google.protobuf import json_format  # noqa: E402

from toolkit.archive import ArchiveWriter  # noqa: E402
from toolkit.convert import coco as coco_module  # noqa: E402
from toolkit.convert import convert_archives  # noqa: E402
from toolkit.messages import Input, InputBatch  # noqa: E402

DATA = ROOT / "bench" / "_data"
SEED = 20261127


def make_archive(path: Path, inputs: int, dim: int) -> Path:
    """The benchmark archive, made once (seeded) and reused."""
    if path.exists():
        return path
    rng = np.random.default_rng(SEED)
    vectors = rng.standard_normal((4096, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    tmp = path.with_name(path.name + ".part")
    with ArchiveWriter(tmp, batch_size=128) as writer:
        for i in range(inputs):
            record = Input(id=f"input-{i:07d}")
            record.created_at.seconds = 1_767_225_600 + i
            data = record.data
            image = data.image
            image.hosted.prefix = "https://data.clarifai.com"
            image.hosted.suffix = f"users/u/apps/a/inputs/image/{i:032x}"
            image.hosted.sizes.extend(["orig", "tiny", "small", "large"])
            image.image_info.width, image.image_info.height = 640, 480
            image.image_info.format, image.image_info.color_mode = "JPEG", "UNDEFINED"
            label = ("cat", "Cat") if i % 2 else ("dog", "Dog")
            data.concepts.add(id=label[0], name=label[1], value=1.0, app_id="app")
            data.concepts.add(id="outdoor", name="Outdoor", value=float(i % 3 == 0), app_id="app")
            data.metadata.update({"source": "camera-7", "frame": i % 1000})
            data.embeddings.add(vector=vectors[i % len(vectors)], num_dimensions=dim)
            for k in range(i % 3):
                region = data.regions.add(id=f"r-{i}-{k}", value=1.0)
                box = region.region_info.bounding_box
                top, left = rng.random(2) * 0.5
                box.top_row, box.left_col = top, left
                box.bottom_row, box.right_col = top + 0.3, left + 0.4
                region.data.concepts.add(id=label[0], name=label[1], value=1.0)
            writer.add(record)
    tmp.replace(path)
    return path


def parse_loop(archive: Path) -> int:
    count = 0
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            if info.filename == "mimetype" or info.is_dir():
                continue
            count += len(InputBatch.FromString(zf.read(info)).inputs)
    return count


def baseline(archive: Path, out: Path, limit: int | None) -> int:
    """Protobuf's own JSON, one input at a time, as the SDK writes its annotation files."""
    count = 0
    with zipfile.ZipFile(archive) as zf, open(out, "w", encoding="utf-8") as fh:
        for info in zf.infolist():
            if info.filename == "mimetype" or info.is_dir():
                continue
            for record in InputBatch.FromString(zf.read(info)).inputs:
                body = json_format.MessageToDict(record, preserving_proto_field_name=True)
                fh.write(json.dumps(body))
                fh.write("\n")
                count += 1
                if limit is not None and count >= limit:
                    return count
    return count


def ours(archive: Path, out: Path, to: str, workers: int | None = None) -> int:
    return convert_archives([archive], out, to=to, workers=workers).inputs


def timed(runs: int, fn, *args) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def clean(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


# The peak resident size of this process image (VmHWM): ru_maxrss would also count the
# parent's pages at fork time, which Linux keeps across exec.
_CHILD = """
import resource, sys
sys.path.insert(0, {root!r})
from toolkit.convert import convert_archives
convert_archives([{archive!r}], {out!r}, to={to!r})
try:
    with open("/proc/self/status") as fh:
        peak = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
# json and jsonl encode big sources in worker processes (forks): the largest of them
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(peak, workers)
"""


def peak_rss_mib(archive: Path, out: Path, to: str) -> tuple[float, float]:
    """Peak resident memory of a fresh process converting ``archive``, and of the largest
    of its worker processes (0 when it had none), in MiB."""
    code = _CHILD.format(root=str(ROOT), archive=str(archive), out=str(out), to=to)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    clean(out)
    main, workers = result.stdout.strip().splitlines()[-1].split()
    return int(main) / 1024, int(workers) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-runs", type=int, default=3)
    parser.add_argument(
        "--baseline-inputs",
        type=int,
        default=None,
        help="Time the baseline on the first N inputs only and scale per input.",
    )
    parser.add_argument("--no-memory", action="store_true", help="Skip the memory check.")
    parser.add_argument("--only-memory", action="store_true", help="Only the memory check.")
    parser.add_argument("--keep", action="store_true", help="Keep the archives in bench/_data.")
    args = parser.parse_args()

    DATA.mkdir(parents=True, exist_ok=True)
    n, dim = args.inputs, args.dim
    print(f"making the archives ({n} inputs, {dim}-d embeddings) ...", flush=True)
    archive = make_archive(DATA / f"convert-{n}-{dim}.zip", n, dim)
    small = make_archive(DATA / f"convert-{n // 10}-{dim}.zip", n // 10, dim)
    size_mib = archive.stat().st_size / 2**20
    assert parse_loop(archive) == n

    out = DATA / "out"
    if not args.only_memory:
        run_timings(args, archive, out, size_mib)
    if not args.no_memory:
        print()
        print(f"peak resident memory (MiB), fresh process: {n // 10} vs {n} inputs")
        suffixes = {"json": ".zip", "jsonl": ".jsonl", "coco": "", "protobuf": ".zip"}
        for to, suffix in suffixes.items():
            target = out.with_suffix(suffix)
            a, _ = peak_rss_mib(small, target, to)
            b, worker = peak_rss_mib(archive, target, to)
            line = f"  --to {to:<9} {a:8.1f} {b:8.1f}   +{b - a:.1f} MiB for 10x the inputs"
            if worker:
                line += f"; each worker process at most {worker:.1f} MiB"
            print(line)
        print("  (kept per input: its id, to refuse repeated ids, about 100 bytes;")
        print("   coco also keeps the file names given out, about 200 bytes)")
    if not args.keep:
        clean(archive)
        clean(small)


def run_timings(args: argparse.Namespace, archive: Path, out: Path, size_mib: float) -> None:
    n, dim = args.inputs, args.dim
    results: dict[str, float] = {}
    results["parse loop"] = timed(args.runs, parse_loop, archive)
    limit = args.baseline_inputs
    measured = min(limit, n) if limit else n
    base = timed(args.baseline_runs, baseline, archive, out.with_suffix(".jsonl"), limit)
    clean(out.with_suffix(".jsonl"))
    results["baseline (MessageToDict + json.dumps)"] = base * n / measured
    for to, target in (("json", out.with_suffix(".zip")), ("jsonl", out.with_suffix(".jsonl"))):
        # default: worker processes for a source this big (one per CPU, up to 4)
        results[f"convert --to {to}"] = timed(args.runs, ours, archive, target, to)
        clean(target)
        results[f"convert --to {to} --workers 1"] = timed(args.runs, ours, archive, target, to, 1)
        clean(target)
    results["convert --to coco (no media)"] = timed(args.runs, ours, archive, out, "coco")
    clean(out)
    # The same without the C reader (toolkit._speedups), as where it could not be built.
    fast_reader = coco_module.SPEEDUPS
    coco_module.SPEEDUPS = None
    try:
        results["convert --to coco (no media, pure Python)"] = timed(
            args.runs, ours, archive, out, "coco"
        )
    finally:
        coco_module.SPEEDUPS = fast_reader
    clean(out)

    base_time = results["baseline (MessageToDict + json.dumps)"]
    parse_time = results["parse loop"]
    print()
    print(f"archive: {n} inputs, {dim}-d embeddings, {size_mib:.0f} MiB; median of {args.runs}")
    if limit:
        print(f"baseline timed on the first {measured} inputs, scaled to {n}")
    print(f"{'task':<40} {'seconds':>9} {'us/input':>9}  ratio")
    for name, seconds in results.items():
        per = seconds / n * 1e6
        ratio = ""
        if name.startswith("convert --to json"):
            ratio = f"{base_time / seconds:6.1f}x faster than baseline (target >= 30x)"
        elif name.startswith("convert --to coco"):
            ratio = f"{seconds / parse_time:6.1f}x the parse loop (target <= 3x)"
        print(f"{name:<40} {seconds:>9.3f} {per:>9.1f}  {ratio}")


if __name__ == "__main__":
    main()
