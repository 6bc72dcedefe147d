"""clarifai-archive-toolkit: work on Clarifai dataset exports offline.

Example::

    from toolkit import ArchiveReader, compute_metrics

    with ArchiveReader("clarifai-data-protobuf.zip") as reader:
        print(compute_metrics(reader.iter_inputs()).inputs_count)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:  # what the lazy names below are, for type checkers (explicit re-exports)
    from .catalog import Catalog as Catalog
    from .catalog import DatasetInfo as DatasetInfo
    from .catalog import VersionInfo as VersionInfo
    from .convert import FORMATS as FORMATS
    from .convert import ConvertOptions as ConvertOptions
    from .convert import ConvertReport as ConvertReport
    from .convert import convert_archives as convert_archives
    from .dataset import Archive as Archive
    from .dataset import open_archive as open_archive
    from .dedupe import DedupeReport as DedupeReport
    from .dedupe import dedupe_archive as dedupe_archive
    from .index import DuplicateGroup as DuplicateGroup
    from .index import EvalReport as EvalReport
    from .index import Hit as Hit
    from .index import Selection as Selection
    from .index import SimilarityIndex as SimilarityIndex
    from .index import add_to_index as add_to_index
    from .index import build_index as build_index
    from .index import evaluate_index as evaluate_index
    from .index import find_duplicates as find_duplicates
    from .index import remove_from_index as remove_from_index
    from .index import similar_ids as similar_ids
    from .index import write_gallery as write_gallery
    from .index import write_sheet as write_sheet
    from .input_ids import InputIds as InputIds
    from .media import FileNamer as FileNamer
    from .media import MediaReport as MediaReport
    from .media import MediaSink as MediaSink
    from .media import read_pat as read_pat
    from .media import sniff_extension as sniff_extension
    from .merge import CONFLICT_POLICIES as CONFLICT_POLICIES
    from .merge import MergeReport as MergeReport
    from .merge import merge_archives as merge_archives
    from .relabel import RelabelReport as RelabelReport
    from .relabel import RelabelRules as RelabelRules
    from .relabel import relabel_archive as relabel_archive
    from .split import SplitReport as SplitReport
    from .split import split_archive as split_archive
    from .subset import FilterCriteria as FilterCriteria
    from .subset import FilterReport as FilterReport
    from .subset import RemoveReport as RemoveReport
    from .subset import filter_inputs as filter_inputs
    from .subset import remove_inputs as remove_inputs
    from .unknown import UnknownFields as UnknownFields
    from .unknown import describe_unknown_fields as describe_unknown_fields
    from .unknown import find_unknown_fields as find_unknown_fields

    open = open_archive

__version__ = "0.1.0"

#: Public names of the heavier modules, imported on first use so that ``import toolkit``
#: (and every CLI start) stays fast: faiss, the catalog and the converters load only when used.
_LAZY = {
    "dataset": ("Archive", "open_archive"),
    "convert": ("ConvertOptions", "ConvertReport", "FORMATS", "convert_archives"),
    "media": ("FileNamer", "MediaReport", "MediaSink", "read_pat", "sniff_extension"),
    "merge": ("CONFLICT_POLICIES", "MergeReport", "merge_archives"),
    "subset": ("FilterCriteria", "FilterReport", "RemoveReport", "filter_inputs", "remove_inputs"),
    "split": ("SplitReport", "split_archive"),
    "relabel": ("RelabelReport", "RelabelRules", "relabel_archive"),
    "dedupe": ("DedupeReport", "dedupe_archive"),
    "catalog": ("Catalog", "DatasetInfo", "VersionInfo"),
    "unknown": ("UnknownFields", "describe_unknown_fields", "find_unknown_fields"),
    "input_ids": ("InputIds",),
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
#: ``toolkit.open`` is ``toolkit.dataset.open_archive``.
_LAZY_NAMES["open"] = "dataset"
_RENAMED = {"open": "open_archive"}


def __getattr__(name: str) -> Any:
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), _RENAMED.get(name, name))
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
