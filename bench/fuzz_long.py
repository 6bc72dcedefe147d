"""Fuzz every command for minutes: mutated archives, and what each command made of them.

Every case mutates one of a few small valid archives (bit flips, cuts, splices, lying
zip headers, garbage inside re-zipped batch entries with valid CRCs, hostile content
such as path-like ids and image bombs) and runs one row of the command table in
``tests/fuzz/harness.py`` in-process. Prints, per command, the cases run and how many
ended ok, with one clean ``Error:`` line, or as a crash, a hang or a leak (files left
behind or written outside the output folder). Crashing cases are saved for replay.

Usage::

    python bench/fuzz_long.py --cases 100000 [--jobs 2] [--seed 1] [--timeout 10]
    python bench/fuzz_long.py --minutes 30
    python bench/fuzz_long.py --replay bench/_results/fuzz/crash-0001.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fuzz.harness import COMMANDS, Tally, find_command, fuzz, run_case  # noqa: E402

DATA = ROOT / "bench" / "_data" / "fuzz"
RESULTS = ROOT / "bench" / "_results" / "fuzz"


def _worker(job: tuple[int, int, int, float, float | None, list[str] | None]) -> Tally:
    seed, cases, index, timeout, deadline, names = job
    # As in the test suite (filterwarnings = error): a warning is a failure to explain.
    warnings.simplefilter("error")
    commands = [find_command(n) for n in names] if names else None
    folder = DATA / f"worker-{index}"
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()

    def progress(done: int, tally: Tally) -> None:
        rate = done / (time.perf_counter() - start)
        print(
            f"  worker {index}: {done} cases ({rate:.0f}/s), {len(tally.bad)} bad",
            file=sys.stderr,
            flush=True,
        )

    try:
        return fuzz(
            seed=seed,
            cases=cases,
            work=folder / "work",
            commands=commands,
            timeout=timeout,
            deadline=deadline,
            on_progress=progress,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _save_bad(tally: Tally) -> list[Path]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    saved = []
    for n, (finding, mutation, data) in enumerate(tally.bad[:200], 1):
        stem = RESULTS / f"{finding.outcome}-{n:04d}"
        stem.with_suffix(".zip").write_bytes(data)
        record = {
            "command": finding.command,
            "outcome": finding.outcome,
            "mutation": mutation,
            "exit_code": finding.exit_code,
            "seconds": round(finding.seconds, 3),
            "detail": finding.detail,
            "stderr": finding.stderr,
            "archive": str(stem.with_suffix(".zip")),
        }
        stem.with_suffix(".json").write_text(json.dumps(record, indent=2))
        saved.append(stem.with_suffix(".json"))
    return saved


def replay(path: Path, timeout: float) -> None:
    record = json.loads(path.read_text())
    command = find_command(record["command"])
    finding = run_case(
        command,
        Path(record["archive"]).read_bytes(),
        DATA / "replay" / "work",
        input_id="in-001",
        timeout=timeout,
    )
    print(json.dumps(finding.__dict__, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=None, help="Cases in all (default 100000).")
    parser.add_argument("--minutes", type=float, default=None, help="Stop after this long.")
    parser.add_argument("--jobs", type=int, default=1, help="Processes (one per core).")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=10.0, help="Seconds before a hang.")
    parser.add_argument("--command", action="append", help="Only this row (repeat).")
    parser.add_argument("--replay", type=Path, help="Run one saved case again.")
    args = parser.parse_args()
    if args.replay:
        replay(args.replay, args.timeout)
        return
    cases = args.cases if args.cases is not None else (10**9 if args.minutes else 100_000)
    deadline = time.monotonic() + args.minutes * 60 if args.minutes else None
    names = args.command
    rows = len(names) if names else len(COMMANDS)
    print(f"fuzzing {rows} commands, {args.jobs} process(es), seed {args.seed}", flush=True)
    start = time.perf_counter()
    share = -(-cases // args.jobs)
    jobs = [
        (args.seed * 1000 + i, min(share, cases - i * share), i, args.timeout, deadline, names)
        for i in range(args.jobs)
    ]
    tally = Tally()
    if args.jobs == 1:
        tally = _worker(jobs[0])
    else:
        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            for part in pool.imap_unordered(_worker, jobs):
                tally.merge(part)
    elapsed = time.perf_counter() - start
    print(tally.table())
    print(
        f"{tally.total} fuzzed archives in {elapsed / 60:.1f} min "
        f"({tally.total / max(elapsed, 1e-9):.0f} a second); "
        f"crashes, hangs and leaks: {len(tally.bad)}"
    )
    for saved in _save_bad(tally):
        print(f"  saved {saved}")
    sys.exit(1 if tally.bad else 0)


if __name__ == "__main__":
    main()
