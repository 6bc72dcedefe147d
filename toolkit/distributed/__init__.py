"""Archives on a cluster: partitions that are pure functions of (archive, entry range).

:mod:`toolkit.distributed.parts` plans and reads the partitions (no scheduler needed);
:mod:`toolkit.distributed.convert` writes them as one Parquet dataset from a local pool
or a Dask cluster. :func:`toolkit.dask.read_archives` and :func:`toolkit.ray.read_archives`
give them to Dask and Ray as data frames.
"""

from __future__ import annotations

from .parts import DEFAULT_PART_BYTES, Part, Plan, open_reader, plan_parts, read_part

__all__ = ["DEFAULT_PART_BYTES", "Part", "Plan", "open_reader", "plan_parts", "read_part"]
