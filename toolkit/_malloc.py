"""glibc's ``mallopt``, and worker processes that keep the memory they free.

glibc returns the top of its heap to the kernel once more than ``M_TRIM_THRESHOLD``
bytes there are free (about twice the largest block freed so far), and maps blocks over
``M_MMAP_THRESHOLD`` bytes afresh each time. A worker that allocates a few hundred KB
per batch entry (the entry's bytes, its rows, numpy temporaries) and frees them again
then takes every one of those pages as a new page fault, batch after batch: 1.27
million faults to read 1M x 512 embeddings with two workers, which doubled their CPU
time. :func:`keep_freed_memory` raises the mmap threshold to where glibc's own
adjustment can take it (32 MiB) and the trim threshold to 8 MiB, so freed memory stays
for the next batch (70 thousand faults, half the CPU time). Only glibc has ``mallopt``;
elsewhere nothing changes. (``toolkit.distributed.malloc`` uses the same binding for
Dask's workers.)
"""

from __future__ import annotations

import ctypes
import functools
import platform
from typing import Any

__all__ = [
    "KEPT_BYTES",
    "M_MMAP_THRESHOLD",
    "M_TRIM_THRESHOLD",
    "RAISED_THRESHOLD",
    "glibc",
    "keep_freed_memory",
]

#: ``mallopt``'s parameter numbers (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: The highest mmap threshold glibc's own adjustment reaches on 64-bit
#: (DEFAULT_MMAP_THRESHOLD_MAX); the adjustment keeps the trim threshold at twice it.
RAISED_THRESHOLD = 32 * 1024 * 1024


@functools.cache
def glibc() -> Any:
    """glibc itself (for ``mallopt``), or None on another C library."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
    except (OSError, AttributeError):
        return None
    return libc


#: Free memory a worker keeps at the top of its heap: a few batches' worth (reading 1M x
#: 512 with two workers faulted as little with 4 MiB as with 64 MiB; more only holds RSS).
KEPT_BYTES = 8 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Raise this process's mmap threshold to 32 MiB and its trim threshold to
    :data:`KEPT_BYTES` (glibc only; for the rest of the process's life); True when done."""
    libc = glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, RAISED_THRESHOLD)) and bool(
        libc.mallopt(M_TRIM_THRESHOLD, KEPT_BYTES)
    )
