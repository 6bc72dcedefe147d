"""Arrow arrays straight from buffers (the C reader's bytes, numpy arrays).

``pyarrow.array()`` imports pandas on its first call whenever pandas is installed (to
check for pandas objects), which costs a command like ``convert --to parquet`` about
0.3 s; ``Array.from_buffers`` does not, and copies nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

__all__ = ["bitmap", "fixed_list", "numbers", "offsets", "strings"]


def bitmap(valid: np.ndarray) -> pa.Buffer | None:
    """An Arrow validity bitmap of the boolean array ``valid`` (None when all are valid)."""
    if valid.all():
        return None
    return pa.py_buffer(np.packbits(valid, bitorder="little"))


def numbers(kind: pa.DataType, values: Any, valid: np.ndarray | None = None) -> pa.Array:
    """A numeric array of the C-contiguous buffer ``values`` (native byte order, as Arrow),
    null where ``valid`` is False."""
    data = np.ascontiguousarray(values)
    mask = None if valid is None else bitmap(valid)
    return pa.Array.from_buffers(kind, len(data), [mask, pa.py_buffer(data)])


def offsets(data: bytes | np.ndarray) -> pa.Array:
    """An int32 array of list offsets."""
    values = np.frombuffer(data, np.int32) if isinstance(data, bytes) else data
    return numbers(pa.int32(), values)


def strings(parts: Sequence[bytes], rows: int) -> pa.Array:
    """A string array of ``(offsets, data, validity bitmap)`` as the C reader writes them."""
    off, data, valid = parts
    buffers = [pa.py_buffer(valid), pa.py_buffer(off), pa.py_buffer(data)]
    return pa.Array.from_buffers(pa.string(), rows, buffers)


def fixed_list(floats: np.ndarray, dim: int, valid: np.ndarray | None = None) -> pa.Array:
    """A ``fixed_size_list<float32, dim>`` array of the flat float32 ``floats`` (rows of
    ``dim``), null where ``valid`` is False."""
    rows = len(floats) // dim if dim else 0
    values = numbers(pa.float32(), floats)
    mask = None if valid is None else bitmap(valid)
    return pa.Array.from_buffers(pa.list_(pa.float32(), dim), rows, [mask], children=[values])
