"""The ``clarifai.api`` message classes the toolkit reads and writes.

They come from our own ``proto/clarifai/api/resources.proto`` (same field numbers as
Clarifai's), generated into ``toolkit/_proto``.
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
