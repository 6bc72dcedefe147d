"""How the commands that read a whole archive scale with cores (issue 13), as whole processes.

Generates archives of N inputs with one 512-d embedding each (seeded, under --data, /tmp by
default), then times, as a user runs them (interpreter start included), each command with
1, 2, 4, 8, 16 worker processes, the process pinned to that many CPUs (``taskset``, where
the machine has them) and ``--workers`` set where the command takes it:

- ``info``                                  vs the bare loop (zipfile + InputBatch.FromString),
                                            the two interleaved run by run
- ``convert --to jsonl -o - > /dev/null``   vs MessageToDict + json.dumps, and vs 1 worker
- ``convert --to coco --media none``        vs the bare loop
- ``index build`` (``--kind``, auto default) absolute seconds, and vs 1 worker

The baselines run in the same session: the bare loop as a whole process; MessageToDict +
json.dumps over the first --dict-inputs inputs as a whole process, scaled linearly to N
(its start-up counted once). Times are medians of --runs runs (one run for archives of
more than 200,000 inputs, and for index build). Peak RSS is that of the command's
largest process (its own or one worker's: ``wait4`` counts the children it waited for).
``info`` and the bare loop run in turn (bare, info with each worker count, again), so a
change in the machine's load falls on both; its row gives the wall-time ratio and the
CPU-time ratio (user + system, workers included) to the bare loop of those same runs, the
minor page faults (the bare loop's process faults its 256 KiB buffers in again and again
after some start-ups and not after others, with the same code: about 90,000 faults for
100,000 x 512 against 6,000, as what the start-up left in malloc's heap differs; its system
time moves with them), and the load average before and after. Everything goes to stdout;
the data is removed at the end unless --keep.

Usage: python bench/scaling.py [--sizes 100000,1000000] [--workers 1,2,4,8,16] [--runs 3]
       python bench/scaling.py --sizes 100000 --workers 1,2 --commands info --runs 7
       python bench/scaling.py --sizes 2000 --workers 1,2 --runs 1      # a quick try
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

BARE_LOOP = """
import sys, zipfile
from toolkit.messages import InputBatch
n = 0
with zipfile.ZipFile(sys.argv[1]) as zf:
    for info in zf.infolist():
        if info.filename != "mimetype" and not info.filename.endswith("/"):
            n += len(InputBatch.FromString(zf.read(info)).inputs)
print(n)
"""

DICT_LOOP = """
import json, sys, zipfile
from google.protobuf.json_format import MessageToDict
from toolkit.messages import InputBatch
limit, n = int(sys.argv[2]), 0
with zipfile.ZipFile(sys.argv[1]) as zf, open(sys.argv[3], "w") as out:
    for info in zf.infolist():
        if info.filename == "mimetype" or info.filename.endswith("/"):
            continue
        for record in InputBatch.FromString(zf.read(info)).inputs:
            out.write(json.dumps(MessageToDict(record, preserving_proto_field_name=True)) + "\\n")
            n += 1
            if n >= limit:
                sys.exit(0)
"""


def _env() -> dict[str, str]:
    """This environment, with the checkout first on the path (and what was there kept),
    and the bytecode cache on, as installed (a machine that sets PYTHONDONTWRITEBYTECODE
    would have every start compile the toolkit again)."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": path}


def make_archive(path: Path, count: int, dim: int, seed: int = 0) -> Path:
    """``count`` inputs, each an id, one concept (of 20) and one ``dim``-d embedding.

    Runs in a process of its own (``--make``): this one stays small, because a child's
    peak RSS starts from its parent's at the fork.
    """
    if path.exists():
        return path
    if "numpy" not in sys.modules:
        command = [PY, __file__, "--make", str(path), str(count), str(dim), str(seed)]
        subprocess.run(command, check=True, env=_env())
        return path
    import numpy as np

    from toolkit._wire import encode_field, encode_varint
    from toolkit.archive import ArchiveWriter

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    one = b"\x1d" + np.float32(1).tobytes()  # Concept.value = 1.0 (field 3, fixed32)
    concepts = [
        encode_field(3, encode_field(1, f"c{k}".encode()) + encode_field(2, f"C{k}".encode()) + one)
        for k in range(20)
    ]
    tail = b"\x10" + encode_varint(dim)
    with ArchiveWriter(path, batch_size=128) as writer:
        for start in range(0, count, 8192):
            block = rng.standard_normal((min(8192, count - start), dim), dtype=np.float32)
            for offset, vector in enumerate(block):
                n = start + offset
                data = concepts[n % 20] + encode_field(9, encode_field(1, vector.tobytes()) + tail)
                writer.add_serialized(
                    encode_field(1, f"in-{n:08d}".encode()) + encode_field(2, data)
                )
    return path


