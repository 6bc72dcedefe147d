"""The catalog's SQLite database: connection settings, schema and its upgrades.

The database lives at ``<home>/catalog.sqlite3``. It runs in WAL mode (readers never
block the writer), with foreign keys on and a busy timeout, so a second writer waits
for the first instead of failing at once. Writers take the write lock up front
(``BEGIN IMMEDIATE``) and do their work in one transaction.

The schema version is ``PRAGMA user_version``. :data:`MIGRATIONS` holds one function
per version; opening an older database runs the missing ones, each in its own
transaction, so a database is always at one well-defined version.

Example::

    conn = connect(home / "catalog.sqlite3")
    upgrade(conn, home=home)
    with write_transaction(conn):
        conn.execute("UPDATE datasets SET notes = ? WHERE id = ?", ("...", "birds"))
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

from ..errors import CatalogError

__all__ = [
    "DB_NAME",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "connect",
    "now",
    "read_transaction",
    "schema_version",
    "upgrade",
    "write_transaction",
]

log = logging.getLogger(__name__)

DB_NAME = "catalog.sqlite3"
#: Seconds a writer waits for another one before giving up.
DEFAULT_TIMEOUT = 30.0


def now() -> str:
    """The current UTC time as RFC 3339 text, as Clarifai writes ``created_at``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def connect(path: Path, *, timeout: float = DEFAULT_TIMEOUT) -> sqlite3.Connection:
    """Open the database with the catalog's settings (autocommit; transactions are explicit).

    ``timeout`` is how long a writer waits for the write lock held by another process.
    """
    try:
        conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    except sqlite3.Error as exc:
        raise CatalogError(f"{path}: cannot open the catalog database ({exc})") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        mode = _enter_wal(conn, timeout)
        if str(mode).lower() != "wal":  # pragma: no cover - e.g. a file system without locks
            log.warning("%s: journal mode is %s, not WAL", path, mode)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = FULL")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _error(path, exc) from None
    return conn


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


def _enter_wal(conn: sqlite3.Connection, timeout: float) -> str:
    """Switch to WAL mode, retrying while another process holds the database.

    WAL mode is stored in the file, so this only changes something the first time.
    When several processes create the catalog at once, the switch can fail with
    "database is locked" at once, without SQLite's busy handler waiting, so it
    is retried here until ``timeout``.
    """
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def _error(path: Path | str, exc: sqlite3.Error) -> CatalogError:
    text = str(exc)
    if _is_busy(exc):
        return CatalogError(
            f"{path}: the catalog is busy (another clarifai-archive process is writing to it "
            "and did not finish in time); try again"
        )
    if "not a database" in text or "malformed" in text:
        return CatalogError(
            f"{path}: not a readable catalog database ({text}); move it away to start "
            "a new catalog, or give another --home"
        )
    return CatalogError(f"{path}: catalog database error ({text})")


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection, *, where: Path | str = "") -> Iterator[None]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back when the body raises."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise _error(where, exc) from None
    try:
        yield
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise _error(where, exc) from None


@contextlib.contextmanager
def read_transaction(conn: sqlite3.Connection, *, where: Path | str = "") -> Iterator[None]:
    """A consistent snapshot for several queries (``BEGIN`` ... ``COMMIT``)."""
    try:
        conn.execute("BEGIN")
        yield
    except sqlite3.Error as exc:
        raise _error(where, exc) from None
    finally:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("COMMIT")


# -- schema ----------------------------------------------------------------------


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run statements one by one (``executescript`` would commit the open transaction)."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _v1(conn: sqlite3.Connection, home: Path | None) -> None:
    """Datasets and versions with their archive files and metrics."""
    _run_script(
        conn,
        """
        CREATE TABLE datasets (
            pk INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT '',
            notes TEXT NOT NULL DEFAULT '',
            metadata TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            modified_at TEXT NOT NULL
        );
        CREATE TABLE versions (
            pk INTEGER PRIMARY KEY AUTOINCREMENT,
            dataset_pk INTEGER NOT NULL REFERENCES datasets(pk) ON DELETE CASCADE,
            id TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            file_name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            metrics TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (dataset_pk, id)
        );
        """,
    )


