"""List and fetch inputs the way Clarifai's API pages them.

Example::

    with ArchiveReader(path) as reader:
        page = list_inputs(reader.iter_inputs(), page=2, per_page=10, concept="cat")
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from .concepts import ConceptKeys
from .messages import Input

__all__ = ["list_inputs"]


def list_inputs(
    inputs: Iterable[Input],
    *,
    page: int = 1,
    per_page: int = 100,
    concept: str | None = None,
    source: str = "<inputs>",
) -> list[Input]:
    """One page of inputs (1-based); a page past the end is empty.

    ``concept`` keeps inputs with a positive label, on the input or one of its frames or
    regions, whose id or name is ``concept`` in any case (see :mod:`toolkit.concepts`).
    When ``concept`` names no concept at all,
    :class:`~toolkit.errors.UnknownConceptError` (naming ``source``) lists the closest.
    Reading stops as soon as the page is complete.
    """
    if page < 1:
        raise ValueError("page must be at least 1")
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    selected: Iterable[Input] = inputs
    keys = ConceptKeys([concept] if concept is not None else [])
    if keys:
        selected = (record for record in inputs if _observed(keys, record))
    start = (page - 1) * per_page
    found = list(islice(selected, start, start + per_page))
    if keys and len(found) < per_page:  # the whole archive was read
        keys.check(source)
    return found


def _observed(keys: ConceptKeys, record: Input) -> bool:
    keys.observe(record)
    return keys.any_positive(record)
