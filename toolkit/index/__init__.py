"""Similarity search over the embeddings an archive carries (numpy and FAISS stay in here).

An index folder holds ``vectors.npy`` (float32 ``(n, d)``, L2-normalised for the
cosine metric, memory-mappable), ``ids.json`` (input ids in row order),
``index.faiss`` (``faiss.write_index``) and ``index.json`` (the sidecar: dimension,
metric, kind and parameters, counts, source archives with SHA-256, toolkit
version, the measured recall@10 and the tuned search settings).

Example::

    from toolkit.index import SimilarityIndex, build_index, find_duplicates

    build_index(["clarifai-data-protobuf.zip"], "my-index")
    index = SimilarityIndex.load("my-index")
    hits = index.search_like(["img-0007"], k=5)[0]          # [Hit(id, score, rank), ...]
    groups = find_duplicates(index, threshold=0.95)
"""

from __future__ import annotations

from ._engine import FLAT_MAX, KINDS, METRICS
from ._select import Selection
from .core import (
    ChangeReport,
    Hit,
    SimilarityIndex,
    add_to_index,
    build_index,
    build_index_from_arrays,
    parse_size,
    remove_from_index,
)
from .ops import (
    DEFAULT_DUPLICATE_THRESHOLD,
    DuplicateGroup,
    EvalReport,
    evaluate_index,
    find_duplicates,
    similar_ids,
)
from .sheet import (
    CAPTION_HEIGHT,
    Media,
    SheetRow,
    gather_media,
    render_sheet,
    write_gallery,
    write_sheet,
)

__all__ = [
    "CAPTION_HEIGHT",
    "DEFAULT_DUPLICATE_THRESHOLD",
    "FLAT_MAX",
    "KINDS",
    "METRICS",
    "ChangeReport",
    "DuplicateGroup",
    "EvalReport",
    "Hit",
    "Media",
    "Selection",
    "SheetRow",
    "SimilarityIndex",
    "add_to_index",
    "build_index",
    "build_index_from_arrays",
    "evaluate_index",
    "find_duplicates",
    "gather_media",
    "parse_size",
    "remove_from_index",
    "render_sheet",
    "similar_ids",
    "write_gallery",
    "write_sheet",
]
