"""Catalog references ``DATASET[@VERSION]`` and the rules for dataset and version ids.

Example::

    ref = parse_ref("birds@v2")          # CatalogRef(dataset="birds", version="v2")
    ref = parse_ref("birds")             # the latest version of "birds"
    version_id_from_file_name("clarifai-data-protobuf (1).zip")   # "clarifai-data-protobuf-1"
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass

from ..errors import CatalogError

__all__ = [
    "ID_PATTERN",
    "CatalogRef",
    "derived_version_id",
    "is_valid_id",
    "parse_ref",
    "unique_id",
    "validate_id",
    "version_id_from_file_name",
]

#: Dataset and version ids: letters, digits, ``_``, ``-`` and ``.``; 1 to 128 characters;
#: no leading ``.`` or ``-`` and no trailing ``.`` (they become file and folder names).
ID_PATTERN = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,126}[A-Za-z0-9_-])?")
_MAX_ID = 128
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
#: Operations that derive a new version from an old one, and the suffix they add.
_DERIVED_SUFFIX = re.compile(r"-(?:del|merge|relabel|dedupe)\d+$")


@dataclass(frozen=True)
class CatalogRef:
    """A dataset and, optionally, one of its versions (None: the latest)."""

    dataset: str
    version: str | None = None

    def __str__(self) -> str:
        return self.dataset if self.version is None else f"{self.dataset}@{self.version}"


def is_valid_id(value: str) -> bool:
    """True when ``value`` may be a dataset or version id."""
    return ID_PATTERN.fullmatch(value) is not None


def validate_id(value: str, *, what: str = "id") -> str:
    """Return ``value`` when it is a valid id, else raise :class:`CatalogError`.

    Example::

        validate_id("birds-2024", what="dataset id")
    """
    if not is_valid_id(value):
        raise CatalogError(
            f"{value!r} is not a valid {what}: use 1 to {_MAX_ID} letters, digits, '_', '-' "
            "or '.', starting with a letter, digit or '_' and not ending with '.'"
        )
    return value


def parse_ref(ref: str) -> CatalogRef:
    """Split ``DATASET[@VERSION]``; raise :class:`CatalogError` when it is not one.

    Example::

        parse_ref("birds@v2").version   # "v2"
    """
    dataset, sep, version = ref.partition("@")
    if sep and not version:
        raise CatalogError(f"{ref!r}: nothing after '@'; write DATASET or DATASET@VERSION")
    if not is_valid_id(dataset) or (sep and not is_valid_id(version)):
        raise CatalogError(f"{ref!r} is not a catalog reference DATASET[@VERSION]")
    return CatalogRef(dataset, version if sep else None)


def version_id_from_file_name(name: str) -> str:
    """A version id made from an archive's file name: its stem, with unsafe characters as '-'.

    Example::

        version_id_from_file_name("export 2024-05.zip")    # "export-2024-05"
    """
    stem = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if stem.lower().endswith(".zip"):
        stem = stem[:-4]
    cleaned = _UNSAFE.sub("-", stem)
    cleaned = re.sub(r"-{2,}", "-", cleaned).strip("-.")
    cleaned = cleaned.lstrip("-.")[: _MAX_ID - 8].rstrip("-.")
    return cleaned or "version"


def unique_id(base: str, taken: Container[str]) -> str:
    """``base``, or ``base-2``, ``base-3``, ... whichever is not in ``taken``."""
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def derived_version_id(parent: str, operation: str, taken: Container[str]) -> str:
    """The id of a version made by ``operation`` (``del``, ``merge``, ``relabel``, ``dedupe``)
    from ``parent``.

    The scheme: the parent id without an earlier ``-del<n>``/``-merge<n>`` suffix, then
    ``-<operation><n>`` with the smallest ``n`` from 1 that is free in the dataset, so
    ``v1`` gives ``v1-del1``, whose own deletion gives ``v1-del2``.

    Example::

        derived_version_id("v1-del1", "del", {"v1", "v1-del1"})    # "v1-del2"
    """
    if operation not in ("del", "merge", "relabel", "dedupe"):
        raise ValueError(f"unknown operation {operation!r}")
    root = _DERIVED_SUFFIX.sub("", parent)[: _MAX_ID - 12] or "version"
    n = 1
    while f"{root}-{operation}{n}" in taken:
        n += 1
    return f"{root}-{operation}{n}"
