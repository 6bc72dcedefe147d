"""The local catalog: datasets and their versions, as Clarifai's dataset API has them.

A catalog home holds a SQLite database and a copy of every version's archive. Versions
are immutable: deleting inputs or merging another dataset in makes a new version and
leaves the old one as it was. Every change is one database transaction; files are
copied into a locked scratch folder first and moved into place inside that
transaction, so a crash at any point leaves the catalog as it was.

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
import json
import logging
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from ..archive import ArchiveReader
from ..errors import (
    ArchiveError,
    CatalogError,
    EmptyResultError,
    InputNotFoundError,
    LimitError,
    MediaError,
    NotInCatalogError,
    OutputError,
    ToolkitError,
)
from ..limits import DEFAULT_LIMITS, Limits
from ..messages import Input
from ..safety import open_image

if TYPE_CHECKING:
    from ..convert import ConvertReport
from . import db as _db
from ._files import Workspace, default_home, remove_leftovers
from ._scan import ScanResult, file_sha256, scan
from .filters import FilterInfo, Filters, check_filter_exists, default_filter
from .patch import PATCH_ACTIONS, PatchAction, apply_patch
from .refs import (
    CatalogRef,
    derived_version_id,
    parse_ref,
    unique_id,
    validate_id,
    version_id_from_file_name,
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

log = logging.getLogger(__name__)

Origin = Literal["add", "delete-inputs", "merge", "relabel", "dedupe"]
_IN_CHUNK = 900


# -- results -------------------------------------------------------------------------


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


# -- the catalog ----------------------------------------------------------------------


class _Txn:
    """A write transaction's file moves: undone on rollback, deletions done after commit."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.moved: list[tuple[Path, Path]] = []
        self.delete_after: list[Path] = []

    def move(self, src: Path, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
        self.moved.append((src, dest))

    def undo(self) -> None:
        for src, dest in reversed(self.moved):
            with contextlib.suppress(OSError):
                os.replace(dest, src)


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
        self._conn: sqlite3.Connection | None = None
        self._empty: sqlite3.Connection | None = None
        self.datasets = Datasets(self)
        self.versions = Versions(self)
        self.filters = Filters(self)

    def __repr__(self) -> str:
        return f"Catalog({str(self.home)!r})"

    @property
    def db_path(self) -> Path:
        """The database file."""
        return self.home / _db.DB_NAME

    # -- connections ------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = _db.connect(self.db_path, timeout=self.timeout)
            try:
                _db.upgrade(conn, home=self.home, where=self.db_path)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _reader(self) -> sqlite3.Connection:
        """The database for reading; an empty in-memory one while the home has none."""
        if self._conn is not None or self.db_path.exists():
            return self._open()
        if self._empty is None:
            self._empty = sqlite3.connect(":memory:", isolation_level=None)
            _db.upgrade(self._empty, home=None, where=":memory:")
        return self._empty

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        conn = self._reader()
        with _db.read_transaction(conn, where=self.db_path):
            yield conn

    @contextlib.contextmanager
    def _writing(self) -> Iterator[_Txn]:
        self._ensure_home()
        conn = self._open()
        txn = _Txn(conn)
        try:
            with _db.write_transaction(conn, where=self.db_path):
                self._remove_leftovers(conn)
                yield txn
        except BaseException:
            txn.undo()
            raise
        for path in txn.delete_after:
            with contextlib.suppress(OSError):
                path.unlink()
                log.info("removed %s", path)

    def _remove_leftovers(self, conn: sqlite3.Connection) -> None:
        archives = [row[0] for row in conn.execute("SELECT file_name FROM versions")]
        covers = [
            json.loads(row[0]).get("file", "")
            for row in conn.execute("SELECT image FROM datasets WHERE image IS NOT NULL")
        ]
        remove_leftovers(self.home, archives=archives, covers=covers)

    def close(self) -> None:
        """Close the database connection (the catalog can be used again afterwards)."""
        for conn in (self._conn, self._empty):
            if conn is not None:
                conn.close()
        self._conn = self._empty = None

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

    # -- rows -------------------------------------------------------------------------

    _VERSION_COLUMNS = (
        "v.pk, d.id, v.id, v.name, v.description, v.file_name, v.sha256, v.size, "
        "v.inputs_count, v.entries_count, v.metrics, v.created_at, v.modified_at, v.parent, "
        "v.origin, v.source, v.indexed"
    )

    def _version_from_row(self, row: Sequence[Any]) -> VersionInfo:
        path = self.home / row[5]
        return VersionInfo(
            pk=row[0],
            dataset_id=row[1],
            id=row[2],
            name=row[3],
            description=row[4],
            archive=path,
            sha256=row[6],
            size=row[7],
            inputs_count=row[8],
            entries_count=row[9],
            metrics=json.loads(row[10]),
            created_at=row[11],
            modified_at=row[12],
            parent=row[13],
            origin=row[14],
            source=row[15],
            missing=not path.is_file(),
            indexed=bool(row[16]),
        )

    def _query_versions(
        self, conn: sqlite3.Connection, where: str, params: Sequence[Any], tail: str = ""
    ) -> list[VersionInfo]:
        sql = (
            f"SELECT {self._VERSION_COLUMNS} FROM versions v JOIN datasets d "
            f"ON d.pk = v.dataset_pk WHERE {where} {tail}"
        )
        return [self._version_from_row(row) for row in conn.execute(sql, params)]

    def _dataset_pk(self, conn: sqlite3.Connection, dataset_id: str) -> int:
        row = conn.execute("SELECT pk FROM datasets WHERE id = ?", (dataset_id,)).fetchone()
        if row is None:
            raise NotInCatalogError(
                f"no dataset {dataset_id!r} in the catalog at {self.home}; see "
                "'clarifai-archive datasets list', or add one with 'clarifai-archive datasets add'"
            )
        return int(row[0])

    def _version(
        self, conn: sqlite3.Connection, dataset_id: str, version_id: str | None
    ) -> VersionInfo:
        dataset_pk = self._dataset_pk(conn, dataset_id)
        if version_id is None:
            found = self._query_versions(
                conn, "v.dataset_pk = ?", (dataset_pk,), "ORDER BY v.pk DESC LIMIT 1"
            )
            if not found:
                raise NotInCatalogError(f"dataset {dataset_id!r} has no versions")
            return found[0]
        found = self._query_versions(
            conn, "v.dataset_pk = ? AND v.id = ?", (dataset_pk, version_id)
        )
        if not found:
            raise NotInCatalogError(
                f"dataset {dataset_id!r} has no version {version_id!r}; see "
                f"'clarifai-archive versions list {dataset_id}'"
            )
        return found[0]

    def _dataset_from_row(self, conn: sqlite3.Connection, row: Sequence[Any]) -> DatasetInfo:
        pk, dataset_id = row[0], row[1]
        versions = conn.execute(
            "SELECT id, file_name, inputs_count FROM versions WHERE dataset_pk = ? "
            "ORDER BY pk DESC",
            (pk,),
        ).fetchall()
        missing = [str(self.home / v[1]) for v in versions if not (self.home / v[1]).is_file()]
        image = json.loads(row[7]) if row[7] else None
        if image and "file" in image:
            cover = self.home / image["file"]
            image = {"file": str(cover)}
            if not cover.is_file():
                missing.append(str(cover))
        return DatasetInfo(
            id=dataset_id,
            description=row[2],
            notes=row[3],
            metadata=json.loads(row[4]),
            image=image,
            default_filter_id=row[8],
            created_at=row[5],
            modified_at=row[6],
            versions_count=len(versions),
            latest_version=versions[0][0] if versions else None,
            inputs_count=versions[0][2] if versions else 0,
            missing_files=tuple(missing),
        )

    _DATASET_COLUMNS = (
        "pk, id, description, notes, metadata, created_at, modified_at, image, default_filter_id"
    )

    def _taken_version_ids(self, conn: sqlite3.Connection, dataset_pk: int) -> set[str]:
        rows = conn.execute("SELECT id FROM versions WHERE dataset_pk = ?", (dataset_pk,))
        return {row[0] for row in rows}

    def _file_name_for(self, conn: sqlite3.Connection, dataset_id: str, version_id: str) -> str:
        base = f"archives/{dataset_id}/{version_id}"
        name, n = f"{base}.zip", 2
        while (
            conn.execute("SELECT 1 FROM versions WHERE file_name = ?", (name,)).fetchone()
            or (self.home / name).exists()
        ):
            name, n = f"{base}-{n}.zip", n + 1
        return name

    def _register_derived(
        self,
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
        scanned = scan(part, limits=self.limits, hash_file=True)
        with self._writing() as txn:
            return self._register(
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

    def _register(
        self,
        txn: _Txn,
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
        """Insert a version and its index and move its archive into place (in ``txn``)."""
        conn = txn.conn
        stamp = _db.now()
        row = conn.execute("SELECT pk FROM datasets WHERE id = ?", (dataset_id,)).fetchone()
        if row is None:
            if not create_dataset:
                self._dataset_pk(conn, dataset_id)  # raises NotInCatalogError
            cursor = conn.execute(
                "INSERT INTO datasets (id, created_at, modified_at) VALUES (?, ?, ?)",
                (dataset_id, stamp, stamp),
            )
            dataset_pk = int(cursor.lastrowid or 0)
        else:
            dataset_pk = int(row[0])
        taken = self._taken_version_ids(conn, dataset_pk)
        if version_id is None:
            version_id = default_id(taken)
        elif version_id in taken:
            raise CatalogError(
                f"dataset {dataset_id!r} already has a version {version_id!r}; versions are "
                "immutable, so give another --version"
            )
        file_name = self._file_name_for(conn, dataset_id, version_id)
        cursor = conn.execute(
            "INSERT INTO versions (dataset_pk, id, name, description, file_name, sha256, size, "
            "metrics, created_at, modified_at, parent, origin, source, inputs_count, "
            "entries_count, indexed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            (
                dataset_pk,
                version_id,
                name,
                description,
                file_name,
                scanned.sha256,
                scanned.size,
                json.dumps(scanned.metrics.to_dict(), ensure_ascii=False),
                stamp,
                stamp,
                parent,
                origin,
                source,
                len(scanned.ids),
                scanned.entries_count,
            ),
        )
        version_pk = int(cursor.lastrowid or 0)
        self._insert_index(conn, version_pk, scanned)
        txn.move(part, self.home / file_name)
        return self._version(conn, dataset_id, version_id)

    @staticmethod
    def _insert_index(conn: sqlite3.Connection, version_pk: int, scanned: ScanResult) -> None:
        cursor = conn.executemany(
            "INSERT OR IGNORE INTO input_index (version_pk, input_id, entry) VALUES (?, ?, ?)",
            zip(repeat(version_pk), scanned.ids, scanned.entries),
        )
        duplicates = len(scanned.ids) - max(cursor.rowcount, 0)
        if duplicates > 0:
            log.warning(
                "%d input ids occur more than once in the archive; the first of each is indexed",
                duplicates,
            )

    # -- references ---------------------------------------------------------------------

    def version(self, ref: str | CatalogRef) -> VersionInfo:
        """The version a reference ``DATASET[@VERSION]`` names (the latest when no version).

        Example::

            catalog.version("birds").id        # id of the latest version
        """
        parsed = ref if isinstance(ref, CatalogRef) else parse_ref(ref)
        with self._reading() as conn:
            return self._version(conn, parsed.dataset, parsed.version)

    def default_filter(self, ref: str | CatalogRef) -> FilterInfo | None:
        """The saved filter that is the default of ``ref``'s dataset (None when none is set).

        Example::

            found = catalog.default_filter("birds")
            kept = [r for r in records if found is None or found.criteria.matches(r)]
        """
        parsed = parse_ref(ref) if isinstance(ref, str) else ref
        with self._reading() as conn:
            self._dataset_pk(conn, parsed.dataset)
            return default_filter(conn, parsed.dataset)

    def _require_file(self, version: VersionInfo) -> Path:
        if not version.archive.is_file():
            raise CatalogError(
                f"{version.ref}: its archive {version.archive} is missing (moved or deleted "
                "by hand); put the file back, or remove the version with "
                f"'clarifai-archive versions delete {version.ref}'"
            )
        return version.archive

    def resolve(self, ref: str | CatalogRef) -> Path:
        """The archive file of ``DATASET[@VERSION]``; an error names a missing file.

        Example::

            with ArchiveReader(catalog.resolve("birds@v1")) as reader:
                ...
        """
        return self._require_file(self.version(ref))

    def locate_input(self, ref: str | CatalogRef, input_id: str) -> InputLocation:
        """Find an input's batch entry in the id index, without reading the archive.

        Example::

            location = catalog.locate_input("birds", "img-0001")
            print(location.version.id, location.entry)
        """
        parsed = ref if isinstance(ref, CatalogRef) else parse_ref(ref)
        with self._reading() as conn:
            version = self._version(conn, parsed.dataset, parsed.version)
            if not version.indexed:
                raise CatalogError(
                    f"{version.ref} has no input index yet; build it with "
                    f"'clarifai-archive versions refresh {version.ref}'"
                )
            row = conn.execute(
                "SELECT entry FROM input_index WHERE version_pk = ? AND input_id = ?",
                (version.pk, input_id),
            ).fetchone()
            if row is None:
                others = [
                    r[0]
                    for r in conn.execute(
                        "SELECT v.id FROM versions v JOIN input_index i ON i.version_pk = v.pk "
                        "WHERE v.dataset_pk = (SELECT dataset_pk FROM versions WHERE pk = ?) "
                        "AND i.input_id = ? ORDER BY v.pk DESC",
                        (version.pk, input_id),
                    )
                ]
                hint = (
                    f"; it is in version(s) {', '.join(others)} (use {version.dataset_id}@VERSION)"
                    if others
                    else "; list the ids with 'clarifai-archive inputs list'"
                )
                raise InputNotFoundError(f"{version.ref}: no input with id {input_id!r}{hint}")
        return InputLocation(version=version, entry=int(row[0]))

    def get_input(self, ref: str | CatalogRef, input_id: str) -> Input:
        """One input of ``DATASET[@VERSION]``, read from its single batch entry.

        Example::

            record = catalog.get_input("birds@v1", "img-0001")
        """
        location = self.locate_input(ref, input_id)
        version = location.version
        path = self._require_file(version)
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
        found: set[str] = set()
        with self._reading() as conn:
            for start in range(0, len(wanted), _IN_CHUNK):
                chunk = wanted[start : start + _IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                found.update(
                    row[0]
                    for row in conn.execute(
                        f"SELECT input_id FROM input_index WHERE version_pk = ? "
                        f"AND input_id IN ({marks})",
                        (version.pk, *chunk),
                    )
                )
        return found

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
        source = self._require_file(parent)
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
                f"({_shown(missing)}); nothing was changed"
            )
        if not present:
            raise InputNotFoundError(
                f"{parent.ref}: none of the {len(wanted)} ids is in this version "
                f"({_shown(wanted)}); nothing was changed"
            )
        if len(present) >= parent.inputs_count and not allow_empty:
            raise EmptyResultError(
                f"{parent.ref}: deleting these ids would leave no inputs (it holds "
                f"{parent.inputs_count}); nothing was changed (pass --allow-empty to make "
                "an empty version)"
            )
        self._check_version_free(parsed.dataset, version)
        with Workspace(self._ensure_home()) as ws:
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
            made = self._register_derived(
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
        source = self._require_file(parent)
        self._check_version_free(parsed.dataset, version)
        with Workspace(self._ensure_home()) as ws:
            part = ws.path / "version.zip"
            try:
                report = make(source, part)
            except ToolkitError as exc:
                # Name the version as the user knows it, not its file in the home.
                raise type(exc)(str(exc).replace(str(source), parent.ref)) from None
            made = self._register_derived(
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

    def _ensure_home(self) -> Path:
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CatalogError(
                f"{self.home}: cannot create the catalog home ({exc.strerror or exc})"
            ) from None
        return self.home

    def _check_version_free(self, dataset_id: str, version_id: str | None) -> None:
        """Fail early (before any long work) when a given version id is taken."""
        if version_id is None:
            return
        with self._reading() as conn:
            row = conn.execute(
                "SELECT 1 FROM versions v JOIN datasets d ON d.pk = v.dataset_pk "
                "WHERE d.id = ? AND v.id = ?",
                (dataset_id, version_id),
            ).fetchone()
        if row is not None:
            raise CatalogError(
                f"dataset {dataset_id!r} already has a version {version_id!r}; versions are "
                "immutable, so give another --version"
            )

    def _source_path(self, source: str | os.PathLike[str]) -> tuple[Path, str]:
        """A source given as a file (a path, or a str naming an existing file) or a reference."""
        if isinstance(source, os.PathLike) or Path(source).is_file():
            path = Path(source)
            if not path.is_file():
                raise ArchiveError(f"{path}: no such file")
            return path, str(path)
        version = self.version(source)
        return self._require_file(version), version.ref


def _shown(ids: Sequence[str], limit: int = 5) -> str:
    text = ", ".join(repr(i) for i in ids[:limit])
    return text + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


class Datasets:
    """``catalog.datasets``: list, get, add, patch, merge, export and delete datasets."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def list(self, *, page: int = 1, per_page: int = 100) -> list[DatasetInfo]:
        """One page of datasets (1-based), ordered by id.

        Example::

            for dataset in catalog.datasets.list(per_page=20):
                print(dataset.id, dataset.versions_count)
        """
        _check_page(page, per_page)
        cat = self._catalog
        with cat._reading() as conn:
            rows = conn.execute(
                f"SELECT {Catalog._DATASET_COLUMNS} FROM datasets ORDER BY id LIMIT ? OFFSET ?",
                (per_page, (page - 1) * per_page),
            ).fetchall()
            return [cat._dataset_from_row(conn, row) for row in rows]

    def get(self, dataset_id: str) -> DatasetInfo:
        """One dataset; :class:`NotInCatalogError` when there is none.

        Example::

            info = catalog.datasets.get("birds")
            print(info.latest_version, info.missing_files)
        """
        cat = self._catalog
        with cat._reading() as conn:
            row = conn.execute(
                f"SELECT {Catalog._DATASET_COLUMNS} FROM datasets WHERE id = ?", (dataset_id,)
            ).fetchone()
            if row is None:
                cat._dataset_pk(conn, dataset_id)  # raises NotInCatalogError
            return cat._dataset_from_row(conn, row)

    def add(
        self,
        archive: str | os.PathLike[str],
        *,
        dataset: str,
        version: str | None = None,
        name: str = "",
        description: str = "",
        progress: Callable[[int], None] | None = None,
    ) -> VersionInfo:
        """Import an archive as a new version of ``dataset`` (made when it does not exist).

        The archive is read once, computing its metrics and input id index while a copy
        is made into the home; then everything is registered in one transaction. The
        version id is ``version`` or, by default, the archive's file name made safe and
        unique in the dataset (``clarifai-data-protobuf``, then ``clarifai-data-protobuf-2``).
        ``progress`` is called with 1 after each batch entry read.

        Example::

            v = catalog.datasets.add("clarifai-data-protobuf.zip", dataset="birds")
            print(v.id, v.inputs_count)
        """
        cat = self._catalog
        validate_id(dataset, what="dataset id")
        if version is not None:
            validate_id(version, what="version id")
        source = Path(archive)
        if not source.is_file():
            raise ArchiveError(
                f"{source}: no such file" if not source.exists() else f"{source}: not a file"
            )
        cat._check_version_free(dataset, version)
        base_id = version_id_from_file_name(source.name)
        with Workspace(cat._ensure_home()) as ws:
            part = ws.path / "archive.zip"
            scanned = scan(source, limits=cat.limits, copy_to=part, progress=progress)
            with cat._writing() as txn:
                return cat._register(
                    txn,
                    dataset_id=dataset,
                    version_id=version,
                    default_id=lambda taken: unique_id(base_id, taken),
                    part=part,
                    scanned=scanned,
                    name=name,
                    description=description,
                    parent=None,
                    origin="add",
                    source=str(source.resolve()),
                    create_dataset=True,
                )

    def patch(
        self,
        dataset_id: str,
        *,
        action: PatchAction = "merge",
        description: str | None = None,
        notes: str | None = None,
        metadata: dict[str, Any] | None = None,
        cover_image: str | os.PathLike[str] | None = None,
        cover_image_url: str | None = None,
        default_filter_id: str | None = None,
    ) -> DatasetInfo:
        """Patch a dataset with Clarifai's semantics (see :mod:`toolkit.catalog.patch`).

        ``merge`` replaces the given scalars, merges ``metadata`` key by key (lists are
        appended to, list items sharing an ``id`` are merged); ``overwrite`` replaces each
        given field as a whole; ``remove`` removes the cover image and takes no field.
        A cover image is a file (copied into the home) or a URL, never both.

        Example::

            catalog.datasets.patch("birds", action="merge", notes="Checked by hand.")
            catalog.datasets.patch("birds", action="overwrite", metadata={"source": "May"})
            catalog.datasets.patch("birds", action="remove")     # drop the cover image
        """
        cat = self._catalog
        if action not in PATCH_ACTIONS:
            raise ValueError(f"unknown patch action {action!r}; use merge, overwrite or remove")
        if cover_image is not None and cover_image_url is not None:
            raise ValueError("give a cover image file or a cover image URL, not both")
        changes: dict[str, Any] = {}
        if description is not None:
            changes["description"] = description
        if notes is not None:
            changes["notes"] = notes
        if metadata is not None:
            if not isinstance(metadata, dict):
                raise ValueError("metadata must be a JSON object")
            _check_depth(metadata, cat.limits.max_metadata_depth)
            changes["metadata"] = metadata
        if default_filter_id is not None:
            changes["default_filter_id"] = default_filter_id
        if cover_image_url is not None:
            if not cover_image_url:
                raise ValueError("the cover image URL is empty; use the remove action instead")
            changes["image"] = {"url": check_cover_url(cover_image_url)}
        if action == "remove":
            if changes or cover_image is not None:
                raise ValueError(
                    "the remove action only removes the cover image; give no other field"
                )
        elif not changes and cover_image is None:
            raise ValueError("nothing to patch: give at least one field")
        with contextlib.ExitStack() as stack:
            cover_part: Path | None = None
            cover_name = ""
            if cover_image is not None:
                ws = stack.enter_context(Workspace(cat._ensure_home()))
                cover_part, cover_name = _prepare_cover(Path(cover_image), ws.path, cat.limits)
                changes["image"] = {"file": cover_name}
            with cat._writing() as txn:
                conn = txn.conn
                row = conn.execute(
                    f"SELECT {Catalog._DATASET_COLUMNS} FROM datasets WHERE id = ?",
                    (dataset_id,),
                ).fetchone()
                if row is None:
                    cat._dataset_pk(conn, dataset_id)
                current = {
                    "description": row[2],
                    "notes": row[3],
                    "metadata": json.loads(row[4]),
                    "image": json.loads(row[7]) if row[7] else None,
                    "default_filter_id": row[8],
                }
                patched = apply_patch(current, changes, action=action)
                if default_filter_id:
                    check_filter_exists(conn, default_filter_id)
                if not isinstance(patched["metadata"], dict):
                    raise ValueError("metadata must be a JSON object")
                if cover_part is not None:
                    dest = cat.home / cover_name
                    if dest.is_file():
                        cover_part.unlink()
                    else:
                        txn.move(cover_part, dest)
                old_file = (current["image"] or {}).get("file")
                new_file = (patched["image"] or {}).get("file")
                conn.execute(
                    "UPDATE datasets SET description = ?, notes = ?, metadata = ?, image = ?, "
                    "default_filter_id = ?, modified_at = ? WHERE pk = ?",
                    (
                        patched["description"],
                        patched["notes"],
                        json.dumps(patched["metadata"], ensure_ascii=False),
                        json.dumps(patched["image"]) if patched["image"] else None,
                        patched["default_filter_id"],
                        _db.now(),
                        row[0],
                    ),
                )
                if old_file and old_file != new_file and not _cover_used(conn, old_file):
                    txn.delete_after.append(cat.home / old_file)
        return self.get(dataset_id)

    def delete(self, dataset_id: str) -> DatasetInfo:
        """Delete a dataset, all its versions and their archive files. Irreversible.

        Returns the dataset as it was.

        Example::

            catalog.datasets.delete("birds")
        """
        cat = self._catalog
        info = self.get(dataset_id)
        with cat._writing() as txn:
            conn = txn.conn
            pk = cat._dataset_pk(conn, dataset_id)
            rows = conn.execute("SELECT file_name FROM versions WHERE dataset_pk = ?", (pk,))
            files = [r[0] for r in rows]
            image = conn.execute("SELECT image FROM datasets WHERE pk = ?", (pk,)).fetchone()[0]
            conn.execute("DELETE FROM datasets WHERE pk = ?", (pk,))
            txn.delete_after.extend(cat.home / f for f in files)
            cover = json.loads(image).get("file") if image else None
            if cover and not _cover_used(conn, cover):
                txn.delete_after.append(cat.home / cover)
        for folder in {(cat.home / f).parent for f in files}:
            with contextlib.suppress(OSError):
                folder.rmdir()
        return info

    def merge(
        self,
        source: str | os.PathLike[str],
        *,
        into: str,
        on_conflict: str = "error",
        merge_annotations: bool = False,
        ids: Iterable[str] | None = None,
        version: str | None = None,
        description: str = "",
        create: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> DerivedVersion:
        """Merge ``source`` (a reference or an archive file) into ``into``'s latest version
        (or the version ``into`` names, ``DATASET@VERSION``).

        With ``create``, a dataset ``into`` that does not exist is made, with ``source``'s
        inputs as its first version (``parent`` is then None and ``report`` the merge of
        the source alone).

        The result is a new version of ``into`` (id ``version``, or derived from the
        parent's: ``v1`` gives ``v1-merge1``); the parent version and the source stay as
        they were. ``ids`` keeps only those inputs of the source. ``on_conflict``
        (``error``, ``skip``, ``overwrite``, ``rename``), ``merge_annotations`` and
        ``progress`` (inputs done) are those of :func:`toolkit.merge.merge_archives`; the
        parent's inputs come first.

        Example::

            made = catalog.datasets.merge("birds-extra", into="birds", on_conflict="skip")
            print(made.version.ref)
        """
        from ..merge import merge_archives

        cat = self._catalog
        dest = parse_ref(into)
        if version is not None:
            validate_id(version, what="version id")
        if create and not self._exists(dest.dataset):
            if dest.version is not None:
                raise CatalogError(
                    f"{into}: dataset {dest.dataset!r} does not exist, so it has no version "
                    f"{dest.version!r}; give --into {dest.dataset} to create it"
                )
            return self._create_from(
                source,
                dest.dataset,
                ids=ids,
                version=version,
                description=description,
                progress=progress,
            )
        parent = cat.version(dest)
        parent_path = cat._require_file(parent)
        source_path, source_name = cat._source_path(source)
        cat._check_version_free(dest.dataset, version)
        with Workspace(cat._ensure_home()) as ws:
            part = ws.path / "version.zip"
            if ids is not None:
                source_path = _keep_only(source_path, ids, ws.path / "source.zip", cat.limits)
            report = merge_archives(
                [parent_path, source_path],
                part,
                on_conflict=on_conflict,  # type: ignore[arg-type]
                merge_annotations=merge_annotations,
                limits=cat.limits,
                progress=progress,
            )
            made = cat._register_derived(
                parent,
                part,
                version=version,
                description=description,
                tag="merge",
                origin="merge",
                source=source_name,
            )
        # the report names the files as the user knows them, not the scratch copies
        counts = [s.inputs for s in report.sources]
        report = dataclasses.replace(
            report,
            output=str(made.archive),
            sources=(
                type(report.sources[0])(parent.ref, counts[0]),
                type(report.sources[1])(source_name, counts[1]),
            ),
        )
        return DerivedVersion(version=made, parent=parent, report=report)

    def _exists(self, dataset_id: str) -> bool:
        with self._catalog._reading() as conn:
            row = conn.execute("SELECT 1 FROM datasets WHERE id = ?", (dataset_id,)).fetchone()
        return row is not None

    def _create_from(
        self,
        source: str | os.PathLike[str],
        dataset_id: str,
        *,
        ids: Iterable[str] | None,
        version: str | None,
        description: str,
        progress: Callable[[int], None] | None,
    ) -> DerivedVersion:
        """``merge(create=True)`` into a dataset that does not exist: add the source."""
        from ..merge import merge_archives

        cat = self._catalog
        validate_id(dataset_id, what="dataset id")
        source_path, source_name = cat._source_path(source)
        with Workspace(cat._ensure_home()) as ws:
            if ids is not None:
                source_path = _keep_only(source_path, ids, ws.path / "source.zip", cat.limits)
            # The same rewrite as a merge (one source): the version holds what a merge
            # into an existing dataset would have added, with the same report.
            part = ws.path / "merged.zip"
            report = merge_archives([source_path], part, limits=cat.limits, progress=progress)
            made = self.add(
                part,
                dataset=dataset_id,
                version=version or version_id_from_file_name(Path(source_name).name),
                description=description,
            )
        with cat._writing() as txn:  # the version comes from the source, not the scratch copy
            txn.conn.execute(
                "UPDATE versions SET origin = 'merge', source = ? WHERE dataset_pk = "
                "(SELECT pk FROM datasets WHERE id = ?) AND id = ?",
                (source_name, dataset_id, made.id),
            )
        made = cat.versions.get(dataset_id, made.id)
        report = dataclasses.replace(
            report,
            output=str(made.archive),
            sources=(type(report.sources[0])(source_name, report.sources[0].inputs),),
        )
        return DerivedVersion(version=made, parent=None, report=report)

    def export(
        self,
        ref: str | CatalogRef,
        output: str | os.PathLike[str],
        *,
        to: str,
        force: bool = False,
        allow_empty: bool = False,
        default_filter: bool = True,
        progress: Callable[[int], None] | None = None,
        **options: Any,
    ) -> ConvertReport:
        """Write a version (the latest by default) in one of the formats of
        :func:`toolkit.convert.convert_archives` (``json``, ``jsonl``, ``coco``, ``yolo``,
        ``voc``, ``protobuf``, ``sdk``); ``options`` (``media``, ``pat``, ``allow_missing``
        ...) go there.

        A protobuf version exported ``to="protobuf"`` is copied byte for byte. When the
        dataset has a default filter (``datasets.patch(..., default_filter_id=...)``) only
        the inputs it keeps are exported, unless ``default_filter=False``. An export that
        would hold no inputs is an :class:`~toolkit.errors.EmptyResultError` (nothing
        written) unless ``allow_empty``.

        Example::

            report = catalog.datasets.export("birds@v1", "birds-coco", to="coco")
            print(report.images, report.annotations)
        """
        from .._outputs import check_outputs
        from ..subset import filter_inputs

        cat = self._catalog
        version = cat.version(ref)
        path = cat._require_file(version)
        out = Path(output)
        if not version.inputs_count and not allow_empty:
            raise EmptyResultError(
                f"{version.ref}: the version holds no inputs, so the export would hold none; "
                "nothing was written (pass --allow-empty to write it)"
            )
        found = cat.default_filter(version.ref) if default_filter else None
        if found is not None:
            check_outputs({"-o": out}, [path], existing_ok={"-o"})
            with Workspace(cat._ensure_home()) as ws:
                kept = ws.path / "filtered.zip"
                filter_inputs(
                    path, kept, criteria=found.criteria, allow_empty=allow_empty, limits=cat.limits
                )
                report = self._export_file(
                    kept, version, out, to, force, allow_empty, progress, options
                )
            return dataclasses.replace(report, sources=(str(path),))
        return self._export_file(path, version, out, to, force, allow_empty, progress, options)

    def _export_file(
        self,
        path: Path,
        version: VersionInfo,
        out: Path,
        to: str,
        force: bool,
        allow_empty: bool,
        progress: Callable[[int], None] | None,
        options: dict[str, Any],
    ) -> ConvertReport:
        from .._atomic import atomic_file
        from .._outputs import check_outputs
        from ..convert import ConvertReport, convert_archives

        cat = self._catalog
        with ArchiveReader(path, limits=cat.limits) as reader:
            flavour = reader.flavour
            entries = len(reader.entries)
        if to == "protobuf" and flavour == "protobuf" and not options:
            if out.is_dir():
                raise OutputError(f"{out}: is a folder; give a .zip file name")
            check_outputs({"-o": out}, [path], existing_ok={"-o"})
            try:
                with atomic_file(out) as tmp:
                    shutil.copyfile(path, tmp)
            except OSError as exc:
                raise OutputError(f"{out}: cannot write here ({exc.strerror or exc})") from None
            if progress is not None:
                progress(version.entries_count)
            if path != version.archive:  # filtered: count what was kept
                with ArchiveReader(path, limits=cat.limits, allow_empty=True) as reader:
                    inputs = sum(len(batch.inputs) for _entry, batch in reader.iter_batches())
            else:
                inputs = version.inputs_count
            return ConvertReport(
                format="protobuf",
                output=str(out),
                sources=(str(path),),
                inputs=inputs,
                batches=entries,
                written=inputs,
            )
        return convert_archives(
            [path],
            out,
            to=to,
            force=force,
            allow_empty=allow_empty,
            limits=cat.limits,
            progress=progress,
            **options,
        )


class Versions:
    """``catalog.versions``: list, get, patch, refresh and delete the versions of a dataset."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def list(self, dataset_id: str, *, page: int = 1, per_page: int = 100) -> list[VersionInfo]:
        """One page of a dataset's versions, newest first.

        Example::

            for v in catalog.versions.list("birds"):
                print(v.id, v.inputs_count, "missing" if v.missing else "")
        """
        _check_page(page, per_page)
        cat = self._catalog
        with cat._reading() as conn:
            pk = cat._dataset_pk(conn, dataset_id)
            return cat._query_versions(
                conn,
                "v.dataset_pk = ?",
                (pk, per_page, (page - 1) * per_page),
                "ORDER BY v.pk DESC LIMIT ? OFFSET ?",
            )

    def get(self, dataset_id: str, version_id: str) -> VersionInfo:
        """One version, with its metrics.

        Example::

            metrics = catalog.versions.get("birds", "v1").metrics
        """
        cat = self._catalog
        with cat._reading() as conn:
            return cat._version(conn, dataset_id, version_id)

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
        cat = self._catalog
        with cat._writing() as txn:
            version = cat._version(txn.conn, dataset_id, version_id)
            txn.conn.execute(
                "UPDATE versions SET name = ?, description = ?, modified_at = ? WHERE pk = ?",
                (
                    version.name if name is None else name,
                    version.description if description is None else description,
                    _db.now(),
                    version.pk,
                ),
            )
            return cat._version(txn.conn, dataset_id, version_id)

    def delete(self, dataset_id: str, version_id: str) -> VersionInfo:
        """Delete one version and its archive file. Irreversible. Returns it as it was.

        Example::

            catalog.versions.delete("birds", "v1")
        """
        cat = self._catalog
        with cat._writing() as txn:
            version = cat._version(txn.conn, dataset_id, version_id)
            txn.conn.execute("DELETE FROM versions WHERE pk = ?", (version.pk,))
            txn.delete_after.append(version.archive)
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
        cat = self._catalog
        version = self.get(dataset_id, version_id)
        path = cat._require_file(version)
        scanned = scan(path, limits=cat.limits, hash_file=True, progress=progress)
        with cat._writing() as txn:
            conn = txn.conn
            current = cat._version(conn, dataset_id, version_id)
            if current.pk != version.pk:  # deleted and made again meanwhile
                raise CatalogError(f"{version.ref} changed while it was refreshed; try again")
            conn.execute("DELETE FROM input_index WHERE version_pk = ?", (version.pk,))
            cat._insert_index(conn, version.pk, scanned)
            conn.execute(
                "UPDATE versions SET metrics = ?, sha256 = ?, size = ?, inputs_count = ?, "
                "entries_count = ?, indexed = 1, modified_at = ? WHERE pk = ?",
                (
                    json.dumps(scanned.metrics.to_dict(), ensure_ascii=False),
                    scanned.sha256,
                    scanned.size,
                    len(scanned.ids),
                    scanned.entries_count,
                    _db.now(),
                    version.pk,
                ),
            )
            return cat._version(conn, dataset_id, version_id)


# -- helpers -----------------------------------------------------------------------------


def check_cover_url(url: str) -> str:
    """``url`` when it is an http(s) URL with a host; else a :class:`CatalogError`."""
    parts = urlsplit(url)
    bad = any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or bad:
        raise CatalogError(
            f"cover image URL {url!r}: only http:// and https:// URLs with a host are "
            "taken; for a local file use --cover-image FILE"
        )
    return url


def _check_page(page: int, per_page: int) -> None:
    if page < 1:
        raise ValueError("page must be at least 1")
    if per_page < 1:
        raise ValueError("per_page must be at least 1")


def _check_depth(value: Any, limit: int, depth: int = 0) -> None:
    if depth > limit:
        raise ValueError(f"metadata is nested deeper than {limit} levels")
    if isinstance(value, dict):
        for item in value.values():
            _check_depth(item, limit, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_depth(item, limit, depth + 1)


def _cover_used(conn: sqlite3.Connection, name: str) -> bool:
    return any(
        json.loads(row[0]).get("file") == name
        for row in conn.execute("SELECT image FROM datasets WHERE image IS NOT NULL")
    )


_COVER_FORMATS = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "WEBP": ".webp", "BMP": ".bmp"}


def _prepare_cover(path: Path, workdir: Path, limits: Limits) -> tuple[Path, str]:
    """Check that ``path`` is an image and copy it into ``workdir``; return (copy, home name)."""
    if not path.is_file():
        raise MediaError(f"{path}: no such file")
    try:
        with open_image(path, max_pixels=limits.max_image_pixels, where=str(path)) as img:
            fmt = img.format or ""
            img.verify()
    except (LimitError, MediaError) as exc:
        raise MediaError(f"{exc}; give a PNG or JPEG file") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise MediaError(f"{path}: not a readable image ({exc}); give a PNG or JPEG file") from None
    sha, _size = file_sha256(path)
    name = f"covers/{sha[:24]}{_COVER_FORMATS.get(fmt, path.suffix.lower() or '.img')}"
    part = workdir / "cover"
    shutil.copyfile(path, part)
    return part, name


def _keep_only(source: Path, ids: Iterable[str], dest: Path, limits: Limits) -> Path:
    """A copy of ``source`` holding only the inputs ``ids`` (for ``datasets merge --ids-from``).

    An id the source does not hold is an error: the merge would silently lack it.
    """
    from ..archive import ArchiveWriter

    wanted = set(ids)
    if not wanted:
        raise ValueError("no input ids given")
    seen: set[str] = set()
    with ArchiveReader(source, limits=limits) as reader, ArchiveWriter(dest) as writer:
        for _entry, batch in reader.iter_batches():
            for record in batch.inputs:
                if record.id in wanted:
                    writer.add(record)
                    seen.add(record.id)
    missing = sorted(wanted - seen)
    if missing:
        dest.unlink(missing_ok=True)
        raise InputNotFoundError(
            f"{source}: {len(missing)} of the ids to merge are not in it ({_shown(missing)}); "
            "nothing was changed"
        )
    return dest
