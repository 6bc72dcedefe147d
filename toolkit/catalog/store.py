"""The catalog's store: its database connection, transactions and typed rows.

:class:`Store` opens the database (:mod:`toolkit.catalog.db`) on first use and hands
out sessions: :meth:`Store.reading` a :class:`Session` (one consistent snapshot) and
:meth:`Store.writing` a :class:`Transaction` (one write transaction, with the file moves
that belong to it). Every SQL statement of the catalog is a method of these two classes;
the dataset, version and filter operations call them, as sqlite-utils' ``Table`` calls
``self.db.execute``. Rows come back as dataclasses (:class:`VersionInfo`,
:class:`DatasetInfo`, :class:`DatasetRow`, :class:`FilterRow`), read by column name.

Example::

    store = Store(home)
    with store.reading() as session:
        print(session.version("birds", None).id)      # the latest version
    with store.writing() as txn:
        txn.update_version(pk, name="first", description="")
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

from ..errors import CatalogError, NotInCatalogError
from . import db as _db
from ._files import remove_leftovers
from ._scan import ScanResult
from .models import DatasetInfo, VersionInfo

__all__ = ["DatasetRow", "FilterRow", "NewVersion", "Session", "Store", "Transaction"]

log = logging.getLogger(__name__)

#: Most ``?`` in one ``IN (...)`` (SQLite's default limit is 999 variables).
_IN_CHUNK = 900

_VERSION_COLUMNS = (
    "v.pk, d.id AS dataset_id, v.id, v.name, v.description, v.file_name, v.sha256, v.size, "
    "v.inputs_count, v.entries_count, v.metrics, v.created_at, v.modified_at, v.parent, "
    "v.origin, v.source, v.indexed"
)
_DATASET_COLUMNS = (
    "pk, id, description, notes, metadata, created_at, modified_at, image, default_filter_id"
)
_FILTER_COLUMNS = "id, description, criteria, created_at, modified_at"


@dataclass(frozen=True)
class DatasetRow:
    """A dataset's own columns, as stored (``image`` names a cover file relative to the home)."""

    pk: int
    id: str
    description: str
    notes: str
    metadata: dict[str, Any]
    image: dict[str, str] | None
    default_filter_id: str
    created_at: str
    modified_at: str


@dataclass(frozen=True)
class FilterRow:
    """A saved filter as stored: ``criteria`` is its JSON text."""

    id: str
    description: str
    criteria: str
    created_at: str
    modified_at: str


@dataclass(frozen=True)
class NewVersion:
    """What :meth:`Transaction.insert_version` records for a new version."""

    dataset_pk: int
    id: str
    name: str
    description: str
    file_name: str
    parent: str | None
    origin: str
    source: str
    scanned: ScanResult


def _missing_dataset(home: Path, dataset_id: str) -> NotInCatalogError:
    return NotInCatalogError(
        f"no dataset {dataset_id!r} in the catalog at {home}; see "
        "'clarifai-archive datasets list', or add one with 'clarifai-archive datasets add'"
    )


