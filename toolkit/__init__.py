"""clarifai-archive-toolkit: work on Clarifai dataset exports offline.

Example::

    from toolkit import ArchiveReader, compute_metrics

    with ArchiveReader("clarifai-data-protobuf.zip") as reader:
        print(compute_metrics(reader.iter_inputs()).inputs_count)
"""

from __future__ import annotations

from .archive import (
    JSON_MIMETYPE,
    PROTOBUF_MIMETYPE,
    ArchiveReader,
    ArchiveWriter,
    BatchEntry,
    write_archive,
)
from .errors import (
    ArchiveError,
    CatalogError,
    ConflictError,
    EmptyArchiveError,
    IndexMismatchError,
    InputNotFoundError,
    LimitError,
    MediaError,
    NotInCatalogError,
    OutputError,
    SchemaError,
    ToolkitError,
)
from .inputs import list_inputs
from .jsonmap import input_from_json, input_to_dict, input_to_json
from .limits import DEFAULT_LIMITS, Limits
from .metrics import ConceptCount, Metrics, compute_metrics

__version__ = "0.1.0"

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
    "ConflictError",
    "EmptyArchiveError",
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
    "__version__",
    "compute_metrics",
    "input_from_json",
    "input_to_dict",
    "input_to_json",
    "list_inputs",
    "write_archive",
]