def run(command: list[str], *, cpus: int | None) -> tuple[float, float, float]:
    """Seconds, peak RSS (MiB) and CPU seconds (user + system, its workers included) of
    one whole process, pinned to ``cpus`` CPUs."""
    seconds, usage = run_usage(command, cpus=cpus)
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def run_usage(command: list[str], *, cpus: int | None) -> tuple[float, Any]:
    """Seconds and resource usage (``wait4``'s, its workers included) of one whole
    process, pinned to ``cpus`` CPUs."""
    if cpus is not None and shutil.which("taskset") and cpus <= len(os.sched_getaffinity(0)):
        allowed = sorted(os.sched_getaffinity(0))[:cpus]
        command = ["taskset", "-c", ",".join(map(str, allowed)), *command]
    env = _env()
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(command)}\n{stderr}")
    return seconds, usage


def median_run(
    runs: int, command: list[str], cpus: int | None, clean: Path | None = None
) -> tuple[float, float, float]:
    """Median seconds, the largest peak RSS and the median CPU seconds of ``runs`` runs
    (``clean`` removed first)."""
    times, peaks, cpu = [], [], []
    for _ in range(runs):
        if clean is not None:
            remove(clean)
        seconds, peak, used = run(command, cpus=cpus)
        times.append(seconds)
        peaks.append(peak)
        cpu.append(used)
    return statistics.median(times), max(peaks), statistics.median(cpu)


def interleaved(
    runs: int, commands: list[tuple[list[str], int | None]]
) -> list[tuple[float, float, float, float]]:
    """For each command, its median seconds, largest peak RSS (MiB), median CPU seconds
    and median minor page faults, the commands run in turn ``runs`` times (the first,
    then the next, ..., then again)."""
    seen: list[list[tuple[float, Any]]] = [[] for _ in commands]
    for _ in range(runs):
        for figures, (command, cpus) in zip(seen, commands, strict=True):
            figures.append(run_usage(command, cpus=cpus))
    return [
        (
            statistics.median(seconds for seconds, _ in figures),
            max(usage.ru_maxrss for _, usage in figures) / 1024,
            statistics.median(usage.ru_utime + usage.ru_stime for _, usage in figures),
            statistics.median(usage.ru_minflt for _, usage in figures),
        )
        for figures in seen
    ]


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (Linux), or a dash."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "-"


