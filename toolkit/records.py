"""Small helpers over the generated messages: types, labels, regions, vectors, media.

They take the parsed ``Input`` messages as they are (no copies), so they are cheap
enough for hot loops.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np

from .messages import Concept, Data, Input, Region

__all__ = [
    "INPUT_TYPES",
    "InputType",
    "embedding_vector",
    "has_concept",
    "has_labels",
    "input_type",
    "iter_regions",
    "media_bytes",
    "positive_concepts",
    "region_shapes",
]

InputType = Literal["image", "video", "text", "audio", "unknown"]
INPUT_TYPES: tuple[InputType, ...] = ("image", "video", "text", "audio")


def input_type(record: Input) -> InputType:
    """What the input holds: ``image``, ``video``, ``text``, ``audio`` or ``unknown``."""
    data = record.data
    if data.HasField("image"):
        return "image"
    if data.HasField("video"):
        return "video"
    if data.HasField("text"):
        return "text"
    if data.HasField("audio"):
        return "audio"
    return "unknown"


def positive_concepts(data: Data) -> list[Concept]:
    """Concepts labelled present (value > 0); value 0 is a negative label."""
    return [c for c in data.concepts if c.value > 0]


def iter_regions(record: Input) -> Iterator[Region]:
    """Every region of the input: its own, then those of its video frames."""
    data = record.data
    yield from data.regions
    for frame in data.frames:
        yield from frame.data.regions


def has_labels(record: Input) -> bool:
    """True when the input has any concept (positive or negative) or any region."""
    data = record.data
    if len(data.concepts) or len(data.regions):
        return True
    return any(len(frame.data.regions) or len(frame.data.concepts) for frame in data.frames)


def has_concept(record: Input, concept_id: str) -> bool:
    """True when ``concept_id`` is a positive label on the input or on one of its regions."""
    for concept in record.data.concepts:
        if concept.id == concept_id and concept.value > 0:
            return True
    for frame in record.data.frames:
        for concept in frame.data.concepts:
            if concept.id == concept_id and concept.value > 0:
                return True
    for region in iter_regions(record):
        for concept in region.data.concepts:
            if concept.id == concept_id and concept.value > 0:
                return True
    return False


def region_shapes(region: Region) -> list[str]:
    """The geometries a region carries: ``bounding_box``, ``polygon``, ``point``, ``mask``."""
    info = region.region_info
    shapes = []
    if info.HasField("bounding_box"):
        shapes.append("bounding_box")
    if info.HasField("polygon"):
        shapes.append("polygon")
    if info.HasField("point"):
        shapes.append("point")
    if info.HasField("mask"):
        shapes.append("mask")
    return shapes


def embedding_vector(record: Input, which: int = 0) -> np.ndarray | None:
    """Embedding number ``which`` of the input as float32, or None when it has none."""
    embeddings = record.data.embeddings
    if which >= len(embeddings):
        return None
    return np.asarray(embeddings[which].vector, dtype=np.float32)


def media_bytes(record: Input) -> bytes:
    """The media bytes carried inside the archive (``base64`` field), or ``b""``."""
    data = record.data
    kind = input_type(record)
    if kind == "image":
        return bytes(data.image.base64)
    if kind == "video":
        return bytes(data.video.base64)
    if kind == "audio":
        return bytes(data.audio.base64)
    if kind == "text":
        return data.text.raw.encode("utf-8")
    return b""
