"""The ``clarifai.api`` message classes the toolkit reads and writes.

They come from our own ``proto/`` (every message and field of Clarifai's that
``clarifai.api.InputBatch`` reaches, written from ``clarifai-grpc`` by
``scripts/gen_schema.py``), generated into ``toolkit/_proto``. The other messages are in
``toolkit._proto.resources_pb2`` (and ``status_pb2`` for ``Status``).
"""

from __future__ import annotations

from ._proto.resources_pb2 import (
    Audio,
    BoundingBox,
    Concept,
    Data,
    Dataset,
    DatasetVersion,
    DatasetVersionExportFormat,
    DatasetVersionMetrics,
    Embedding,
    Frame,
    FrameInfo,
    HostedURL,
    Image,
    ImageInfo,
    Input,
    InputBatch,
    Mask,
    Point,
    Polygon,
    Region,
    RegionInfo,
    Text,
    Video,
    VideoInfo,
)

__all__ = [
    "Audio",
    "BoundingBox",
    "Concept",
    "Data",
    "Dataset",
    "DatasetVersion",
    "DatasetVersionExportFormat",
    "DatasetVersionMetrics",
    "Embedding",
    "Frame",
    "FrameInfo",
    "HostedURL",
    "Image",
    "ImageInfo",
    "Input",
    "InputBatch",
    "Mask",
    "Point",
    "Polygon",
    "Region",
    "RegionInfo",
    "Text",
    "Video",
    "VideoInfo",
]
