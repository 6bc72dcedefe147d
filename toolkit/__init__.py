"""clarifai-archive-toolkit: work on Clarifai dataset exports offline.

Example::

    from toolkit import ArchiveReader, compute_metrics

    with ArchiveReader("clarifai-data-protobuf.zip") as reader:
        print(compute_metrics(reader.iter_inputs()).inputs_count)
"""

from __future__ import annotations

import importlib
from typing import Any

from .archive import (
    JSON_MIMETYPE,
    PROTOBUF_MIMETYPE,
    ArchiveReader,
    ArchiveWriter,
    BatchEntry,
    write_archive,
)
from .concepts import ConceptKeys
from .errors import (
    ArchiveError,
    CatalogError,
    ConflictError,
    EmptyArchiveError,
    EmptyResultError,
    IndexMismatchError,
    InputNotFoundError,
    LimitError,
    MediaError,
    NotInCatalogError,
    OutputError,
    SchemaError,
    ToolkitError,
    UnknownConceptError,
)
from .inputs import list_inputs
from .jsonmap import input_from_json, input_to_dict, input_to_json
from .limits import DEFAULT_LIMITS, Limits
from .metrics import ConceptCount, Metrics, compute_metrics

__version__ = "0.1.0"

#: Public names of the heavier modules, imported on first use so that ``import toolkit``
#: (and every CLI start) stays fast: faiss, the catalog and the converters load only when used.
_LAZY = {
    "convert": ("ConvertReport", "FORMATS", "convert_archives"),
    "media": ("FileNamer", "MediaReport", "MediaSink", "read_pat", "sniff_extension"),
    "merge": ("CONFLICT_POLICIES", "MergeReport", "merge_archives"),
    "subset": ("FilterCriteria", "FilterReport", "RemoveReport", "filter_inputs", "remove_inputs"),
    "split": ("SplitReport", "split_archive"),
    "relabel": ("RelabelReport", "RelabelRules", "relabel_archive"),
    "dedupe": ("DedupeReport", "dedupe_archive"),
    "catalog": ("Catalog", "DatasetInfo", "VersionInfo"),
    "unknown": ("UnknownFields", "describe_unknown_fields", "find_unknown_fields"),
    "index": (
        "DuplicateGroup",
        "EvalReport",
        "Hit",
        "Selection",
        "SimilarityIndex",
        "add_to_index",
        "build_index",
        "evaluate_index",
        "find_duplicates",
        "remove_from_index",
        "similar_ids",
        "write_gallery",
        "write_sheet",
    ),
}
_LAZY_NAMES = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_LIMITS",
    "JSON_MIMETYPE",
    "PROTOBUF_MIMETYPE",
    "ArchiveError",
    "ArchiveReader",
    "ArchiveWriter",
    "BatchEntry",
    "CatalogError",
    "ConceptCount",
    "ConceptKeys",
    "ConflictError",
    "EmptyArchiveError",
    "EmptyResultError",
    "IndexMismatchError",
    "InputNotFoundError",
    "LimitError",
    "Limits",
    "MediaError",
    "Metrics",
    "NotInCatalogError",
    "OutputError",
    "SchemaError",
    "ToolkitError",
    "UnknownConceptError",
    "__version__",
    "compute_metrics",
    "input_from_json",
    "input_to_dict",
    "input_to_json",
    "list_inputs",
    "write_archive",
    *sorted(_LAZY_NAMES),
]
