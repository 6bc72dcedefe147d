"""The page prefaulter of Archive.embeddings(): it maps pages without changing a byte,
next to a thread that writes them, and stops before the matrix moves."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit import _native, _prefault
from toolkit._prefault import Prefaulter

needs_c = pytest.mark.skipif(_native.SPEEDUPS is None, reason="the C reader is not built")


@needs_c
@pytest.mark.parametrize("small_pages", [False, True])
def test_prefault_keeps_every_byte(small_pages: bool) -> None:
    assert _native.SPEEDUPS is not None
    data = np.random.default_rng(0).integers(0, 256, 3 * 4096 + 123, dtype=np.uint8)
    # an unaligned slice: only the whole pages inside it are touched
    buffer = np.zeros(len(data) + 7, dtype=np.uint8)
    window = buffer[5 : 5 + len(data)]
    window[:] = data
    _native.SPEEDUPS.prefault(memoryview(window), small_pages)
    assert np.array_equal(window, data)
    assert not buffer[:5].any() and not buffer[5 + len(data) :].any()


@needs_c
def test_prefault_refuses_a_read_only_buffer() -> None:
    assert _native.SPEEDUPS is not None
    with pytest.raises(TypeError):
        _native.SPEEDUPS.prefault(b"\0" * 8192)


@needs_c
def test_prefaulter_beside_a_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows written while the thread maps pages keep their values."""
    monkeypatch.setattr(_prefault, "_MIN_BYTES", 0)
    monkeypatch.setattr(_prefault, "_CHUNK", 64 * 1024)
    matrix = np.empty((4096, 512), dtype=np.float32)  # 8 MiB
    expected = np.arange(matrix.size, dtype=np.float32).reshape(matrix.shape)
    prefaulter = Prefaulter(matrix)
    for row in range(0, len(matrix), 64):
        matrix[row : row + 64] = expected[row : row + 64]
    prefaulter.stop()
    assert not prefaulter.running
    prefaulter.stop()  # idempotent
    assert np.array_equal(matrix, expected)


def test_prefaulter_skips_small_or_strided_arrays() -> None:
    small = Prefaulter(np.empty((10, 4), dtype=np.float32))
    assert not small.running
    strided = Prefaulter(np.empty((2, 64 * 1024**2), dtype=np.uint8)[:, ::2])
    assert not strided.running
    small.stop()
    strided.stop()


def test_prefaulter_without_the_c_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_prefault, "SPEEDUPS", None)
    monkeypatch.setattr(_prefault, "_MIN_BYTES", 0)
    prefaulter = Prefaulter(np.empty((64, 64), dtype=np.float32))
    assert not prefaulter.running
    prefaulter.stop()