def _v2(conn: sqlite3.Connection, home: Path | None) -> None:
    """Cover image, default filter, version names and lineage, and the input id index.

    Versions imported under version 1 get their id index now, read from their archive
    (a version whose file is missing is indexed later, by ``versions refresh``).
    """
    _run_script(
        conn,
        """
        ALTER TABLE datasets ADD COLUMN image TEXT;
        ALTER TABLE datasets ADD COLUMN default_filter_id TEXT NOT NULL DEFAULT '';
        ALTER TABLE versions ADD COLUMN name TEXT NOT NULL DEFAULT '';
        ALTER TABLE versions ADD COLUMN modified_at TEXT NOT NULL DEFAULT '';
        ALTER TABLE versions ADD COLUMN parent TEXT;
        ALTER TABLE versions ADD COLUMN origin TEXT NOT NULL DEFAULT 'add';
        ALTER TABLE versions ADD COLUMN source TEXT NOT NULL DEFAULT '';
        ALTER TABLE versions ADD COLUMN inputs_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE versions ADD COLUMN entries_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE versions ADD COLUMN indexed INTEGER NOT NULL DEFAULT 0;
        UPDATE versions SET modified_at = created_at;
        UPDATE versions SET inputs_count = COALESCE(json_extract(metrics, '$.inputs_count'), 0);
        CREATE TABLE input_index (
            version_pk INTEGER NOT NULL REFERENCES versions(pk) ON DELETE CASCADE,
            input_id TEXT NOT NULL,
            entry INTEGER NOT NULL,
            PRIMARY KEY (version_pk, input_id)
        ) WITHOUT ROWID;
        """,
    )
    if home is None:
        return
    from ._scan import index_existing_versions

    index_existing_versions(conn, home)


def _v3(conn: sqlite3.Connection, home: Path | None) -> None:
    """Saved filters (``filters add``), which a dataset's ``default_filter_id`` names."""
    _run_script(
        conn,
        """
        CREATE TABLE filters (
            pk INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT '',
            criteria TEXT NOT NULL,
            created_at TEXT NOT NULL,
            modified_at TEXT NOT NULL
        );
        """,
    )


#: ``MIGRATIONS[n]`` takes a database at version ``n`` to version ``n + 1``.
MIGRATIONS: list[Callable[[sqlite3.Connection, Path | None], None]] = [_v1, _v2, _v3]
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    """The database's schema version (0 for a new, empty database)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def upgrade(conn: sqlite3.Connection, *, home: Path | None, where: Path | str = "") -> int:
    """Bring the database to :data:`SCHEMA_VERSION`; return the version it was at.

    Each step runs in its own write transaction and re-reads the version inside it, so
    two processes opening an old catalog at once upgrade it once.
    """
    try:
        start = schema_version(conn)
    except sqlite3.DatabaseError as exc:
        raise _error(where, exc) from None
    if start > SCHEMA_VERSION:
        raise CatalogError(
            f"{where}: the catalog has schema version {start}, newer than this toolkit's "
            f"({SCHEMA_VERSION}); upgrade clarifai-archive-toolkit"
        )
    if start == SCHEMA_VERSION:
        return start
    while True:
        with write_transaction(conn, where=where):
            current = schema_version(conn)
            if current >= SCHEMA_VERSION:
                return start
            try:
                MIGRATIONS[current](conn, home)
            except sqlite3.Error as exc:
                raise _error(where, exc) from None
            conn.execute(f"PRAGMA user_version = {current + 1}")
            if current:
                log.info("%s: catalog schema upgraded from %d to %d", where, current, current + 1)
