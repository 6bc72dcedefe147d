"""The catalog's Python API: datasets, versions, patching, the input index, missing files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from catalog_helpers import files_under, small_inputs, write_small_archive
from PIL import Image

from toolkit.archive import ArchiveReader
from toolkit.catalog import Catalog, default_home
from toolkit.catalog.store import Session, Transaction
from toolkit.errors import (
    ArchiveError,
    CatalogError,
    InputNotFoundError,
    MediaError,
    NotInCatalogError,
)
from toolkit.jsonmap import input_to_dict
from toolkit.metrics import compute_metrics
from toolkit.subset import FilterCriteria


@pytest.fixture(name="catalog")
def _catalog(tmp_path):
    catalog = Catalog(tmp_path / "home")
    yield catalog
    catalog.close()


@pytest.fixture(name="png")
def _png(tmp_path) -> Path:
    path = tmp_path / "cover.png"
    Image.new("RGB", (8, 6), (200, 10, 10)).save(path)
    return path


class TestAdd:
    def test_add_copies_reads_and_indexes(self, catalog, sample_archive):
        version = catalog.datasets.add(sample_archive, dataset="demo", description="May")
        assert version.id == "clarifai-data-protobuf"
        assert version.ref == "demo@clarifai-data-protobuf"
        assert version.description == "May" and version.origin == "add"
        assert version.source == str(sample_archive.resolve())
        assert version.archive == catalog.home / "archives/demo/clarifai-data-protobuf.zip"
        assert version.archive.read_bytes() == sample_archive.read_bytes()
        assert version.size == sample_archive.stat().st_size
        assert len(version.sha256) == 64
        with ArchiveReader(sample_archive) as reader:
            expected = compute_metrics(reader.iter_inputs()).to_dict()
            entries = len(reader.entries)
        assert version.metrics == expected
        assert version.inputs_count == 31 and version.entries_count == entries
        assert version.indexed and not version.missing
        assert files_under(catalog.home / "tmp") == []

    def test_version_ids_from_file_names_are_unique(self, catalog, sample_archive, tmp_path):
        first = catalog.datasets.add(sample_archive, dataset="demo")
        second = catalog.datasets.add(sample_archive, dataset="demo")
        odd = tmp_path / "my export (2).zip"
        shutil.copyfile(sample_archive, odd)
        third = catalog.datasets.add(odd, dataset="demo")
        assert [first.id, second.id, third.id] == [
            "clarifai-data-protobuf",
            "clarifai-data-protobuf-2",
            "my-export-2",
        ]
        assert catalog.version("demo").id == "my-export-2"

    def test_given_version_id_must_be_free(self, catalog, sample_archive):
        catalog.datasets.add(sample_archive, dataset="demo", version="v1")
        with pytest.raises(CatalogError, match="already has a version 'v1'"):
            catalog.datasets.add(sample_archive, dataset="demo", version="v1")
        assert catalog.datasets.get("demo").versions_count == 1
        assert files_under(catalog.home / "tmp") == []

    def test_ids_are_validated(self, catalog, sample_archive):
        with pytest.raises(CatalogError, match="not a valid dataset id"):
            catalog.datasets.add(sample_archive, dataset="../evil")
        with pytest.raises(CatalogError, match="not a valid version id"):
            catalog.datasets.add(sample_archive, dataset="ok", version="a/b")

    def test_bad_archives_register_nothing(self, catalog, tmp_path, make_archive):
        not_zip = tmp_path / "notes.zip"
        not_zip.write_text("hello")
        with pytest.raises(ArchiveError, match="not a zip archive"):
            catalog.datasets.add(not_zip, dataset="demo")
        with pytest.raises(ArchiveError, match="no such file"):
            catalog.datasets.add(tmp_path / "nope.zip", dataset="demo")
        assert catalog.datasets.list() == []
        assert files_under(catalog.home / "archives") == []
        assert files_under(catalog.home / "tmp") == []

    def test_an_empty_archive_is_an_empty_version(self, catalog, make_archive):
        # What 'filter --allow-empty' writes is read back, as every archive the tool writes.
        empty = make_archive([], name="empty.zip")
        version = catalog.datasets.add(empty, dataset="demo")
        assert (version.inputs_count, version.metrics["inputs_count"]) == (0, 0)
        assert catalog.existing_ids("demo", ["a"]) == set()

    def test_json_flavour(self, catalog, sample_json_archive):
        version = catalog.datasets.add(sample_json_archive, dataset="demo")
        record = catalog.get_input("demo", "img-0005")
        with ArchiveReader(sample_json_archive) as reader:
            assert input_to_dict(record) == input_to_dict(reader.get_input("img-0005"))
        assert version.inputs_count == 31

    def test_progress_is_called_per_entry(self, catalog, tmp_path):
        archive = write_small_archive(tmp_path / "a.zip", "x", 10, batch_size=3)
        calls = []
        catalog.datasets.add(archive, dataset="d", progress=calls.append)
        assert calls == [1, 1, 1, 1]

    def test_duplicate_ids_index_the_first(self, catalog, make_archive):
        records = small_inputs("a", 3)
        dup = small_inputs("a", 1)[0]
        dup.data.metadata.update({"second": True})
        path = make_archive([*records, dup], batch_size=2)
        version = catalog.datasets.add(path, dataset="d")
        assert version.inputs_count == 4
        assert "second" not in catalog.get_input("d", "a-0000").data.metadata.fields


class TestGetInput:
    def test_same_as_the_archive(self, catalog, sample_archive):
        catalog.datasets.add(sample_archive, dataset="demo", version="v1")
        with ArchiveReader(sample_archive) as reader:
            for record in reader.iter_inputs():
                got = catalog.get_input("demo@v1", record.id)
                assert got.SerializeToString(deterministic=True) == record.SerializeToString(
                    deterministic=True
                )

    def test_latest_version_only(self, catalog, tmp_path):
        old = write_small_archive(tmp_path / "old.zip", "old", 4)
        new = write_small_archive(tmp_path / "new.zip", "new", 4)
        catalog.datasets.add(old, dataset="d", version="v1")
        catalog.datasets.add(new, dataset="d", version="v2")
        assert catalog.get_input("d", "new-0001").id == "new-0001"
        assert catalog.get_input("d@v1", "old-0001").id == "old-0001"
        with pytest.raises(InputNotFoundError, match=r"d@v2: no input with id 'old-0001'.*v1"):
            catalog.get_input("d", "old-0001")
        with pytest.raises(InputNotFoundError, match="inputs list"):
            catalog.get_input("d", "nothing")

    def test_locate_reads_no_archive(self, catalog, tmp_path):
        archive = write_small_archive(tmp_path / "a.zip", "x", 9, batch_size=2)
        catalog.datasets.add(archive, dataset="d")
        location = catalog.locate_input("d", "x-0007")
        assert location.entry == 3 and location.version.id == "a"
        # the lookup needs the database only: it works with the archive gone
        location.version.archive.unlink()
        assert catalog.locate_input("d", "x-0008").entry == 4

    def test_a_replaced_archive_is_detected(self, catalog, tmp_path):
        archive = write_small_archive(tmp_path / "a.zip", "x", 9, batch_size=2)
        version = catalog.datasets.add(archive, dataset="d")
        other = write_small_archive(tmp_path / "b.zip", "y", 30, batch_size=5)
        shutil.copyfile(other, version.archive)
        with pytest.raises(CatalogError, match="changed since it was imported.*refresh"):
            catalog.get_input("d", "x-0001")
        refreshed = catalog.versions.refresh("d", "a")
        assert refreshed.inputs_count == 30 and refreshed.sha256 != version.sha256
        assert catalog.get_input("d", "y-0029").id == "y-0029"

    def test_unknown_references(self, catalog, sample_archive):
        catalog.datasets.add(sample_archive, dataset="demo", version="v1")
        with pytest.raises(NotInCatalogError, match="no dataset 'nope'"):
            catalog.get_input("nope", "img-0001")
        with pytest.raises(NotInCatalogError, match="has no version 'v9'"):
            catalog.resolve("demo@v9")
        with pytest.raises(CatalogError, match="not a catalog reference"):
            catalog.resolve("demo@v1@x")

    def test_existing_ids(self, catalog, tmp_path):
        archive = write_small_archive(tmp_path / "a.zip", "x", 2000, batch_size=100)
        catalog.datasets.add(archive, dataset="d")
        wanted = [f"x-{i:04d}" for i in range(0, 3000, 3)]
        found = catalog.existing_ids("d", wanted)
        assert found == {i for i in wanted if int(i[2:]) < 2000}


class TestDatasets:
    def test_list_pages_by_id(self, catalog, sample_archive):
        for name in ["zeta", "alpha", "mid"]:
            catalog.datasets.add(sample_archive, dataset=name)
        assert [d.id for d in catalog.datasets.list()] == ["alpha", "mid", "zeta"]
        assert [d.id for d in catalog.datasets.list(page=2, per_page=2)] == ["zeta"]
        assert catalog.datasets.list(page=3, per_page=2) == []
        with pytest.raises(ValueError):
            catalog.datasets.list(page=0)

    def test_get_summarises_versions(self, catalog, tmp_path):
        catalog.datasets.add(write_small_archive(tmp_path / "a.zip", "a", 3), dataset="d")
        catalog.datasets.add(write_small_archive(tmp_path / "b.zip", "b", 5), dataset="d")
        info = catalog.datasets.get("d")
        assert info.versions_count == 2 and info.latest_version == "b"
        assert info.inputs_count == 5 and info.missing_files == ()
        assert info.to_dict()["latest_version"] == "b"

    def test_delete_removes_versions_and_files(self, catalog, sample_archive, png):
        catalog.datasets.add(sample_archive, dataset="keep")
        catalog.datasets.add(sample_archive, dataset="gone")
        catalog.datasets.add(sample_archive, dataset="gone")
        catalog.datasets.patch("gone", cover_image=png)
        deleted = catalog.datasets.delete("gone")
        assert deleted.versions_count == 2
        assert [d.id for d in catalog.datasets.list()] == ["keep"]
        assert files_under(catalog.home / "archives") == ["keep/clarifai-data-protobuf.zip"]
        assert files_under(catalog.home / "covers") == []
        conn = catalog.store.connection()
        assert conn.execute("SELECT COUNT(*) FROM input_index").fetchone()[0] == 31
        with pytest.raises(NotInCatalogError):
            catalog.datasets.delete("gone")


class TestPatchExamples:
    """The dataset and version updates of Clarifai's documentation, on the local catalog."""

    @pytest.fixture(name="demo")
    def _demo(self, catalog, sample_archive):
        catalog.datasets.add(sample_archive, dataset="demo", version="v1")
        catalog.datasets.patch(
            "demo",
            action="overwrite",
            description="This is the foo dataset",
            metadata={"lol": "hey"},
        )
        return catalog

    def test_merge_a_description_and_notes(self, demo):
        info = demo.datasets.patch(
            "demo", action="merge", description="Birds of May", notes="# Notes\nChecked."
        )
        assert info.description == "Birds of May"
        assert info.notes == "# Notes\nChecked."
        assert info.metadata == {"lol": "hey"}
        assert info.modified_at > info.created_at

    def test_overwrite_metadata(self, demo):
        info = demo.datasets.patch(
            "demo",
            action="overwrite",
            description="This is the new foo dataset",
            metadata={"foo": "bar"},
        )
        assert info.description == "This is the new foo dataset"
        assert info.metadata == {"foo": "bar"}

    def test_merge_metadata(self, demo):
        demo.datasets.patch("demo", metadata={"tags": [{"id": "a", "n": 1}], "deep": {"x": 1}})
        info = demo.datasets.patch(
            "demo", metadata={"tags": [{"id": "a", "m": 2}, {"id": "b"}], "deep": {"y": 2}}
        )
        assert info.metadata == {
            "lol": "hey",
            "tags": [{"id": "a", "n": 1, "m": 2}, {"id": "b"}],
            "deep": {"x": 1, "y": 2},
        }

    def test_set_and_remove_a_cover_image_url(self, demo):
        info = demo.datasets.patch(
            "demo", action="merge", cover_image_url="https://samples.clarifai.com/metro-north.jpg"
        )
        assert info.image == {"url": "https://samples.clarifai.com/metro-north.jpg"}
        info = demo.datasets.patch("demo", action="remove")
        assert info.image is None
        assert info.description == "This is the foo dataset"

    def test_set_and_remove_a_cover_image_file(self, demo, png):
        info = demo.datasets.patch("demo", action="merge", cover_image=png)
        cover = Path(info.image["file"])
        assert cover.parent == demo.home / "covers" and cover.suffix == ".png"
        assert cover.read_bytes() == png.read_bytes()
        # a URL replaces the file, and the copied file goes
        info = demo.datasets.patch("demo", action="overwrite", cover_image_url="https://x/y.png")
        assert info.image == {"url": "https://x/y.png"}
        assert not cover.exists()
        info = demo.datasets.patch("demo", cover_image=png)
        assert Path(info.image["file"]).is_file()
        info = demo.datasets.patch("demo", action="remove")
        assert info.image is None
        assert files_under(demo.home / "covers") == []

    def test_a_cover_must_be_an_image(self, demo, tmp_path):
        bad = tmp_path / "cover.png"
        bad.write_bytes(b"not an image")
        with pytest.raises(MediaError, match="not a readable image"):
            demo.datasets.patch("demo", cover_image=bad)
        assert demo.datasets.get("demo").image is None
        assert files_under(demo.home / "tmp") == []

    def test_set_a_default_filter(self, demo):
        demo.filters.add("dataset-filter-1633032596", FilterCriteria(has_regions=True))
        demo.filters.add("other", FilterCriteria(types=("image",)))
        info = demo.datasets.patch("demo", default_filter_id="dataset-filter-1633032596")
        assert info.default_filter_id == "dataset-filter-1633032596"
        info = demo.datasets.patch("demo", action="overwrite", default_filter_id="other")
        assert info.default_filter_id == "other"

    def test_rename_a_version(self, demo):
        version = demo.versions.patch("demo", "v1", name="dataset version updated name")
        assert version.name == "dataset version updated name"
        assert version.id == "v1" and version.modified_at > version.created_at
        version = demo.versions.patch("demo", "v1", description="described")
        assert version.name == "dataset version updated name"
        assert version.description == "described"
        with pytest.raises(ValueError):
            demo.versions.patch("demo", "v1")

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"action": "remove", "notes": "x"}, "only removes the cover image"),
            ({"action": "merge"}, "nothing to patch"),
            ({"metadata": [1, 2]}, "JSON object"),
            ({"cover_image_url": "a", "cover_image": "b"}, "not both"),
            ({"action": "replace", "notes": "x"}, "unknown patch action"),
        ],
    )
    def test_bad_patches(self, demo, kwargs, message):
        with pytest.raises(ValueError, match=message):
            demo.datasets.patch("demo", **kwargs)

    def test_deep_metadata_is_refused(self, demo):
        deep: dict = {}
        node = deep
        for _ in range(70):
            node["x"] = {}
            node = node["x"]
        with pytest.raises(ValueError, match="nested deeper"):
            demo.datasets.patch("demo", metadata=deep)

    def test_patch_unknown_dataset(self, demo):
        with pytest.raises(NotInCatalogError):
            demo.datasets.patch("nope", notes="x")