class Session:
    """Queries on one connection, inside a transaction :class:`Store` opened."""

    def __init__(self, conn: sqlite3.Connection, home: Path) -> None:
        self.conn = conn
        self.home = home

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Run one statement; rows are :class:`sqlite3.Row` (read by column name)."""
        return self.conn.execute(sql, params)

    # -- datasets ---------------------------------------------------------------------

    def dataset_pk(self, dataset_id: str) -> int:
        """The dataset's key; :class:`NotInCatalogError` when there is none."""
        row = self.execute("SELECT pk FROM datasets WHERE id = ?", (dataset_id,)).fetchone()
        if row is None:
            raise _missing_dataset(self.home, dataset_id)
        return int(row["pk"])

    def dataset_exists(self, dataset_id: str) -> bool:
        row = self.execute("SELECT 1 FROM datasets WHERE id = ?", (dataset_id,)).fetchone()
        return row is not None

    def dataset_row(self, dataset_id: str) -> DatasetRow:
        """The dataset's stored columns; :class:`NotInCatalogError` when there is none."""
        row = self.execute(
            f"SELECT {_DATASET_COLUMNS} FROM datasets WHERE id = ?", (dataset_id,)
        ).fetchone()
        if row is None:
            raise _missing_dataset(self.home, dataset_id)
        return _dataset_row(row)

    def dataset(self, dataset_id: str) -> DatasetInfo:
        """The dataset with a summary of its versions."""
        return self._dataset_info(self.dataset_row(dataset_id))

    def datasets(self, *, limit: int, offset: int) -> list[DatasetInfo]:
        """A page of datasets, ordered by id."""
        rows = self.execute(
            f"SELECT {_DATASET_COLUMNS} FROM datasets ORDER BY id LIMIT ? OFFSET ?",
            (limit, offset),
        ).fetchall()
        return [self._dataset_info(_dataset_row(row)) for row in rows]

    def _dataset_info(self, row: DatasetRow) -> DatasetInfo:
        versions = self.execute(
            "SELECT id, file_name, inputs_count FROM versions WHERE dataset_pk = ? "
            "ORDER BY pk DESC",
            (row.pk,),
        ).fetchall()
        missing = [
            str(self.home / v["file_name"])
            for v in versions
            if not (self.home / v["file_name"]).is_file()
        ]
        image = row.image
        if image and "file" in image:
            cover = self.home / image["file"]
            image = {"file": str(cover)}
            if not cover.is_file():
                missing.append(str(cover))
        return DatasetInfo(
            id=row.id,
            description=row.description,
            notes=row.notes,
            metadata=row.metadata,
            image=image,
            default_filter_id=row.default_filter_id,
            created_at=row.created_at,
            modified_at=row.modified_at,
            versions_count=len(versions),
            latest_version=versions[0]["id"] if versions else None,
            inputs_count=versions[0]["inputs_count"] if versions else 0,
            missing_files=tuple(missing),
        )

    def cover_used(self, name: str) -> bool:
        """Whether a dataset has the cover file ``name`` (relative to the home)."""
        return any(
            json.loads(row["image"]).get("file") == name
            for row in self.execute("SELECT image FROM datasets WHERE image IS NOT NULL")
        )

    def stored_files(self) -> tuple[list[str], list[str]]:
        """Every archive and cover file the rows name (relative to the home)."""
        archives = [row["file_name"] for row in self.execute("SELECT file_name FROM versions")]
        covers = [
            json.loads(row["image"]).get("file", "")
            for row in self.execute("SELECT image FROM datasets WHERE image IS NOT NULL")
        ]
        return archives, covers

    # -- versions ---------------------------------------------------------------------

    def _versions(self, where: str, params: Sequence[Any], tail: str = "") -> list[VersionInfo]:
        sql = (
            f"SELECT {_VERSION_COLUMNS} FROM versions v JOIN datasets d "
            f"ON d.pk = v.dataset_pk WHERE {where} {tail}"
        )
        return [self._version_info(row) for row in self.execute(sql, params)]

    def _version_info(self, row: sqlite3.Row) -> VersionInfo:
        path = self.home / row["file_name"]
        return VersionInfo(
            pk=row["pk"],
            dataset_id=row["dataset_id"],
            id=row["id"],
            name=row["name"],
            description=row["description"],
            archive=path,
            sha256=row["sha256"],
            size=row["size"],
            inputs_count=row["inputs_count"],
            entries_count=row["entries_count"],
            metrics=json.loads(row["metrics"]),
            created_at=row["created_at"],
            modified_at=row["modified_at"],
            parent=row["parent"],
            origin=row["origin"],
            source=row["source"],
            missing=not path.is_file(),
            indexed=bool(row["indexed"]),
        )

    def version(self, dataset_id: str, version_id: str | None) -> VersionInfo:
        """A version (the latest when ``version_id`` is None); :class:`NotInCatalogError`."""
        dataset_pk = self.dataset_pk(dataset_id)
        if version_id is None:
            found = self._versions("v.dataset_pk = ?", (dataset_pk,), "ORDER BY v.pk DESC LIMIT 1")
            if not found:
                raise NotInCatalogError(f"dataset {dataset_id!r} has no versions")
            return found[0]
        found = self._versions("v.dataset_pk = ? AND v.id = ?", (dataset_pk, version_id))
        if not found:
            raise NotInCatalogError(
                f"dataset {dataset_id!r} has no version {version_id!r}; see "
                f"'clarifai-archive versions list {dataset_id}'"
            )
        return found[0]

    def versions(self, dataset_id: str, *, limit: int, offset: int) -> list[VersionInfo]:
        """A page of a dataset's versions, newest first."""
        pk = self.dataset_pk(dataset_id)
        return self._versions(
            "v.dataset_pk = ?", (pk, limit, offset), "ORDER BY v.pk DESC LIMIT ? OFFSET ?"
        )

    def version_exists(self, dataset_id: str, version_id: str) -> bool:
        row = self.execute(
            "SELECT 1 FROM versions v JOIN datasets d ON d.pk = v.dataset_pk "
            "WHERE d.id = ? AND v.id = ?",
            (dataset_id, version_id),
        ).fetchone()
        return row is not None

    def version_ids(self, dataset_pk: int) -> set[str]:
        """The ids the dataset's versions have."""
        rows = self.execute("SELECT id FROM versions WHERE dataset_pk = ?", (dataset_pk,))
        return {row["id"] for row in rows}

    def file_name_taken(self, file_name: str) -> bool:
        """Whether a version's archive has this name (case-insensitively)."""
        row = self.execute("SELECT 1 FROM versions WHERE file_name = ?", (file_name,)).fetchone()
        return row is not None

    # -- the input id index -----------------------------------------------------------

    def input_entry(self, version_pk: int, input_id: str) -> int | None:
        """The batch entry holding ``input_id`` in the version, None when it holds none."""
        row = self.execute(
            "SELECT entry FROM input_index WHERE version_pk = ? AND input_id = ?",
            (version_pk, input_id),
        ).fetchone()
        return None if row is None else int(row["entry"])

    def versions_holding(self, version_pk: int, input_id: str) -> list[str]:
        """Ids of the versions of the same dataset that hold ``input_id``, newest first."""
        return [
            row["id"]
            for row in self.execute(
                "SELECT v.id FROM versions v JOIN input_index i ON i.version_pk = v.pk "
                "WHERE v.dataset_pk = (SELECT dataset_pk FROM versions WHERE pk = ?) "
                "AND i.input_id = ? ORDER BY v.pk DESC",
                (version_pk, input_id),
            )
        ]

    def indexed_ids(self, version_pk: int, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` the version's index holds."""
        found: set[str] = set()
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            found.update(
                row["input_id"]
                for row in self.execute(
                    f"SELECT input_id FROM input_index WHERE version_pk = ? "
                    f"AND input_id IN ({marks})",
                    (version_pk, *chunk),
                )
            )
        return found

    # -- saved filters ----------------------------------------------------------------

    def filter_row(self, filter_id: str) -> FilterRow | None:
        row = self.execute(
            f"SELECT {_FILTER_COLUMNS} FROM filters WHERE id = ?", (filter_id,)
        ).fetchone()
        return None if row is None else _filter_row(row)

    def filters(self, *, limit: int, offset: int) -> list[FilterRow]:
        rows = self.execute(
            f"SELECT {_FILTER_COLUMNS} FROM filters ORDER BY id LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [_filter_row(row) for row in rows]

    def filter_ids(self, *, limit: int) -> list[str]:
        rows = self.execute("SELECT id FROM filters ORDER BY id LIMIT ?", (limit,))
        return [row["id"] for row in rows]

    def datasets_using_filter(self, filter_id: str) -> tuple[str, ...]:
        """Ids of the datasets whose default filter is ``filter_id``."""
        rows = self.execute(
            "SELECT id FROM datasets WHERE default_filter_id = ? ORDER BY id", (filter_id,)
        )
        return tuple(row["id"] for row in rows)

    def default_filter_id(self, dataset_id: str) -> str:
        """The dataset's default filter id ('' when it has none or does not exist)."""
        row = self.execute(
            "SELECT default_filter_id FROM datasets WHERE id = ?", (dataset_id,)
        ).fetchone()
        return "" if row is None else str(row["default_filter_id"])


class Transaction(Session):
    """A write transaction: its statements and its file moves.

    A move is undone when the transaction rolls back; a file given to
    :meth:`delete_after_commit` is removed once the transaction committed.
    """

    def __init__(self, conn: sqlite3.Connection, home: Path) -> None:
        super().__init__(conn, home)
        #: The time every row this transaction writes is stamped with.
        self.stamp = _db.now()
        self.moved: list[tuple[Path, Path]] = []
        self.to_delete: list[Path] = []

    def move(self, src: Path, dest: Path) -> None:
        """Move ``src`` to ``dest`` now (made parent folders included); undone on rollback."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
        self.moved.append((src, dest))

    def undo_moves(self) -> None:
        for src, dest in reversed(self.moved):
            with contextlib.suppress(OSError):
                os.replace(dest, src)

    def delete_after_commit(self, paths: Iterable[Path]) -> None:
        self.to_delete.extend(paths)

    # -- datasets ---------------------------------------------------------------------

    def insert_dataset(self, dataset_id: str) -> int:
        stamp = self.stamp
        cursor = self.execute(
            "INSERT INTO datasets (id, created_at, modified_at) VALUES (?, ?, ?)",
            (dataset_id, stamp, stamp),
        )
        return int(cursor.lastrowid or 0)

    def update_dataset(
        self,
        pk: int,
        *,
        description: str,
        notes: str,
        metadata: dict[str, Any],
        image: dict[str, str] | None,
        default_filter_id: str,
    ) -> None:
        self.execute(
            "UPDATE datasets SET description = ?, notes = ?, metadata = ?, image = ?, "
            "default_filter_id = ?, modified_at = ? WHERE pk = ?",
            (
                description,
                notes,
                json.dumps(metadata, ensure_ascii=False),
                json.dumps(image) if image else None,
                default_filter_id,
                self.stamp,
                pk,
            ),
        )

    def delete_dataset(self, pk: int) -> list[str]:
        """Delete the dataset and its versions; return their archive files (home-relative)."""
        rows = self.execute("SELECT file_name FROM versions WHERE dataset_pk = ?", (pk,))
        files = [row["file_name"] for row in rows]
        self.execute("DELETE FROM datasets WHERE pk = ?", (pk,))
        return files

    # -- versions ---------------------------------------------------------------------

    def insert_version(self, new: NewVersion) -> int:
        """Record a new version and its input id index; return its key."""
        stamp = self.stamp
        scanned = new.scanned
        cursor = self.execute(
            "INSERT INTO versions (dataset_pk, id, name, description, file_name, sha256, size, "
            "metrics, created_at, modified_at, parent, origin, source, inputs_count, "
            "entries_count, indexed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            (
                new.dataset_pk,
                new.id,
                new.name,
                new.description,
                new.file_name,
                scanned.sha256,
                scanned.size,
                json.dumps(scanned.metrics.to_dict(), ensure_ascii=False),
                stamp,
                stamp,
                new.parent,
                new.origin,
                new.source,
                len(scanned.ids),
                scanned.entries_count,
            ),
        )
        pk = int(cursor.lastrowid or 0)
        self.insert_index(pk, scanned)
        return pk

    def insert_index(self, version_pk: int, scanned: ScanResult) -> None:
        """Index the version's input ids (the first of ids that occur twice)."""
        cursor = self.conn.executemany(
            "INSERT OR IGNORE INTO input_index (version_pk, input_id, entry) VALUES (?, ?, ?)",
            zip(repeat(version_pk), scanned.ids, scanned.entries),
        )
        duplicates = len(scanned.ids) - max(cursor.rowcount, 0)
        if duplicates > 0:
            log.warning(
                "%d input ids occur more than once in the archive; the first of each is indexed",
                duplicates,
            )

    def rescan_version(self, pk: int, scanned: ScanResult) -> None:
        """Replace the version's metrics, size, sha256 and index with a new scan's."""
        self.execute("DELETE FROM input_index WHERE version_pk = ?", (pk,))
        self.insert_index(pk, scanned)
        self.execute(
            "UPDATE versions SET metrics = ?, sha256 = ?, size = ?, inputs_count = ?, "
            "entries_count = ?, indexed = 1, modified_at = ? WHERE pk = ?",
            (
                json.dumps(scanned.metrics.to_dict(), ensure_ascii=False),
                scanned.sha256,
                scanned.size,
                len(scanned.ids),
                scanned.entries_count,
                self.stamp,
                pk,
            ),
        )

    def update_version(self, pk: int, *, name: str, description: str) -> None:
        self.execute(
            "UPDATE versions SET name = ?, description = ?, modified_at = ? WHERE pk = ?",
            (name, description, self.stamp, pk),
        )

    def set_version_source(self, pk: int, *, origin: str, source: str) -> None:
        self.execute(
            "UPDATE versions SET origin = ?, source = ? WHERE pk = ?", (origin, source, pk)
        )

    def delete_version(self, pk: int) -> None:
        self.execute("DELETE FROM versions WHERE pk = ?", (pk,))

    # -- saved filters ----------------------------------------------------------------

    def save_filter(self, filter_id: str, *, description: str, criteria: str) -> None:
        """Insert the filter, or update the one with this id."""
        stamp = self.stamp
        if self.filter_row(filter_id) is not None:
            self.execute(
                "UPDATE filters SET description = ?, criteria = ?, modified_at = ? WHERE id = ?",
                (description, criteria, stamp, filter_id),
            )
        else:
            self.execute(
                f"INSERT INTO filters ({_FILTER_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (filter_id, description, criteria, stamp, stamp),
            )

    def delete_filter(self, filter_id: str) -> None:
        self.execute("DELETE FROM filters WHERE id = ?", (filter_id,))


class Store:
    """The catalog home's database: opened on first use, created on the first write.

    ``timeout`` is how long a writer waits while another process writes.
    """

    def __init__(self, home: Path, *, timeout: float = _db.DEFAULT_TIMEOUT) -> None:
        self.home = home
        self.timeout = timeout
        self._conn: sqlite3.Connection | None = None
        self._empty: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"Store({str(self.home)!r})"

    @property
    def path(self) -> Path:
        """The database file."""
        return self.home / _db.DB_NAME

    def connection(self) -> sqlite3.Connection:
        """The database connection, opened (and the schema upgraded) on first use."""
        if self._conn is None:
            conn = _db.connect(self.path, timeout=self.timeout)
            try:
                _db.upgrade(conn, home=self.home, where=self.path)
            except BaseException:
                conn.close()
                raise
            conn.row_factory = sqlite3.Row
            self._conn = conn
        return self._conn

    def _read_connection(self) -> sqlite3.Connection:
        """The database for reading; an empty in-memory one while the home has none."""
        if self._conn is not None or self.path.exists():
            return self.connection()
        if self._empty is None:
            empty = sqlite3.connect(":memory:", isolation_level=None)
            _db.upgrade(empty, home=None, where=":memory:")
            empty.row_factory = sqlite3.Row
            self._empty = empty
        return self._empty

    def ensure_home(self) -> Path:
        """Create the home folder when it does not exist; return it."""
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CatalogError(
                f"{self.home}: cannot create the catalog home ({exc.strerror or exc})"
            ) from None
        return self.home

    @contextlib.contextmanager
    def reading(self) -> Iterator[Session]:
        """A consistent snapshot for several queries."""
        conn = self._read_connection()
        with _db.read_transaction(conn, where=self.path):
            yield Session(conn, self.home)

    @contextlib.contextmanager
    def writing(self) -> Iterator[Transaction]:
        """One write transaction (``BEGIN IMMEDIATE``): committed when the body ends,
        rolled back with its file moves when it raises.

        Files no row names (left by a process killed midway) are removed first.
        """
        self.ensure_home()
        conn = self.connection()
        txn = Transaction(conn, self.home)
        try:
            with _db.write_transaction(conn, where=self.path):
                archives, covers = txn.stored_files()
                remove_leftovers(self.home, archives=archives, covers=covers)
                yield txn
        except BaseException:
            txn.undo_moves()
            raise
        for path in txn.to_delete:
            with contextlib.suppress(OSError):
                path.unlink()
                log.info("removed %s", path)

    def close(self) -> None:
        """Close the connections (the store opens them again when used)."""
        for conn in (self._conn, self._empty):
            if conn is not None:
                conn.close()
        self._conn = self._empty = None


def _dataset_row(row: sqlite3.Row) -> DatasetRow:
    return DatasetRow(
        pk=row["pk"],
        id=row["id"],
        description=row["description"],
        notes=row["notes"],
        metadata=json.loads(row["metadata"]),
        image=json.loads(row["image"]) if row["image"] else None,
        default_filter_id=row["default_filter_id"],
        created_at=row["created_at"],
        modified_at=row["modified_at"],
    )


def _filter_row(row: sqlite3.Row) -> FilterRow:
    return FilterRow(
        id=row["id"],
        description=row["description"],
        criteria=row["criteria"],
        created_at=row["created_at"],
        modified_at=row["modified_at"],
    )
