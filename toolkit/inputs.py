"""List and fetch inputs the way Clarifai's API pages them.

Example::

    with ArchiveReader(path) as reader:
        page = list_inputs(reader.iter_inputs(), page=2, per_page=10, concept="cat")
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from .messages import Input
from .records import has_concept

__all__ = ["list_inputs"]


def list_inputs(
    inputs: Iterable[Input],
    *,
    page: int = 1,
    per_page: int = 100,
    concept: str | None = None,
) -> list[Input]:
    """One page of inputs (1-based); a page past the end is empty.

    ``concept`` keeps inputs with that positive label on the input or one of its
    regions. Reading stops as soon as the page is complete.
    """
    if page < 1:
        raise ValueError("page must be at least 1")
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    selected: Iterable[Input] = inputs
    if concept is not None:
        selected = (record for record in inputs if has_concept(record, concept))
    start = (page - 1) * per_page
    return list(islice(selected, start, start + per_page))
