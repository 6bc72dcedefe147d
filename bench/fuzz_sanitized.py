"""Differential C-vs-Python fuzz of the C reader built with AddressSanitizer and UBSan.

Builds ``toolkit/_speedups.c`` with ``-fsanitize=address,undefined`` into a private copy
of the package (the checkout's own build is left alone), then, in a child process that
preloads the sanitizer runtime, mutates InputBatch entries for the minutes asked (byte
flips, cuts, inserts and non-minimal varints: tags, lengths and values in 2-11 bytes) and
checks, per mutated batch:

- acceptance: ``scan_batch`` accepts only what protobuf parses, with the same input ids;
- output: for accepted batches (one in ``--convert-every``), ``convert --to coco`` gives
  the same ``annotations.json`` bytes and report with the C reader and without it;
- vectors: ``batch_vectors_packed`` (embedding 0 or 1) accepts only what protobuf parses
  and gives the same ids, sizes and float32 values; ``table_arrow`` runs on every case too
  (under the sanitizers; tests/test_convert_parquet.py compares its columns);
- metrics: ``batch_metrics`` (``info``'s counts) accepts only what protobuf parses and
  gives the very metrics ``MetricsCounter.add`` counts of protobuf's inputs;
- module state: every ``--fresh-every`` cases the reader is swapped for a new module
  object of it (multi-phase init: its own schema tables) and the old one is dropped, so
  its ``m_free`` runs under AddressSanitizer too.

Any sanitizer report ends the child with a non-zero exit (``halt_on_error``). Prints the
cases run, how many each side accepted, the conversions compared and the differences.

Usage::

    python bench/fuzz_sanitized.py --minutes 30 [--seed 1] [--convert-every 20] [--fresh-every 5000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import dataclasses, importlib.util, random, sys, time
from pathlib import Path
import numpy as np
sys.path.insert(0, {tests!r})
from google.protobuf.message import DecodeError
from fuzz.harness import base_records, reencode_varints
from convert_helpers import varied_inputs
from toolkit import _native
from toolkit.archive import ArchiveWriter
from toolkit.convert import convert_archives
from toolkit.convert import coco as coco_module
from toolkit.errors import ToolkitError
from toolkit.messages import InputBatch
from toolkit.metrics import MetricsCounter, compute_metrics

assert _native.SPEEDUPS is not None and "sanitized" in _native.SPEEDUPS.__file__
minutes, seed, every, work = {minutes!r}, {seed!r}, {every!r}, Path({work!r})
fresh_every = {fresh_every!r}
rng = random.Random(seed)
records = varied_inputs(10) + base_records(count=6)
for i, record in enumerate(records):
    record.data.metadata.update({{"i": float(i), "s": "x\x01" * i, "l": [1.0, None, "y"]}})
    for k in range(i % 3):  # none, one or two embeddings of 0-4 floats
        record.data.embeddings.add(vector=[0.5 * i, -1.25, 3e38, 1e-40][: (i + k) % 5])
bases = [InputBatch(inputs=records[i : i + 4]).SerializeToString() for i in range(0, 16, 4)]

def mutate(data):
    if rng.random() < 0.4:
        data = reencode_varints(rng, data, chance=rng.choice([0.02, 0.1, 0.3]))
        if rng.random() < 0.5:
            return data
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(max(1, len(out)))
        action = rng.random()
        if action < 0.6 and out:
            out[at] = rng.randrange(256)
        elif action < 0.8:
            del out[at : at + rng.randint(1, 8)]
        else:
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
    return bytes(out)

def convert(path, out, c_reader):
    saved = coco_module.SPEEDUPS
    if not c_reader:
        coco_module.SPEEDUPS = None
    try:
        return convert_archives([path], out, to="coco")
    except ToolkitError as exc:
        return type(exc).__name__
    finally:
        coco_module.SPEEDUPS = saved

def fresh_reader():
    spec = importlib.util.find_spec("toolkit._speedups")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.load_schema(_native.schema_tables(InputBatch.DESCRIPTOR))
    return module

def vectors_differ(found, batch, which):
    (id_offsets, id_bytes, _), dims, floats = found
    starts = np.frombuffer(id_offsets, np.int32).tolist()
    ids = [id_bytes[a:b].decode() for a, b in zip(starts, starts[1:])]
    sizes = np.frombuffer(dims, np.uint32).tolist()
    expected = []
    for record in batch.inputs:
        embeddings = record.data.embeddings
        expected.append(list(embeddings[which].vector) if len(embeddings) > which else [])
    want = np.array([v for vector in expected for v in vector], np.float32)
    return (
        ids != [r.id for r in batch.inputs]
        or sizes != [len(vector) for vector in expected]
        or not np.array_equal(np.frombuffer(floats, "<f4"), want, equal_nan=True)
    )

reader = _native.SPEEDUPS
deadline = time.monotonic() + minutes * 60
cases = c_ok = pb_ok = compared = v_ok = columns_ok = modules = m_ok = 0
differences = []
while time.monotonic() < deadline:
    data = mutate(rng.choice(bases))
    cases += 1
    if cases % fresh_every == 0:
        reader = fresh_reader()  # the previous module object (not the first) is freed
        modules += 1
    # The C reader reads an exact-size copy: past a bytes object's end is its own NUL.
    raw = np.frombuffer(data, np.uint8).copy()
    ids = reader.scan_batch(raw)
    try:
        batch = InputBatch.FromString(data)
        expected = [r.id for r in batch.inputs]
        pb_ok += 1
    except DecodeError:
        batch, expected = None, None
    which = cases % 2
    found = reader.batch_vectors_packed(raw, which)
    if found is not None:
        v_ok += 1
        if batch is None or vectors_differ(found, batch, which):
            differences.append(("vectors", data.hex()))
    columns_ok += reader.table_arrow([raw]) is not None
    counted = reader.batch_metrics(raw)
    if counted is not None:
        m_ok += 1
        if batch is None:
            differences.append(("metrics", data.hex()))
        else:
            counter = MetricsCounter()
            counter.add_wire_metrics(counted)
            if counter.result() != compute_metrics(batch.inputs):
                differences.append(("metrics", data.hex()))
    if ids is not None:
        c_ok += 1
        if ids != expected:
            differences.append(("acceptance", data.hex()))
            continue
    if ids is None or not expected or cases % every:
        continue
    path = work / "m.zip"
    with ArchiveWriter(path) as writer:
        writer.add_encoded_batch(data, len(expected))
    shutil_rm = __import__("shutil").rmtree
    for name in ("c", "py"):
        shutil_rm(work / name, ignore_errors=True)
    fast = convert(path, work / "c", True)
    plain = convert(path, work / "py", False)
    compared += 1
    if isinstance(fast, str) or isinstance(plain, str):
        if fast != plain:
            differences.append(("error", f"{{fast}} vs {{plain}}: {{data.hex()}}"))
        continue
    same = (work / "c" / "annotations.json").read_bytes() == (
        work / "py" / "annotations.json"
    ).read_bytes()
    a, b = dataclasses.asdict(fast), dataclasses.asdict(plain)
    for key in ("output", "sources"):
        a.pop(key), b.pop(key)
    if not same or a != b:
        differences.append(("output", data.hex()))
print(f"cases {{cases}}; scan_batch accepted {{c_ok}}, protobuf parsed {{pb_ok}}; "
      f"batch_vectors_packed accepted {{v_ok}}, table_arrow {{columns_ok}}, "
      f"batch_metrics {{m_ok}}; "
      f"conversions compared {{compared}}; fresh module objects {{modules}}; "
      f"differences {{len(differences)}}")
for kind, detail in differences[:10]:
    print(f"  {{kind}}: {{detail[:400]}}")
sys.exit(1 if differences else 0)
"""


