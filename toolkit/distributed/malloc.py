"""glibc's mmap threshold raised while a worker reads a part, where Dask froze it.

glibc's ``malloc`` serves blocks over its mmap threshold (128 kB at first) with a fresh
``mmap`` each, and raises the threshold to the size of each such block freed (up to
32 MiB), so a loop that allocates and frees blocks of a few hundred kB soon gets them
from the heap. Setting any of ``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_TOP_PAD_`` or
``MALLOC_MMAP_MAX_`` turns that adjustment off, and Dask's nannies start every worker
with ``MALLOC_TRIM_THRESHOLD_=65536`` (``distributed.nanny.pre-spawn-environ``). The
reader then maps, faults in page by page and unmaps each decompressed batch entry and
each buffer over 128 kB: 95,000 page faults for 100,000 inputs of 512-d embeddings, and
the partition function took 1.6-2x the CPU time (measured in a plain process with and
without that variable: the same loop, the same figures as in a Dask worker).

:func:`heap_for_large_blocks` raises the threshold to glibc's own ceiling (32 MiB), and
the trim threshold to twice that (as glibc's adjustment does), for as long as a part is
read; after, it puts both back as the environment set them, so the rest of the worker
runs as Dask configured it (the next large block freed trims the heap's top again). It
does not call ``malloc_trim``: returning the whole heap after each part cost 4,600 page
faults a partition of 64 MiB (measured). It changes nothing where the adjustment is on,
where ``MALLOC_MMAP_THRESHOLD_`` (or the ``glibc.malloc.mmap_threshold`` tunable) chose
a threshold, or on another C library.

Example::

    with heap_for_large_blocks():
        table = read_part(part)
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping

from .._malloc import M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, RAISED_THRESHOLD, glibc

__all__ = ["RAISED_THRESHOLD", "frozen_threshold", "heap_for_large_blocks"]

#: glibc's thresholds at start (DEFAULT_MMAP_THRESHOLD_MIN, DEFAULT_TRIM_THRESHOLD).
_DEFAULT_THRESHOLD = 128 * 1024

_FREEZING_VARIABLES = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")
_FREEZING_TUNABLES = (
    "glibc.malloc.trim_threshold",
    "glibc.malloc.top_pad",
    "glibc.malloc.mmap_max",
)

_lock = threading.Lock()
_readers = 0


def _tunables(env: Mapping[str, str]) -> dict[str, str]:
    """``GLIBC_TUNABLES`` (``name=value:name=value``) as a dict."""
    pairs = (item.partition("=") for item in env.get("GLIBC_TUNABLES", "").split(":"))
    return {name: value for name, _, value in pairs if name}


def frozen_threshold(environ: Mapping[str, str] | None = None) -> bool:
    """True when ``environ`` (this process's by default) turns glibc's mmap threshold
    adjustment off and leaves the threshold at 128 kB: a trim threshold, top pad or mmap
    count set, no mmap threshold."""
    env = os.environ if environ is None else environ
    tunables = _tunables(env)
    if "MALLOC_MMAP_THRESHOLD_" in env or "glibc.malloc.mmap_threshold" in tunables:
        return False
    return any(name in env for name in _FREEZING_VARIABLES) or any(
        name in tunables for name in _FREEZING_TUNABLES
    )


def _trim_threshold(env: Mapping[str, str]) -> int:
    """The trim threshold the environment set (glibc's default where none)."""
    given = env.get("MALLOC_TRIM_THRESHOLD_") or _tunables(env).get("glibc.malloc.trim_threshold")
    try:
        return int(given, 0) if given else _DEFAULT_THRESHOLD
    except ValueError:
        return _DEFAULT_THRESHOLD


@contextlib.contextmanager
def heap_for_large_blocks() -> Iterator[None]:
    """Within the block, blocks up to 32 MiB come from the heap, and stay there when freed,
    where the environment froze glibc's mmap threshold at 128 kB (a Dask worker). When the
    last thread of this process inside such a block leaves it, the thresholds are those
    of the environment again."""
    global _readers
    libc = glibc() if frozen_threshold() else None
    if libc is None:
        yield
        return
    with _lock:
        _readers += 1
        if _readers == 1:
            libc.mallopt(M_MMAP_THRESHOLD, RAISED_THRESHOLD)
            libc.mallopt(M_TRIM_THRESHOLD, 2 * RAISED_THRESHOLD)
    try:
        yield
    finally:
        with _lock:
            _readers -= 1
            if _readers == 0:
                libc.mallopt(M_MMAP_THRESHOLD, _DEFAULT_THRESHOLD)
                libc.mallopt(M_TRIM_THRESHOLD, _trim_threshold(os.environ))