class TestVersions:
    def test_list_newest_first_and_pages(self, catalog, tmp_path):
        for n in range(5):
            catalog.datasets.add(
                write_small_archive(tmp_path / f"e{n}.zip", f"e{n}", 2), dataset="d"
            )
        assert [v.id for v in catalog.versions.list("d")] == ["e4", "e3", "e2", "e1", "e0"]
        assert [v.id for v in catalog.versions.list("d", page=2, per_page=2)] == ["e2", "e1"]
        with pytest.raises(NotInCatalogError):
            catalog.versions.list("nope")

    def test_delete_one_version(self, catalog, tmp_path):
        a = catalog.datasets.add(write_small_archive(tmp_path / "a.zip", "a", 2), dataset="d")
        catalog.datasets.add(write_small_archive(tmp_path / "b.zip", "b", 2), dataset="d")
        deleted = catalog.versions.delete("d", "b")
        assert deleted.id == "b" and not deleted.archive.exists()
        assert catalog.version("d").id == "a"
        assert a.archive.exists()
        with pytest.raises(NotInCatalogError):
            catalog.versions.get("d", "b")
        catalog.versions.delete("d", "a")
        assert catalog.datasets.get("d").versions_count == 0
        with pytest.raises(NotInCatalogError, match="has no versions"):
            catalog.resolve("d")

    def test_refresh_recomputes_metrics(self, catalog, sample_archive):
        version = catalog.datasets.add(sample_archive, dataset="demo", version="v1")
        conn = catalog.store.connection()
        conn.execute("UPDATE versions SET metrics = '{}', inputs_count = 0")
        conn.execute("DELETE FROM input_index")
        broken = catalog.versions.get("demo", "v1")
        assert broken.metrics == {}
        refreshed = catalog.versions.refresh("demo", "v1")
        assert refreshed.metrics == version.metrics
        assert refreshed.inputs_count == 31 and refreshed.sha256 == version.sha256
        assert catalog.get_input("demo", "img-0009").id == "img-0009"


