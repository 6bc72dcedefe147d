"""Archives as a ``dask.dataframe.DataFrame``: one partition per range of batch entries.

Needs the ``[dask]`` extra (``pip install 'clarifai-archive-toolkit[dask]'``). Each
partition is a pure function of (archive, entry range) (``dd.from_map``, as Dask's own
readers are), so a retried or speculative task gives the same rows. Archives may be
local paths or fsspec URLs (``s3://``, ``gs://``, ``file://``): the workers open them
where they are stored. The columns are those of ``convert --to parquet``
(:mod:`toolkit.tabular.schema`).

Example::

    from dask.distributed import Client
    import toolkit.dask

    client = Client("tcp://scheduler:8786")
    ddf = toolkit.dask.read_archives(["s3://exports/a.zip", "s3://exports/b.zip"])
    ddf.groupby("input_type").id.count().compute()
    ddf.to_parquet("s3://tables/all/")
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .distributed.parts import DEFAULT_PART_BYTES, Part, plan_archives, read_part
from .limits import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    import dask.dataframe as dd
    import numpy as np
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "embedding_matrix",
    "one_chunk_columns",
    "read_archives",
    "read_part_pandas",
    "to_pandas",
]


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """A table of the Parquet schema as pandas, every column Arrow-backed
    (``pd.ArrowDtype``): the types are the Parquet file's, nullable integers stay
    integers, and ``ddf.to_parquet`` writes the same schema back. :func:`embedding_matrix`
    gives the embeddings as a numpy array."""
    import pandas as pd

    frame: pd.DataFrame = table.to_pandas(types_mapper=pd.ArrowDtype)
    return frame


def embedding_matrix(column: pd.Series) -> np.ndarray:
    """The ``embedding`` column of a computed frame as a float32 ``(n, d)`` array (no
    Python float per value; rows without an embedding are NaN).

    Example::

        matrix = embedding_matrix(ddf.embedding.compute())
    """
    import numpy as np
    import pyarrow as pa

    found = pa.array(column.array)  # the Arrow data itself (pd.ArrowDtype)
    kind = found.type
    if not pa.types.is_fixed_size_list(kind):
        return np.empty((len(column), 0), dtype=np.float32)
    array = found.combine_chunks() if isinstance(found, pa.ChunkedArray) else found
    if array.null_count:
        array = array.fill_null(pa.scalar([float("nan")] * kind.list_size, kind))
    flat = array.flatten().to_numpy(zero_copy_only=False)
    return np.asarray(flat, dtype=np.float32).reshape(len(column), kind.list_size)


def read_part_pandas(part: Part) -> pd.DataFrame:
    """The rows of one part as a pandas data frame (what a Dask task runs), each column
    but the embedding in one chunk (:func:`one_chunk_columns`)."""
    return to_pandas(one_chunk_columns(read_part(part)))


def one_chunk_columns(table: pa.Table, *, keep: Sequence[str] = ("embedding",)) -> pa.Table:
    """``table`` with each column but those named in ``keep`` made one chunk.

    The reader gives one chunk per batch entry (128 rows in Clarifai's exports). A Dask
    worker measures each result it holds (``dask.sizeof``, twice: when the task ends and
    when the result is stored), and pandas' Arrow arrays count bytes chunk by chunk: 20-50
    ms a partition of 25,000 rows, more than joining the small columns costs (about 8 ms).
    The embedding column, most of the bytes, is left as it is: it is counted in one step
    and copying it would cost more than that saves."""
    import pyarrow as pa

    columns = [
        column if name in keep or column.num_chunks <= 1 else column.combine_chunks()
        for name, column in zip(table.column_names, table.columns, strict=True)
    ]
    return pa.Table.from_arrays(columns, schema=table.schema)


def read_archives(
    paths_or_refs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    columns: Sequence[str] | None = None,
    *,
    embedding: int = 0,
    metadata_columns: Sequence[str] = (),
    part_bytes: int = DEFAULT_PART_BYTES,
    limits: Limits = DEFAULT_LIMITS,
    storage_options: Mapping[str, Any] | None = None,
    home: str | None = None,
) -> dd.DataFrame:
    """The inputs of the archives as a Dask data frame, in order (archive, then entry).

    ``paths_or_refs``: local paths, fsspec URLs or catalog references
    ``DATASET[@VERSION]`` (resolved here, on the client; ``home``: the catalog's folder).
    ``columns`` picks and orders columns; ``embedding`` and ``metadata_columns`` are
    those of ``convert --to parquet``. A partition holds about ``part_bytes`` of batch
    entries. ``limits`` (the reader's safety limits) apply on every worker;
    ``storage_options`` go to fsspec (credentials, endpoints).

    Only the zip directories are read here, and the first entries up to an embedding
    (its size fixes the schema); nothing else is read until the frame is computed.

    Example::

        ddf = read_archives(["a.zip", "b.zip"], columns=["id", "embedding"])
        ids = ddf.id.compute()
    """
    import dask.dataframe as dd
    import pyarrow as pa

    plan = plan_archives(
        paths_or_refs,
        columns,
        embedding=embedding,
        metadata_columns=metadata_columns,
        part_bytes=part_bytes,
        limits=limits,
        storage_options=storage_options,
        home=home,
    )
    meta = to_pandas(pa.Table.from_batches([], schema=plan.schema))
    parts = list(plan.parts)
    if not parts:  # only empty archives: one empty partition keeps the schema
        empty: dd.DataFrame = dd.from_pandas(meta, npartitions=1)  # type: ignore[no-untyped-call]
        return empty
    frame: dd.DataFrame = dd.from_map(  # type: ignore[no-untyped-call]
        read_part_pandas,
        parts,
        meta=meta,
        label="read-archives",
        enforce_metadata=False,
    )
    return frame
