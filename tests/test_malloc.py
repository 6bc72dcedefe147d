"""Worker processes keep the memory they free (glibc's malloc thresholds raised)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from toolkit import batches

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="mallopt is glibc's",
)

# Allocates 6 MB in 300 KB blocks (a batch's worth), frees them, and counts the faults of doing it
# again: memory handed back to the kernel at the free comes back as new faults.
_SCRIPT = """
import resource, sys
from toolkit._malloc import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def churn():
    blocks = [bytearray(300_000) for _ in range(20)]
    del blocks
churn()
before = faults()
churn()
print(faults() - before)
"""


def _faults(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, mode], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


@glibc
def test_freed_memory_stays_for_the_next_batch() -> None:
    pages = 6_000_000 // 4096
    assert _faults("default") > pages // 2  # handed back, faulted in again
    assert _faults("keep") < pages // 10


def test_workers_keep_freed_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[bool] = []
    monkeypatch.setattr(batches, "keep_freed_memory", lambda: called.append(True) or True)
    monkeypatch.setattr(batches.signal, "signal", lambda *_args: None)
    batches._worker_init()
    assert called == [True]