class TestMissingFiles:
    def test_missing_archives_are_reported(self, catalog, sample_archive, png):
        v1 = catalog.datasets.add(sample_archive, dataset="demo", version="v1")
        catalog.datasets.add(sample_archive, dataset="demo", version="v2")
        info = catalog.datasets.patch("demo", cover_image=png)
        os.unlink(v1.archive)
        os.unlink(info.image["file"])
        info = catalog.datasets.get("demo")
        assert set(info.missing_files) == {str(v1.archive), info.image["file"]}
        listed = {v.id: v.missing for v in catalog.versions.list("demo")}
        assert listed == {"v1": True, "v2": False}
        assert catalog.datasets.list()[0].missing_files == info.missing_files
        with pytest.raises(CatalogError, match=r"demo@v1: its archive .*v1\.zip is missing"):
            catalog.resolve("demo@v1")
        with pytest.raises(CatalogError, match="is missing"):
            catalog.get_input("demo@v1", "img-0001")
        with pytest.raises(CatalogError, match="is missing"):
            catalog.versions.refresh("demo", "v1")
        assert catalog.get_input("demo", "img-0001").id == "img-0001"
        # deleting the version with the missing file works
        catalog.versions.delete("demo", "v1")
        assert catalog.datasets.get("demo").missing_files == (info.image["file"],)