def build(target: Path) -> Path:
    """A copy of the package in ``target`` with the C reader built under the sanitizers."""
    package = target / "toolkit"
    shutil.copytree(ROOT / "toolkit", package, ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    include = sysconfig.get_paths()["include"]
    flags = ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined"]
    flags += ["-fno-sanitize-recover=undefined", "-ffp-contract=off", "-fno-fast-math"]
    # The module's own name must stay _speedups; the "sanitized" folder marks the build.
    out = package / f"_speedups{suffix}"
    subprocess.run(
        ["cc", *flags, "-shared", "-fPIC", f"-I{include}", str(ROOT / "toolkit" / "_speedups.c")]
        + ["-o", str(out)],
        check=True,
    )
    return out


def runtime(name: str) -> str:
    """The path of a sanitizer runtime library of the compiler."""
    found = subprocess.run(
        ["cc", f"-print-file-name={name}"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if not os.path.isabs(found):
        raise SystemExit(f"the compiler has no {name}; install its sanitizer runtime")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--convert-every", type=int, default=20, help="Convert one accepted batch in N both ways."
    )
    parser.add_argument(
        "--fresh-every", type=int, default=5000, help="A new module object every N cases."
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sanitized-") as tmp:
        target = Path(tmp) / "sanitized"
        target.mkdir()
        so = build(target)
        print(f"built {so.name} with -fsanitize=address,undefined", flush=True)
        work = Path(tmp) / "work"
        work.mkdir()
        code = _CHILD.format(
            tests=str(ROOT / "tests"),
            minutes=args.minutes,
            seed=args.seed,
            every=args.convert_every,
            fresh_every=args.fresh_every,
            work=str(work),
        )
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(target), str(ROOT / "tests")])
        env["LD_PRELOAD"] = " ".join([runtime("libasan.so"), runtime("libubsan.so")])
        # CPython's allocator and interned objects look like leaks to LeakSanitizer.
        env["ASAN_OPTIONS"] = "detect_leaks=0:halt_on_error=1:abort_on_error=0"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
        env.pop("CLARIFAI_ARCHIVE_PURE_PYTHON", None)
        # Every Python object from malloc, so AddressSanitizer sees each one's bounds and
        # its use after free (pymalloc's arenas would hide them).
        env["PYTHONMALLOC"] = "malloc"
        result = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp)
        if result.returncode:
            print(f"exit {result.returncode}: a difference or a sanitizer report (above)")
        sys.exit(result.returncode)


if __name__ == "__main__":
    main()
