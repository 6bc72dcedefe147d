"""Archives as a ``ray.data.Dataset``: one block per range of batch entries.

Needs the ``[ray]`` extra (``pip install 'clarifai-archive-toolkit[ray]'``). As with
:func:`toolkit.dask.read_archives`, each block is a pure function of (archive, entry
range), read on the Ray workers where the archives are stored (local paths or fsspec
URLs), with the Parquet schema of ``convert --to parquet``.

Example::

    import ray
    import toolkit.ray

    ray.init(address="auto")
    ds = toolkit.ray.read_archives(["s3://exports/a.zip", "s3://exports/b.zip"])
    ds.write_parquet("s3://tables/all/")
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .distributed.parts import DEFAULT_PART_BYTES, plan_archives, read_part
from .limits import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    import pyarrow as pa
    import ray.data

__all__ = ["read_archives"]


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
) -> ray.data.Dataset:
    """The inputs of the archives as a Ray dataset, in order (archive, then entry); the
    arguments are those of :func:`toolkit.dask.read_archives`. Lazy: the workers read the
    archives when the dataset is consumed. Ray yields blocks as they are ready; set
    ``ray.data.DataContext.get_current().execution_options.preserve_order = True`` to get
    them in that order.

    Example::

        ds = read_archives(["a.zip", "b.zip"], columns=["id", "embedding"])
        print(ds.count())
    """
    import ray.data

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
    if not plan.parts:
        return ray.data.from_arrow(plan.schema.empty_table())
    numbers = ray.data.from_items(
        [{"part": part.number} for part in plan.parts], override_num_blocks=len(plan.parts)
    )
    parts, schema = list(plan.parts), plan.schema

    def read(batch: Any) -> pa.Table:
        """The numbers of some parts in, their rows out (one table)."""
        import pyarrow as pa

        tables = [read_part(parts[int(n)]) for n in batch["part"]]
        return pa.concat_tables(tables) if tables else schema.empty_table()

    return numbers.map_batches(
        read,
        batch_size=1,
        batch_format="numpy",
        zero_copy_batch=True,
    )
