"""The catalog database: settings, schema version and upgrades from older databases."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from catalog_helpers import write_small_archive

from toolkit.archive import ArchiveReader
from toolkit.catalog import SCHEMA_VERSION, Catalog
from toolkit.catalog import db as catalog_db
from toolkit.errors import CatalogError
from toolkit.metrics import compute_metrics

# The version-1 schema, written out by hand as a catalog made by the first release has it.
V1_SCHEMA = """
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
PRAGMA user_version = 1;
"""


def make_v1_home(home: Path, archive: Path, *, copy_file: bool = True) -> None:
    """A catalog home at schema version 1 holding dataset 'old' with version 'v1'."""
    home.mkdir(parents=True, exist_ok=True)
    rel = "archives/old/v1.zip"
    if copy_file:
        (home / rel).parent.mkdir(parents=True)
        shutil.copyfile(archive, home / rel)
    with ArchiveReader(archive) as reader:
        metrics = compute_metrics(reader.iter_inputs()).to_dict()
    conn = sqlite3.connect(home / "catalog.sqlite3")
    conn.executescript(V1_SCHEMA)
    stamp = "2024-01-02T03:04:05.000000Z"
    conn.execute(
        "INSERT INTO datasets (id, description, notes, metadata, created_at, modified_at) "
        "VALUES ('old', 'made by v1', '', '{\"k\": 1}', ?, ?)",
        (stamp, stamp),
    )
    conn.execute(
        "INSERT INTO versions (dataset_pk, id, description, file_name, sha256, size, metrics, "
        "created_at) VALUES (1, 'v1', 'first', ?, 'abc', ?, ?, ?)",
        (rel, archive.stat().st_size, json.dumps(metrics), stamp),
    )
    conn.commit()
    conn.close()


class TestSettings:
    def test_new_catalog_settings(self, tmp_path, sample_archive):
        catalog = Catalog(tmp_path / "home")
        catalog.datasets.add(sample_archive, dataset="demo")
        conn = catalog.store.connection()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
        assert catalog_db.schema_version(conn) == SCHEMA_VERSION == len(catalog_db.MIGRATIONS)
        catalog.close()

    def test_reading_creates_nothing(self, tmp_path):
        home = tmp_path / "nowhere"
        catalog = Catalog(home)
        assert catalog.datasets.list() == []
        with pytest.raises(CatalogError, match="no dataset 'x'"):
            catalog.datasets.get("x")
        catalog.close()
        assert not home.exists()

    def test_newer_schema_is_refused(self, tmp_path):
        home = tmp_path / "home"
        home.mkdir()
        conn = sqlite3.connect(home / "catalog.sqlite3")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
        conn.close()
        with pytest.raises(CatalogError, match="newer than this toolkit"):
            Catalog(home).datasets.list()

    def test_not_a_database(self, tmp_path):
        home = tmp_path / "home"
        home.mkdir()
        (home / "catalog.sqlite3").write_bytes(b"this is not sqlite" * 100)
        with pytest.raises(CatalogError, match="not a readable catalog database"):
            Catalog(home).datasets.list()

    def test_busy_writer_gets_a_clear_error(self, tmp_path, sample_archive):
        home = tmp_path / "home"
        Catalog(home).datasets.add(sample_archive, dataset="demo", version="v1")
        blocker = sqlite3.connect(home / "catalog.sqlite3", isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            catalog = Catalog(home, timeout=0.2)
            with pytest.raises(CatalogError, match="busy"):
                catalog.datasets.patch("demo", notes="x")
            # readers are not blocked by the writer (WAL)
            assert catalog.datasets.get("demo").notes == ""
            catalog.close()
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert Catalog(home).datasets.patch("demo", notes="x").notes == "x"


class TestUpgrade:
    def test_version_1_database_is_upgraded_and_indexed(self, tmp_path):
        archive = write_small_archive(tmp_path / "a.zip", "in", 10, batch_size=3)
        home = tmp_path / "home"
        make_v1_home(home, archive)
        catalog = Catalog(home)
        info = catalog.datasets.get("old")
        assert info.description == "made by v1"
        assert info.metadata == {"k": 1}
        assert info.image is None and info.default_filter_id == ""
        version = catalog.versions.get("old", "v1")
        assert version.indexed
        assert version.inputs_count == 10
        assert version.entries_count == 4
        assert version.modified_at == version.created_at == "2024-01-02T03:04:05.000000Z"
        assert version.name == "" and version.parent is None and version.origin == "add"
        assert catalog.get_input("old", "in-0007").id == "in-0007"
        assert catalog.locate_input("old@v1", "in-0007").entry == 2
        assert catalog_db.schema_version(catalog.store.connection()) == SCHEMA_VERSION
        catalog.close()
        # opening it again changes nothing
        conn = sqlite3.connect(home / "catalog.sqlite3")
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SELECT COUNT(*) FROM input_index").fetchone()[0] == 10
        conn.close()

    def test_version_1_with_a_missing_archive(self, tmp_path):
        archive = write_small_archive(tmp_path / "a.zip", "in", 5)
        home = tmp_path / "home"
        make_v1_home(home, archive, copy_file=False)
        catalog = Catalog(home)
        version = catalog.versions.get("old", "v1")
        assert version.missing and not version.indexed
        with pytest.raises(CatalogError, match="no input index yet"):
            catalog.get_input("old", "in-0001")
        # the file comes back: refresh builds the index
        (home / "archives/old").mkdir(parents=True)
        shutil.copyfile(archive, home / "archives/old/v1.zip")
        refreshed = catalog.versions.refresh("old", "v1")
        assert refreshed.indexed and not refreshed.missing
        assert catalog.get_input("old", "in-0001").id == "in-0001"
        catalog.close()

    def test_a_failing_upgrade_leaves_the_database_at_its_version(self, tmp_path, monkeypatch):
        archive = write_small_archive(tmp_path / "a.zip", "in", 3)
        home = tmp_path / "home"
        make_v1_home(home, archive)

        def broken(conn, home):
            conn.execute("ALTER TABLE datasets ADD COLUMN image TEXT")
            raise sqlite3.OperationalError("disk I/O error (simulated)")

        monkeypatch.setattr(catalog_db, "MIGRATIONS", [catalog_db.MIGRATIONS[0], broken])
        monkeypatch.setattr(catalog_db, "SCHEMA_VERSION", 2)
        with pytest.raises(CatalogError, match="simulated"):
            Catalog(home).datasets.list()
        conn = sqlite3.connect(home / "catalog.sqlite3")
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        columns = [row[1] for row in conn.execute("PRAGMA table_info(datasets)")]
        assert "image" not in columns
        conn.close()
        monkeypatch.undo()
        assert Catalog(home).versions.get("old", "v1").indexed

    def test_a_new_database_goes_through_every_migration(self, tmp_path):
        conn = catalog_db.connect(tmp_path / "x.sqlite3")
        assert catalog_db.upgrade(conn, home=tmp_path) == 0
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"datasets", "versions", "input_index"} <= tables
        assert catalog_db.upgrade(conn, home=tmp_path) == SCHEMA_VERSION
        conn.close()


def test_switching_to_wal_waits_for_a_writer_of_a_new_database(tmp_path):
    # Two processes creating the catalog at once: one is inside its first write while
    # the other switches the file to WAL. SQLite answers "locked" at once there,
    # without waiting, so connect() retries until the writer is done.
    path = tmp_path / "catalog.sqlite3"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (1)")
    timer = threading.Timer(0.3, lambda: writer.execute("COMMIT"))
    timer.start()
    started = time.monotonic()
    conn = catalog_db.connect(path, timeout=10)
    waited = time.monotonic() - started
    timer.join()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert waited >= 0.25
    conn.close()
    writer.close()


def test_switching_to_wal_gives_up_after_the_timeout(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (1)")
    started = time.monotonic()
    with pytest.raises(CatalogError, match="catalog is busy"):
        catalog_db.connect(path, timeout=0.2)
    assert 0.1 <= time.monotonic() - started < 5
    writer.execute("ROLLBACK")
    writer.close()
