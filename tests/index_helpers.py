"""Seeded embeddings that look like real ones, and archives that carry them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from toolkit.archive import ArchiveWriter
from toolkit.messages import Input


def realistic_vectors(n: int, d: int, *, seed: int = 0, alpha: float = 0.75) -> np.ndarray:
    """Gaussian vectors with a decaying spectrum (std_i = (1+i)^-alpha) in a random
    rotation, plus isotropic noise (0.01): no separated clusters, so an approximate
    index cannot score perfectly by luck. float32, not normalised."""
    rng = np.random.default_rng(seed)
    rotation, _ = np.linalg.qr(rng.standard_normal((d, d)))
    spectrum = (np.arange(d) + 1.0) ** -alpha
    mix = (spectrum[:, None] * rotation).astype(np.float32)
    x = rng.standard_normal((n, d), dtype=np.float32) @ mix
    x += 0.01 * rng.standard_normal((n, d), dtype=np.float32)
    return x.astype(np.float32)


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
