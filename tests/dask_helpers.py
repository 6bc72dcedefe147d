"""Archives for the cluster tests, and a partition function that kills its worker once."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from helpers import make_input
from index_helpers import realistic_vectors, write_vector_archive

from toolkit.archive import ArchiveWriter
from toolkit.distributed.parts import Part


def write_mixed_archive(path: Path, prefix: str, n: int, dim: int, seed: int) -> Path:
    """An archive of ``n`` inputs: most with an embedding, labels, metadata, a box; every
    seventh without an embedding, every eleventh a text input; entries of 37 inputs."""
    vectors = realistic_vectors(n, dim, seed=seed)
    with ArchiveWriter(path, batch_size=37) as writer:
        for i in range(n):
            record = make_input(
                f"{prefix}{i:05d}",
                concepts=[("cat", 1.0), ("dog", 0.0)] if i % 2 else [("bird", 1.0)],
                text=f"text {i}" if i % 11 == 0 else None,
                width=0 if i % 11 == 0 else 64 + i % 5,
                height=0 if i % 11 == 0 else 48,
                vector=None if i % 7 == 3 else vectors[i],
                metadata={"split": "train" if i % 3 else "test", "n": i},
                boxes=[("cat", 0.1, 0.2, 0.5, 0.6)] if i % 5 == 0 else (),
            )
            writer.add(record)
    return path


def write_archives(folder: Path, count: int = 3, n: int = 300, dim: int = 32) -> list[Path]:
    """``count`` mixed archives with distinct ids (``a0-00000``, ``a1-00000``...)."""
    return [
        write_mixed_archive(folder / f"a{i}.zip", f"a{i}-", n, dim, seed=10 + i)
        for i in range(count)
    ]


def write_plain_vectors(folder: Path, count: int, n: int, dim: int) -> list[Path]:
    """``count`` archives of ``n`` seeded vectors each (ids ``s0-00000``...)."""
    return [
        write_vector_archive(
            folder / f"s{i}.zip", realistic_vectors(n, dim, seed=20 + i), prefix=f"s{i}-"
        )
        for i in range(count)
    ]


def read_or_die(part: Part, marker_dir: str) -> pd.DataFrame:
    """``read_part_pandas(part)``, except that part 1 kills its worker process the first
    time it runs (a marker file records that it did)."""
    from toolkit.dask import read_part_pandas

    marker = Path(marker_dir) / f"part-{part.number}.died"
    if part.number == 1 and not marker.exists():
        marker.write_text(str(os.getpid()))
        os._exit(17)
    return read_part_pandas(part)


def matrix_bytes(frame: pd.DataFrame) -> bytes:
    """The embeddings of a computed frame (NaN rows where none), as bytes."""
    from toolkit.dask import embedding_matrix

    return np.ascontiguousarray(embedding_matrix(frame["embedding"])).tobytes()
