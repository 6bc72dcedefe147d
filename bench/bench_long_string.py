"""Peak memory of the commands that write JSON on one input holding a huge escaped string.

Builds an archive (stored, one batch entry) whose single input carries ``--mib`` MiB of
``\\x01`` in its metadata: JSON writes each as ``\\u0001``, six times its size. Then runs
``inputs list --json``, ``inputs get``, and ``convert --to jsonl|json|coco|sdk``, each in
its own process, and prints each one's peak resident memory (``ru_maxrss`` of the child,
from ``os.wait4``), its time, and the ratio of the peak to the batch entry's size. The
baseline measured in the same run is ``info`` (reads the directory only) and a plain
parse of the entry (``ArchiveReader.iter_inputs``).

Usage::

    python bench/bench_long_string.py --mib 250
    python bench/bench_long_string.py --mib 32 --only "inputs get" --only "convert jsonl"
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit.archive import ArchiveWriter  # noqa: E402
from toolkit.messages import Input  # noqa: E402

_PARSE = (
    "import sys; from toolkit.archive import ArchiveReader, Limits\n"
    "with ArchiveReader(sys.argv[1], limits=Limits(max_batch_bytes=1 << 40)) as r:\n"
    "    n = sum(1 for _ in r.iter_inputs())\n"
)


def make_archive(path: Path, mib: int) -> int:
    """Write the archive; return the size of its batch entry."""
    record = Input(id="long")
    record.data.text.raw = "a long string in metadata"
    record.data.metadata.update({"s": "\x01" * (mib << 20), "n": 1})
    with ArchiveWriter(path) as writer:
        writer.add(record)
    return record.ByteSize()


def run(argv: list[str]) -> tuple[int, float, int]:
    """Run ``argv`` with output to /dev/null; return its exit code, seconds and peak KiB."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        proc = subprocess.Popen(argv, stdout=devnull, stderr=subprocess.PIPE)
        assert proc.stderr is not None
        err = proc.stderr.read()
        _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        print(f"    exit {proc.returncode}: {err.decode(errors='replace').strip()[-300:]}")
    return proc.returncode, time.perf_counter() - start, usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=250, help="MiB of \\x01 in the string.")
    parser.add_argument("--only", action="append", help="Only this command (repeat).")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "toolkit", "-q", "--max-batch-bytes", str(1 << 40)]
    with tempfile.TemporaryDirectory(prefix="long-string-") as tmp:
        work = Path(tmp)
        archive = work / "long.zip"
        entry = make_archive(archive, args.mib)
        size = entry / 2**20
        print(f"one input, {args.mib} MiB of \\x01 in metadata; batch entry {size:.0f} MiB")
        a = str(archive)
        commands = {
            "info (baseline)": cli + ["info", a],
            "parse (baseline)": [sys.executable, "-c", _PARSE, a],
            "inputs list --json": cli + ["inputs", "list", a, "--json"],
            "inputs get": cli + ["inputs", "get", a, "long"],
            "convert jsonl": cli + ["convert", a, "--to", "jsonl", "-o", str(work / "o.jsonl")],
            "convert json": cli + ["convert", a, "--to", "json", "-o", str(work / "o.zip")],
            "convert coco": cli + ["convert", a, "--to", "coco", "-o", str(work / "coco")],
            "convert sdk": cli + ["convert", a, "--to", "sdk", "-o", str(work / "sdk.zip")],
        }
        print(f"{'command':<22} {'exit':>4} {'seconds':>8} {'peak MiB':>9} {'peak/entry':>10}")
        for name, argv in commands.items():
            if args.only and name not in args.only:
                continue
            code, seconds, peak_kib = run(argv)
            peak = peak_kib * 1024
            mib, ratio = peak / 2**20, peak / entry
            print(f"{name:<22} {code:>4} {seconds:>8.2f} {mib:>9.0f} {ratio:>10.2f}")
            for leftover in ("o.jsonl", "o.zip", "coco", "sdk.zip"):
                target = work / leftover
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()


if __name__ == "__main__":
    main()
