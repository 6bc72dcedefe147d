"""Quiet FAISS's on-disk lists: its C++ code ``printf`` s to standard output when it
resizes or relocates an ``.ivfdata`` file, which would corrupt a command's JSON output.

Example::

    with quiet_c_stdout():
        index = faiss.read_index(path, faiss.IO_FLAG_ONDISK_SAME_DIR)
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading
from collections.abc import Iterator

__all__ = ["quiet_c_stdout"]

_LOCK = threading.Lock()


def _flush_c() -> None:
    with contextlib.suppress(Exception):  # no libc to call (not on Linux or macOS)
        ctypes.CDLL(None).fflush(None)


@contextlib.contextmanager
def quiet_c_stdout() -> Iterator[None]:
    """Send what C code writes to file descriptor 1 to the null device meanwhile (Python's
    own ``sys.stdout`` is flushed first, so nothing of it is lost)."""
    with _LOCK:
        try:
            sys.stdout.flush()
            saved = os.dup(1)
        except (OSError, ValueError, AttributeError):  # no real stdout: nothing to protect
            yield
            return
        try:
            with open(os.devnull, "wb") as null:
                _flush_c()
                os.dup2(null.fileno(), 1)
                try:
                    yield
                finally:
                    _flush_c()
                    os.dup2(saved, 1)
        finally:
            os.close(saved)
