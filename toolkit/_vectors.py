"""Embeddings as float32 views of the wire bytes (no Python float per value)."""

from __future__ import annotations

import numpy as np

from ._wire import packed_floats
from .messages import Input

__all__ = ["embedding_of"]


def embedding_of(record: Input, which: int) -> np.ndarray | None:
    """Embedding ``which`` of ``record`` as float32 (a view of its wire bytes), or None when
    the input has no such embedding or it is empty."""
    embeddings = record.data.embeddings
    if which >= len(embeddings):
        return None
    embedding = embeddings[which]
    vector = packed_floats(embedding.SerializeToString())
    if vector is None:
        if not len(embedding.vector):
            return None
        vector = np.asarray(embedding.vector, dtype=np.float32)
    return vector if len(vector) else None
