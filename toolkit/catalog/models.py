"""What the catalog returns: datasets, versions and where an input is.

Plain frozen dataclasses, built by :mod:`toolkit.catalog.store` from the database's rows.

Example::

    info = catalog.versions.get("birds", "v1")     # a VersionInfo
    print(info.ref, info.inputs_count, info.to_dict(metrics=False))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DatasetInfo", "DerivedVersion", "InputLocation", "VersionInfo"]


@dataclass(frozen=True)
class VersionInfo:
    """One version of a dataset, as the catalog records it."""

    dataset_id: str
    id: str
    name: str
    description: str
    #: The archive file, inside the catalog home.
    archive: Path
    sha256: str
    size: int
    inputs_count: int
    #: Batch entries of the archive.
    entries_count: int
    #: Metrics as ``clarifai-archive info --json`` prints them.
    metrics: dict[str, Any]
    created_at: str
    modified_at: str
    #: The version this one was made from (``inputs delete``, ``datasets merge``), if any.
    parent: str | None
    #: How it was made: ``add``, ``delete-inputs`` or ``merge``.
    origin: str
    #: The file it was added from, or what was merged in.
    source: str
    #: True when the archive file is gone (moved or deleted by hand).
    missing: bool
    #: True when its input id index is built.
    indexed: bool
    pk: int = field(repr=False, compare=False, default=0)

    @property
    def ref(self) -> str:
        """``DATASET@VERSION``."""
        return f"{self.dataset_id}@{self.id}"

    def to_dict(self, *, metrics: bool = True) -> dict[str, Any]:
        """A JSON-ready dict (Clarifai's field names where Clarifai has the field)."""
        out: dict[str, Any] = {
            "id": self.id,
            "dataset_id": self.dataset_id,
            "name": self.name,
            "description": self.description,
            "created_at": self.created_at,
            "modified_at": self.modified_at,
            "inputs_count": self.inputs_count,
            "archive": str(self.archive),
            "size": self.size,
            "sha256": self.sha256,
            "missing": self.missing,
            "parent": self.parent,
            "origin": self.origin,
            "source": self.source,
        }
        if metrics:
            out["metrics"] = self.metrics
        return out


@dataclass(frozen=True)
class DatasetInfo:
    """One dataset, with a summary of its versions."""

    id: str
    description: str
    notes: str
    metadata: dict[str, Any]
    #: The cover image: ``{"url": ...}`` or ``{"file": <path in the home>}``, or None.
    image: dict[str, str] | None
    default_filter_id: str
    created_at: str
    modified_at: str
    versions_count: int
    #: Id of the latest version, None when the dataset has none.
    latest_version: str | None
    #: Inputs in the latest version.
    inputs_count: int
    #: Files of this dataset (archives, cover) that are gone from the home.
    missing_files: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (Clarifai's field names where Clarifai has the field)."""
        return {
            "id": self.id,
            "description": self.description,
            "notes": self.notes,
            "metadata": self.metadata,
            "image": self.image,
            "default_filter_id": self.default_filter_id,
            "created_at": self.created_at,
            "modified_at": self.modified_at,
            "versions_count": self.versions_count,
            "latest_version": self.latest_version,
            "inputs_count": self.inputs_count,
            "missing_files": list(self.missing_files),
        }


@dataclass(frozen=True)
class DerivedVersion:
    """A version made from another one, and what the operation reported."""

    version: VersionInfo
    #: The version it was made from (None: ``datasets.merge(..., create=True)`` made the
    #: dataset, and this is its first version).
    parent: VersionInfo | None
    #: Input ids asked for that the parent does not hold (``inputs delete``).
    missing_ids: tuple[str, ...] = ()
    #: The report of the operation (``RemoveReport``, ``MergeReport``).
    report: Any = None


@dataclass(frozen=True)
class InputLocation:
    """Where an input is: its version and the index of its batch entry."""

    version: VersionInfo
    entry: int
