"""Version operations: ``catalog.versions``, and registering a new version in the store.

Every version is recorded by :func:`register_version`, inside the write transaction
that also moves its archive into the home, so a crash leaves the catalog as it was.

Example::

    for v in catalog.versions.list("birds"):
        print(v.id, v.inputs_count)
    catalog.versions.patch("birds", "v1", name="first export")
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from ..errors import CatalogError
from ..limits import Limits
from ._scan import ScanResult, scan
from .models import VersionInfo
from .refs import derived_version_id
from .store import NewVersion, Store, Transaction

__all__ = [
    "Origin",
    "Versions",
    "check_version_free",
    "register_derived",
    "register_version",
    "require_file",
    "shown_ids",
]

Origin = Literal["add", "delete-inputs", "merge", "relabel", "dedupe"]


class Versions:
    """``catalog.versions``: list, get, patch, refresh and delete the versions of a dataset."""

    def __init__(self, store: Store, limits: Limits) -> None:
        self._store = store
        self._limits = limits

    def list(self, dataset_id: str, *, page: int = 1, per_page: int = 100) -> list[VersionInfo]:
        """One page of a dataset's versions, newest first.

        Example::

            for v in catalog.versions.list("birds"):
                print(v.id, v.inputs_count, "missing" if v.missing else "")
        """
        check_page(page, per_page)
        with self._store.reading() as session:
            return session.versions(dataset_id, limit=per_page, offset=(page - 1) * per_page)

    def get(self, dataset_id: str, version_id: str) -> VersionInfo:
        """One version, with its metrics.

        Example::

            metrics = catalog.versions.get("birds", "v1").metrics
        """
        with self._store.reading() as session:
            return session.version(dataset_id, version_id)

    def patch(
        self,
        dataset_id: str,
        version_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
    ) -> VersionInfo:
        """Rename a version or change its description (its inputs never change).

        Example::

            catalog.versions.patch("birds", "v1", name="first export")
        """
        if name is None and description is None:
            raise ValueError("nothing to patch: give a name or a description")
        with self._store.writing() as txn:
            version = txn.version(dataset_id, version_id)
            txn.update_version(
                version.pk,
                name=version.name if name is None else name,
                description=version.description if description is None else description,
            )
            return txn.version(dataset_id, version_id)

    def delete(self, dataset_id: str, version_id: str) -> VersionInfo:
        """Delete one version and its archive file. Irreversible. Returns it as it was.

        Example::

            catalog.versions.delete("birds", "v1")
        """
        with self._store.writing() as txn:
            version = txn.version(dataset_id, version_id)
            txn.delete_version(version.pk)
            txn.delete_after_commit([version.archive])
        return version

    def refresh(
        self,
        dataset_id: str,
        version_id: str,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> VersionInfo:
        """Recompute a version's metrics and input index from its archive.

        Also records the file's current size and sha256, so a version whose file was
        replaced by hand is consistent again.

        Example::

            v = catalog.versions.refresh("birds", "v1")
            print(v.metrics["inputs_count"])
        """
        version = self.get(dataset_id, version_id)
        path = require_file(version)
        scanned = scan(path, limits=self._limits, hash_file=True, progress=progress)
        with self._store.writing() as txn:
            current = txn.version(dataset_id, version_id)
            if current.pk != version.pk:  # deleted and made again meanwhile
                raise CatalogError(f"{version.ref} changed while it was refreshed; try again")
            txn.rescan_version(version.pk, scanned)
            return txn.version(dataset_id, version_id)


# -- registering versions --------------------------------------------------------------


def register_version(
    txn: Transaction,
    *,
    dataset_id: str,
    version_id: str | None,
    default_id: Callable[[set[str]], str],
    part: Path,
    scanned: ScanResult,
    name: str,
    description: str,
    parent: str | None,
    origin: Origin,
    source: str,
    create_dataset: bool,
) -> VersionInfo:
    """Insert a version and its index and move its archive ``part`` into place (in ``txn``).

    The version id is ``version_id``, or ``default_id(ids taken)``; the dataset is made
    when ``create_dataset`` and it does not exist.
    """
    if create_dataset and not txn.dataset_exists(dataset_id):
        dataset_pk = txn.insert_dataset(dataset_id)
    else:
        dataset_pk = txn.dataset_pk(dataset_id)  # NotInCatalogError when there is none
    taken = txn.version_ids(dataset_pk)
    if version_id is None:
        version_id = default_id(taken)
    elif version_id in taken:
        raise _taken(dataset_id, version_id)
    file_name = _free_file_name(txn, dataset_id, version_id)
    txn.insert_version(
        NewVersion(
            dataset_pk=dataset_pk,
            id=version_id,
            name=name,
            description=description,
            file_name=file_name,
            parent=parent,
            origin=origin,
            source=source,
            scanned=scanned,
        )
    )
    txn.move(part, txn.home / file_name)
    return txn.version(dataset_id, version_id)


def register_derived(
    store: Store,
    limits: Limits,
    parent: VersionInfo,
    part: Path,
    *,
    version: str | None,
    description: str,
    tag: str,
    origin: Origin,
    source: str,
) -> VersionInfo:
    """Register ``part``, made from ``parent``, as a new version of its dataset: id
    ``version``, or by default ``parent``'s id with ``-<tag><n>``."""
    scanned = scan(part, limits=limits, hash_file=True)
    with store.writing() as txn:
        return register_version(
            txn,
            dataset_id=parent.dataset_id,
            version_id=version,
            default_id=lambda taken: derived_version_id(parent.id, tag, taken),
            part=part,
            scanned=scanned,
            name="",
            description=description,
            parent=parent.id,
            origin=origin,
            source=source,
            create_dataset=False,
        )


def _free_file_name(txn: Transaction, dataset_id: str, version_id: str) -> str:
    base = f"archives/{dataset_id}/{version_id}"
    name, n = f"{base}.zip", 2
    while txn.file_name_taken(name) or (txn.home / name).exists():
        name, n = f"{base}-{n}.zip", n + 1
    return name


def _taken(dataset_id: str, version_id: str) -> CatalogError:
    return CatalogError(
        f"dataset {dataset_id!r} already has a version {version_id!r}; versions are "
        "immutable, so give another --version"
    )


def check_version_free(store: Store, dataset_id: str, version_id: str | None) -> None:
    """Fail early (before any long work) when a given version id is taken."""
    if version_id is None:
        return
    with store.reading() as session:
        taken = session.version_exists(dataset_id, version_id)
    if taken:
        raise _taken(dataset_id, version_id)


def require_file(version: VersionInfo) -> Path:
    """The version's archive; a :class:`CatalogError` naming it when it is gone."""
    if not version.archive.is_file():
        raise CatalogError(
            f"{version.ref}: its archive {version.archive} is missing (moved or deleted "
            "by hand); put the file back, or remove the version with "
            f"'clarifai-archive versions delete {version.ref}'"
        )
    return version.archive


def check_page(page: int, per_page: int) -> None:
    """A ValueError for a page or page size below 1."""
    if page < 1:
        raise ValueError("page must be at least 1")
    if per_page < 1:
        raise ValueError("per_page must be at least 1")


def shown_ids(ids: Sequence[str], limit: int = 5) -> str:
    """The first ``limit`` ids, quoted, and how many more."""
    text = ", ".join(repr(i) for i in ids[:limit])
    return text + (f" and {len(ids) - limit} more" if len(ids) > limit else "")
