"""Helpers shared by the tests (importable as ``from helpers import make_input``)."""

from __future__ import annotations

import random
from collections.abc import Iterable

from toolkit.messages import Input


def make_input(
    input_id: str,
    *,
    concepts: Iterable[tuple[str, float]] = (),
    image_bytes: bytes = b"",
    width: int = 0,
    height: int = 0,
    text: str | None = None,
    vector: Iterable[float] | None = None,
    metadata: dict | None = None,
    boxes: Iterable[tuple[str, float, float, float, float]] = (),
) -> Input:
    """A hand-made input: ``boxes`` are (concept, top, left, bottom, right)."""
    record = Input(id=input_id)
    data = record.data
    if text is not None:
        data.text.raw = text
    else:
        data.image.base64 = image_bytes
        if width or height:
            data.image.image_info.width = width
            data.image.image_info.height = height
    for concept_id, value in concepts:
        data.concepts.add(id=concept_id, name=concept_id.title(), value=value)
    if vector is not None:
        vec = list(vector)
        data.embeddings.add(vector=vec, num_dimensions=len(vec))
    if metadata:
        data.metadata.update(metadata)
    for n, (concept_id, top, left, bottom, right) in enumerate(boxes):
        region = data.regions.add(id=f"{input_id}-r{n}", value=1.0)
        box = region.region_info.bounding_box
        box.top_row, box.left_col, box.bottom_row, box.right_col = top, left, bottom, right
        region.data.concepts.add(id=concept_id, name=concept_id.title(), value=1.0)
    return record


def damaged_copies(base: bytes, count: int, seed: int) -> list[bytes]:
    """``count`` seeded copies of ``base`` with 1 to 4 damages each: a byte changed, a
    few bytes cut or a few inserted (for the C reader's differential tests)."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        data = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            action = rng.random()
            at = rng.randrange(len(data))
            if action < 0.6:
                data[at] = rng.randrange(256)
            elif action < 0.8:
                del data[at : at + rng.randint(1, 8)]
            else:
                data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
        out.append(bytes(data))
    return out