class TestLeftovers:
    def test_stale_workspace_and_orphans_are_removed_on_the_next_write(
        self, catalog, sample_archive
    ):
        catalog.datasets.add(sample_archive, dataset="demo", version="v1")
        stale = catalog.home / "tmp" / "12345-deadbeef"
        stale.mkdir(parents=True)
        (stale / ".lock").write_bytes(b"")
        (stale / "archive.zip").write_bytes(b"half")
        orphan = catalog.home / "archives" / "demo" / "crashed.zip"
        orphan.write_bytes(b"renamed but never committed")
        orphan_cover = catalog.home / "covers" / "abc.png"
        orphan_cover.parent.mkdir()
        orphan_cover.write_bytes(b"x")
        assert catalog.datasets.get("demo").versions_count == 1  # reads leave them
        assert stale.exists()
        catalog.datasets.patch("demo", notes="a write")
        assert not stale.exists() and not orphan.exists() and not orphan_cover.exists()
        assert files_under(catalog.home / "archives") == ["demo/v1.zip"]

    def test_a_live_workspace_is_kept(self, catalog, sample_archive):
        from toolkit.catalog._files import Workspace

        catalog.datasets.add(sample_archive, dataset="demo", version="v1")
        with Workspace(catalog.home) as ws:
            (ws.path / "busy.zip").write_bytes(b"in progress")
            catalog.datasets.patch("demo", notes="a write")
            assert (ws.path / "busy.zip").exists()
        assert not ws.path.exists()

    def test_a_failure_inside_the_transaction_leaves_nothing(
        self, catalog, sample_archive, monkeypatch
    ):
        catalog.datasets.add(sample_archive, dataset="demo", version="v1")
        before = catalog.datasets.get("demo")

        def fail(*args, **kwargs):
            raise OSError("simulated disk failure")

        monkeypatch.setattr(Transaction, "insert_index", fail)
        with pytest.raises(OSError, match="simulated"):
            catalog.datasets.add(sample_archive, dataset="demo", version="v2")
        monkeypatch.undo()
        assert catalog.datasets.get("demo") == before
        assert files_under(catalog.home / "archives") == ["demo/v1.zip"]
        assert files_under(catalog.home / "tmp") == []

    def test_a_failure_after_the_move_moves_the_file_back(
        self, catalog, sample_archive, monkeypatch
    ):
        catalog.datasets.add(sample_archive, dataset="demo", version="v1")
        real_version = Session.version
        calls = {"n": 0}

        def fail_after_move(self, dataset_id, version_id):
            if version_id == "v2":
                calls["n"] += 1
                raise RuntimeError("simulated crash after the move")
            return real_version(self, dataset_id, version_id)

        monkeypatch.setattr(Session, "version", fail_after_move)
        with pytest.raises(RuntimeError, match="simulated"):
            catalog.datasets.add(sample_archive, dataset="demo", version="v2")
        monkeypatch.undo()
        assert calls["n"] == 1
        assert [v.id for v in catalog.versions.list("demo")] == ["v1"]
        assert files_under(catalog.home / "archives") == ["demo/v1.zip"]


