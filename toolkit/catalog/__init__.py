"""A local catalog of datasets and versions that mirrors Clarifai's dataset API.

Example::

    from toolkit.catalog import Catalog
    from toolkit.subset import FilterCriteria

    catalog = Catalog()                                # $CLARIFAI_ARCHIVE_HOME or a per-user folder
    catalog.datasets.add("clarifai-data-protobuf.zip", dataset="birds", version="v1")
    catalog.datasets.patch("birds", action="merge", description="Birds, May export")
    print(catalog.versions.get("birds", "v1").metrics["inputs_count"])
    record = catalog.get_input("birds", "img-0001")   # from the id index, no scan
    catalog.filters.add("boxes", FilterCriteria(has_regions=True))   # a saved filter
"""

from __future__ import annotations

from ._files import default_home
from .catalog import (
    Catalog,
    DatasetInfo,
    Datasets,
    DerivedVersion,
    InputLocation,
    VersionInfo,
    Versions,
)
from .db import SCHEMA_VERSION
from .filters import FilterInfo, Filters
from .patch import PATCH_ACTIONS, PatchAction, apply_patch, merge_value
from .refs import CatalogRef, derived_version_id, parse_ref, version_id_from_file_name

__all__ = [
    "PATCH_ACTIONS",
    "SCHEMA_VERSION",
    "Catalog",
    "CatalogRef",
    "DatasetInfo",
    "Datasets",
    "DerivedVersion",
    "FilterInfo",
    "Filters",
    "InputLocation",
    "PatchAction",
    "VersionInfo",
    "Versions",
    "apply_patch",
    "default_home",
    "derived_version_id",
    "merge_value",
    "parse_ref",
    "version_id_from_file_name",
]
