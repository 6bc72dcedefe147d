"""The local catalog: datasets and their versions, as Clarifai's dataset API has them.

A catalog home holds a SQLite database and a copy of every version's archive. Versions
are immutable: deleting inputs or merging another dataset in makes a new version and
leaves the old one as it was. Every change is one database transaction; files are
copied into a locked scratch folder first and moved into place inside that
transaction, so a crash at any point leaves the catalog as it was.

:class:`Catalog` ties the parts together: its :class:`~toolkit.catalog.store.Store`
(the database, its transactions and typed rows) and the operations on it,
``catalog.datasets`` (:mod:`~toolkit.catalog.datasets`), ``catalog.versions``
(:mod:`~toolkit.catalog.versions`) and ``catalog.filters`` (:mod:`~toolkit.catalog.filters`).

Example::

    catalog = Catalog("~/clarifai-catalog")
    v1 = catalog.datasets.add("clarifai-data-protobuf.zip", dataset="birds")
    catalog.datasets.patch("birds", action="merge", notes="From the May export.")
    print([d.id for d in catalog.datasets.list()])
    record = catalog.get_input("birds", "img-0001")      # the latest version
    path = catalog.resolve("birds@" + v1.id)
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from ..archive import ArchiveReader
from ..errors import CatalogError, EmptyResultError, InputNotFoundError, ToolkitError
from ..limits import DEFAULT_LIMITS, Limits
from ..messages import Input
from . import db as _db
from ._files import Workspace, default_home
from .datasets import Datasets
from .filters import FilterInfo, Filters, default_filter
from .models import DatasetInfo, DerivedVersion, InputLocation, VersionInfo
from .refs import CatalogRef, parse_ref, validate_id
from .store import Store
from .versions import (
    Origin,
    Versions,
    check_version_free,
    register_derived,
    require_file,
    shown_ids,
)

__all__ = [
    "Catalog",
    "DatasetInfo",
    "Datasets",
    "DerivedVersion",
    "InputLocation",
    "VersionInfo",
    "Versions",
]


class Catalog:
    """A catalog home: datasets, versions, their archives and an index of input ids.

    ``home`` defaults to :func:`default_home` (``$CLARIFAI_ARCHIVE_HOME`` or a per-user
    folder). Nothing is created until the first change. ``timeout`` is how long a
    writer waits while another process writes.

    Example::

        with Catalog(home) as catalog:
            for dataset in catalog.datasets.list():
                print(dataset.id, dataset.latest_version)
    """

    def __init__(
        self,
        home: str | os.PathLike[str] | None = None,
        *,
        timeout: float = _db.DEFAULT_TIMEOUT,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.home = Path(home).expanduser() if home is not None else default_home()
        self.timeout = timeout
        self.limits = limits
        #: The database and its transactions, which every operation goes through.
        self.store = Store(self.home, timeout=timeout)
        self.datasets = Datasets(self)
        self.versions = Versions(self.store, limits)
        self.filters = Filters(self.store)

    def __repr__(self) -> str:
        return f"Catalog({str(self.home)!r})"

    @property
    def db_path(self) -> Path:
        """The database file."""
        return self.store.path

    def close(self) -> None:
        """Close the database connection (the catalog can be used again afterwards)."""
        self.store.close()

    def __del__(self) -> None:
        # A catalog dropped without close() still closes its database (Python 3.13 warns
        # about SQLite connections left to the garbage collector).
        with contextlib.suppress(Exception):
            self.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- references ---------------------------------------------------------------------

    def version(self, ref: str | CatalogRef) -> VersionInfo:
        """The version a reference ``DATASET[@VERSION]`` names (the latest when no version).

        Example::

            catalog.version("birds").id        # id of the latest version
        """
        parsed = ref if isinstance(ref, CatalogRef) else parse_ref(ref)
        with self.store.reading() as session:
            return session.version(parsed.dataset, parsed.version)

    def default_filter(self, ref: str | CatalogRef) -> FilterInfo | None:
        """The saved filter that is the default of ``ref``'s dataset (None when none is set).

        Example::

            found = catalog.default_filter("birds")
            kept = [r for r in records if found is None or found.criteria.matches(r)]
        """
        parsed = parse_ref(ref) if isinstance(ref, str) else ref
        with self.store.reading() as session:
            session.dataset_pk(parsed.dataset)  # NotInCatalogError when there is none
            return default_filter(session, parsed.dataset)

    def resolve(self, ref: str | CatalogRef) -> Path:
        """The archive file of ``DATASET[@VERSION]``; an error names a missing file.

        Example::

            with ArchiveReader(catalog.resolve("birds@v1")) as reader:
                ...
        """
        return require_file(self.version(ref))

    def locate_input(self, ref: str | CatalogRef, input_id: str) -> InputLocation:
        """Find an input's batch entry in the id index, without reading the archive.

        Example::

            location = catalog.locate_input("birds", "img-0001")
            print(location.version.id, location.entry)
        """
        parsed = ref if isinstance(ref, CatalogRef) else parse_ref(ref)
        with self.store.reading() as session:
            version = session.version(parsed.dataset, parsed.version)
            if not version.indexed:
                raise CatalogError(
                    f"{version.ref} has no input index yet; build it with "
                    f"'clarifai-archive versions refresh {version.ref}'"
                )
            entry = session.input_entry(version.pk, input_id)
            if entry is None:
                others = session.versions_holding(version.pk, input_id)
                hint = (
                    f"; it is in version(s) {', '.join(others)} (use {version.dataset_id}@VERSION)"
                    if others
                    else "; list the ids with 'clarifai-archive inputs list'"
                )
                raise InputNotFoundError(f"{version.ref}: no input with id {input_id!r}{hint}")
        return InputLocation(version=version, entry=entry)

    def get_input(self, ref: str | CatalogRef, input_id: str) -> Input:
        """One input of ``DATASET[@VERSION]``, read from its single batch entry.

        Example::

            record = catalog.get_input("birds@v1", "img-0001")
        """
        location = self.locate_input(ref, input_id)
        version = location.version
        path = require_file(version)
        stale = (
            f"{version.ref}: its archive {path} changed since it was imported; run "
            f"'clarifai-archive versions refresh {version.ref}'"
        )
        if path.stat().st_size != version.size:
            raise CatalogError(stale)
        with ArchiveReader(path, limits=self.limits) as reader:
            if location.entry >= len(reader.entries):
                raise CatalogError(stale)
            batch = reader.read_batch(reader.entries[location.entry])
        for record in batch.inputs:
            if record.id == input_id:
                return record
        raise CatalogError(stale)

    def existing_ids(self, ref: str | CatalogRef, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` the version holds, from the id index."""
        version = self.version(ref)
        wanted = list(dict.fromkeys(ids))
        with self.store.reading() as session:
            return session.indexed_ids(version.pk, wanted)

    # -- operations that make a new version ---------------------------------------------------

    def delete_inputs(
        self,
        ref: str | CatalogRef,
        ids: Iterable[str],
        *,
        version: str | None = None,
        description: str = "",
        strict: bool = False,
        allow_empty: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> DerivedVersion:
        """Make a new version of ``ref``'s dataset without the inputs ``ids``.

        The new version's id is ``version`` or, by default, derived from the parent's
        (:func:`~toolkit.catalog.refs.derived_version_id`: ``v1`` gives ``v1-del1``).
        Ids the version does not hold are reported in ``missing_ids``; with
        ``strict=True`` any of them is an error. Nothing changes when no id is found.
        Deleting every input is an :class:`~toolkit.errors.EmptyResultError` unless
        ``allow_empty`` (then the new version holds no inputs).
        The ids are checked against the id index before anything is written; the new
        archive is made by :func:`toolkit.subset.remove_inputs` (``progress``: inputs read).

        Example::

            made = catalog.delete_inputs("birds", ["img-0003", "img-0007"])
            print(made.version.id, made.version.inputs_count)
        """
        from ..subset import remove_inputs

        parsed = ref if isinstance(ref, CatalogRef) else parse_ref(ref)
        if version is not None:
            validate_id(version, what="version id")
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            raise ValueError("no input ids given")
        parent = self.version(parsed)
        source = require_file(parent)
        if not parent.indexed:
            raise CatalogError(
                f"{parent.ref} has no input index yet; build it with "
                f"'clarifai-archive versions refresh {parent.ref}'"
            )
        present = self.existing_ids(parent.ref, wanted)
        missing = [i for i in wanted if i not in present]
        if missing and strict:
            raise InputNotFoundError(
                f"{parent.ref}: {len(missing)} of the ids are not in this version "
                f"({shown_ids(missing)}); nothing was changed"
            )
        if not present:
            raise InputNotFoundError(
                f"{parent.ref}: none of the {len(wanted)} ids is in this version "
                f"({shown_ids(wanted)}); nothing was changed"
            )
        if len(present) >= parent.inputs_count and not allow_empty:
            raise EmptyResultError(
                f"{parent.ref}: deleting these ids would leave no inputs (it holds "
                f"{parent.inputs_count}); nothing was changed (pass allow_empty=True to make "
                "an empty version)",
                params=["allow_empty=True"],
            )
        check_version_free(self.store, parsed.dataset, version)
        with Workspace(self.store.ensure_home()) as ws:
            part = ws.path / "version.zip"
            report = remove_inputs(
                source,
                part,
                wanted,
                allow_empty=allow_empty,
                limits=self.limits,
                progress=progress,
            )
            if not report.removed:  # pragma: no cover - the index said otherwise
                raise CatalogError(
                    f"{parent.ref}: its archive does not match its index; run "
                    f"'clarifai-archive versions refresh {parent.ref}'"
                )
            made = register_derived(
                self.store,
                self.limits,
                parent,
                part,
                version=version,
                description=description,
                tag="del",
                origin="delete-inputs",
                source=parent.ref,
            )
        report = dataclasses.replace(report, source=parent.ref, output=str(made.archive))
        return DerivedVersion(
            version=made, parent=parent, missing_ids=report.not_found, report=report
        )

    def derive(
        self,
        ref: str | CatalogRef,
        make: Callable[[Path, Path], Any],
        *,
        tag: str,
        origin: Origin,
        version: str | None = None,
        description: str = "",
    ) -> DerivedVersion:
        """Make a new version of ``ref``'s dataset with ``make(source_archive, new_archive)``,
        which writes the new archive and returns its report (``relabel``, ``dedupe``).

        The new version's id is ``version`` or, by default, the parent's with ``-<tag><n>``
        (``v1`` gives ``v1-relabel1``); the parent is left as it was. Nothing is registered
        when ``make`` fails.

        Example::

            made = catalog.derive("birds", lambda src, out: relabel_archive(src, out, rules=r),
                                  tag="relabel", origin="relabel")
        """
        parsed = ref if isinstance(ref, CatalogRef) else parse_ref(ref)
        if version is not None:
            validate_id(version, what="version id")
        parent = self.version(parsed)
        source = require_file(parent)
        check_version_free(self.store, parsed.dataset, version)
        with Workspace(self.store.ensure_home()) as ws:
            part = ws.path / "version.zip"
            try:
                report = make(source, part)
            except ToolkitError as exc:
                # Name the version as the user knows it, not its file in the home.
                raise type(exc)(str(exc).replace(str(source), parent.ref)) from None
            made = register_derived(
                self.store,
                self.limits,
                parent,
                part,
                version=version,
                description=description,
                tag=tag,
                origin=origin,
                source=parent.ref,
            )
        if (
            dataclasses.is_dataclass(report)
            and not isinstance(report, type)
            and hasattr(report, "output")
        ):
            report = dataclasses.replace(report, source=parent.ref, output=str(made.archive))
        return DerivedVersion(version=made, parent=parent, report=report)