def test_file_names_never_collide(tmp_path, sample_archive):
    catalog = Catalog(tmp_path / "home")
    catalog.datasets.add(sample_archive, dataset="Demo", version="V1")
    version = catalog.datasets.add(sample_archive, dataset="demo", version="v1")
    # on a case-insensitive disk "Demo/V1.zip" and "demo/v1.zip" would be one file
    assert version.archive.name == "v1-2.zip"
    assert catalog.get_input("Demo@V1", "img-0001").id == "img-0001"
    assert catalog.get_input("demo@v1", "img-0001").id == "img-0001"
    catalog.close()


class TestDefaultHome:
    def test_env_var(self, monkeypatch, tmp_path):
        monkeypatch.setenv("CLARIFAI_ARCHIVE_HOME", str(tmp_path / "h"))
        assert default_home() == tmp_path / "h"
        assert Catalog().home == tmp_path / "h"

    def test_xdg_data_home(self, monkeypatch, tmp_path):
        monkeypatch.delenv("CLARIFAI_ARCHIVE_HOME", raising=False)
        monkeypatch.setattr("sys.platform", "linux")
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
        assert default_home() == tmp_path / "xdg" / "clarifai-archive"
        monkeypatch.delenv("XDG_DATA_HOME")
        assert default_home() == Path.home() / ".local" / "share" / "clarifai-archive"

    def test_macos_and_windows(self, monkeypatch, tmp_path):
        monkeypatch.delenv("CLARIFAI_ARCHIVE_HOME", raising=False)
        monkeypatch.setattr("sys.platform", "darwin")
        assert default_home() == Path.home() / "Library/Application Support/clarifai-archive"
        monkeypatch.setattr("sys.platform", "win32")
        monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
        assert default_home() == tmp_path / "local" / "clarifai-archive"
