"""Seeded embeddings that look like real ones, and archives that carry them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from toolkit.archive import ArchiveWriter
from toolkit.messages import Input


def _on_grid(values: np.ndarray, bits: int) -> np.ndarray:
    """``values`` (float64) rounded to multiples of 2**-bits (an elementwise, exact step)."""
    return np.round(np.asarray(values, np.float64) * 2.0**bits) / 2.0**bits


def realistic_vectors(n: int, d: int, *, seed: int = 0, alpha: float = 0.75) -> np.ndarray:
    """Gaussian vectors with a decaying spectrum (std_i = (1+i)^-alpha) in a random
    rotation, plus isotropic noise (0.01): no separated clusters, so an approximate
    index cannot score perfectly by luck. float32, not normalised.

    The same bits on every machine: the factors are put on binary grids (samples on
    multiples of 2**-20, the mixing matrix on 2**-16) so that the float64 product is exact
    whatever order BLAS adds in, and the result is rounded once to float32."""
    rng = np.random.default_rng(seed)
    rotation, _ = np.linalg.qr(rng.standard_normal((d, d)))
    spectrum = (np.arange(d) + 1.0) ** -alpha
    mix = _on_grid(spectrum[:, None] * rotation, 16)
    samples = _on_grid(rng.standard_normal((n, d), dtype=np.float32), 20)
    noise = _on_grid(0.01 * rng.standard_normal((n, d), dtype=np.float32), 20)
    return (samples @ mix + noise).astype(np.float32)


def assert_top_k(
    got_ids: Sequence[Sequence[str]],
    exact: np.ndarray,
    ids: Sequence[str],
    *,
    atol: float = 1e-5,
) -> None:
    """Each row of hits is a best-first top k of that row of ``exact`` (scores of every
    id, float64), up to ties: the i-th hit scores what the i-th best does, within
    ``atol``. Two ids whose scores differ by less than float32 rounding may come in either
    order on another CPU (SIMD, BLAS), so ties are not held to one order."""
    position = {input_id: i for i, input_id in enumerate(ids)}
    for row, hits in zip(exact, got_ids, strict=True):
        assert len(set(hits)) == len(hits), hits
        best = np.sort(row)[::-1][: len(hits)]
        np.testing.assert_allclose(row[[position[h] for h in hits]], best, atol=atol, rtol=0)


def vector_input(input_id: str, vector: Sequence[float] | np.ndarray | None) -> Input:
    """An image input (a hosted URL only) carrying one embedding."""
    record = Input(id=input_id)
    record.data.image.url = f"https://example.com/{input_id}.jpg"
    if vector is not None:
        values = np.asarray(vector, dtype=np.float32)
        record.data.embeddings.add(vector=values.tolist(), num_dimensions=len(values))
    return record


def write_vector_archive(
    path: Path,
    vectors: np.ndarray,
    *,
    ids: Sequence[str] | None = None,
    prefix: str = "v",
    batch_size: int = 256,
) -> Path:
    """An archive with one input per row of ``vectors`` (ids ``v00000``, ... unless given)."""
    names = list(ids) if ids is not None else [f"{prefix}{i:05d}" for i in range(len(vectors))]
    with ArchiveWriter(path, batch_size=batch_size) as writer:
        for input_id, vector in zip(names, vectors, strict=True):
            writer.add_serialized(vector_input(input_id, vector).SerializeToString())
    return path