def info_row(
    archive: Path, size: int, counts: list[int], runs: int
) -> tuple[str, dict[int, tuple[float, float, float, float]]]:
    """``info --json`` with each worker count and the bare loop, interleaved: the row."""
    load_before = load_average()
    commands: list[tuple[list[str], int | None]] = [([PY, "-c", BARE_LOOP, str(archive)], 1)]
    for w in counts:
        cmd = [PY, "-m", "toolkit", "-q", "info", str(archive), "--json", "--workers", str(w)]
        commands.append((cmd, w))
    interleaved(1, commands)  # warm: the bytecode cache written, the archive read once
    (bare, _, bare_cpu, bare_faults), *measured = interleaved(runs, commands)
    figures = dict(zip(counts, measured, strict=True))
    one = figures[counts[0]][0]
    cells = [f"bare {bare:6.2f} s cpu {bare_cpu:.2f} {bare_faults / 1000:.0f}k faults"]
    for w in counts:
        seconds, peak, used, faults = figures[w]
        cells.append(
            f"w{w}: {seconds:6.2f} s {seconds / bare:5.2f}x /{one / seconds:4.1f} "
            f"{peak:4.0f}MiB cpu {used:.2f} {used / bare_cpu:4.2f}x {faults / 1000:.0f}k faults"
        )
    row = f"{'info':<18} {size:>8}  " + " | ".join(cells)
    return row + f"  (load {load_before} -> {load_average()}, {runs} runs)", figures


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def main() -> None:
    if sys.argv[1:2] == ["--make"]:
        import numpy  # noqa: F401 - the archive is made here

        path, count, dim, seed = sys.argv[2:6]
        make_archive(Path(path), int(count), int(dim), int(seed))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="Archive sizes (inputs).")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--workers", default="1,2,4,8,16", help="Worker counts to try.")
    parser.add_argument("--runs", type=int, default=3, help="Runs per figure (small archives).")
    parser.add_argument("--dict-inputs", type=int, default=2000, help="Inputs for MessageToDict.")
    parser.add_argument("--commands", default="info,jsonl,coco,index")
    parser.add_argument("--index-kind", default="auto", help="--kind for index build.")
    parser.add_argument("--data", type=Path, default=Path("/tmp/clarifai-scaling"))
    parser.add_argument("--keep", action="store_true", help="Keep the archives under --data.")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    counts = [int(w) for w in args.workers.split(",")]
    commands = args.commands.split(",")
    cores = len(os.sched_getaffinity(0))
    print(
        f"# scaling: {cores} usable CPUs, python {sys.version.split()[0]}, sizes {sizes}, "
        f"dim {args.dim}, workers {counts}, load average {load_average()}"
    )
    args.data.mkdir(parents=True, exist_ok=True)
    out = args.data / "out"
    rows: list[str] = []
    try:
        for size in sizes:
            runs = args.runs if size <= 200_000 else 1
            started = time.perf_counter()
            archive = make_archive(args.data / f"emb-{size}x{args.dim}.zip", size, args.dim)
            mib = archive.stat().st_size / 2**20
            made = time.perf_counter() - started
            print(f"# {size} x {args.dim}: {mib:.0f} MiB, made in {made:.1f} s")
            bare, bare_rss, bare_cpu = median_run(runs, [PY, "-c", BARE_LOOP, str(archive)], 1)
            print(
                f"bare loop (1 process)        {bare:7.2f} s  {bare_rss:6.0f} MiB  "
                f"cpu {bare_cpu:.2f} s"
            )
            dict_n = min(args.dict_inputs, size)
            empty, _, _ = median_run(runs, [PY, "-c", "import toolkit.messages"], 1)
            dict_t, _, _ = median_run(
                runs,
                [PY, "-c", DICT_LOOP, str(archive), str(dict_n), str(out) + ".dict"],
                1,
            )
            per_input = max(dict_t - empty, 1e-9) / dict_n
            dict_total = empty + per_input * size
            print(
                f"MessageToDict+json.dumps     {dict_total:7.2f} s  (scaled from {dict_n} "
                f"inputs: {per_input * 1e6:.0f} us an input)"
            )
            remove(Path(str(out) + ".dict"))
            for name in commands:
                if name == "info":
                    row, _ = info_row(archive, size, counts, runs)
                    rows.append(row)
                    print(row, flush=True)
                    continue
                figures: dict[int, tuple[float, float, float]] = {}
                for w in counts:
                    if name == "jsonl":
                        cmd = [
                            PY,
                            "-m",
                            "toolkit",
                            "-q",
                            "convert",
                            str(archive),
                            "--to",
                            "jsonl",
                            "-o",
                            "-",
                            "--workers",
                            str(w),
                        ]
                    elif name == "coco":
                        cmd = [
                            PY,
                            "-m",
                            "toolkit",
                            "-q",
                            "convert",
                            str(archive),
                            "--to",
                            "coco",
                            "--media",
                            "none",
                            "-o",
                            str(out),
                            "--force",
                        ]
                    elif name == "index":
                        cmd = [
                            PY,
                            "-m",
                            "toolkit",
                            "-q",
                            "index",
                            "build",
                            str(archive),
                            "-o",
                            str(out),
                            "--kind",
                            args.index_kind,
                        ]
                    else:
                        raise SystemExit(f"unknown command {name!r}")
                    tries = 1 if name == "index" else runs  # the longest: one run each
                    figures[w] = median_run(tries, cmd, w, clean=out)
                remove(out)
                base = {"coco": bare, "jsonl": dict_total}.get(name)
                one = figures[counts[0]][0]
                cells = []
                for w in counts:
                    seconds, peak, used = figures[w]
                    ratio = f" {seconds / base:5.2f}x" if base and name != "jsonl" else ""
                    speed = f" {base / seconds:4.0f}x" if name == "jsonl" else ""
                    cells.append(
                        f"w{w}: {seconds:6.2f} s{ratio}{speed} /{one / seconds:4.1f} "
                        f"{peak:4.0f}MiB cpu {used:.1f}"
                    )
                label = {
                    "jsonl": "convert jsonl",
                    "coco": "convert coco",
                    "index": f"index build {args.index_kind}",
                }[name]
                row = f"{label:<18} {size:>8}  " + " | ".join(cells)
                rows.append(row)
                print(row, flush=True)
    finally:
        if not args.keep:
            remove(args.data)
    print()
    print("# summary: per worker count: seconds, ratio to the bare loop (info, coco) or")
    print("# speed-up over MessageToDict+json.dumps (jsonl), /speed-up over the first worker")
    print("# count, peak RSS of the command's largest process, CPU seconds (workers included)")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
