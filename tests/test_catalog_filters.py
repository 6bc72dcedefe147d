"""Saved filters, a dataset's default filter, cover image URLs and ``merge --create``."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.archive import ArchiveReader
from toolkit.catalog import Catalog
from toolkit.catalog.filters import criteria_from_dict, criteria_to_dict
from toolkit.cli import cli
from toolkit.errors import CatalogError, NotInCatalogError
from toolkit.subset import FilterCriteria

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "clarifai-data-protobuf.zip"


@pytest.fixture(name="catalog")
def _catalog(tmp_path: Path):
    with Catalog(tmp_path / "home") as catalog:
        catalog.datasets.add(SAMPLE, dataset="d", version="v1")
        yield catalog


def ids_kept(criteria: FilterCriteria) -> list[str]:
    with ArchiveReader(SAMPLE) as reader:
        return [r.id for r in reader.iter_inputs() if criteria.matches(r)]


def test_criteria_round_trip() -> None:
    criteria = FilterCriteria(
        concepts=("ball",),
        no_concepts=("box",),
        metadata=(("a.b", "1"),),
        types=("image",),
        has_embeddings=True,
        has_regions=True,
        ids=frozenset({"img-0002", "img-0001"}),
        limit=3,
    )
    data = json.loads(json.dumps(criteria_to_dict(criteria)))
    assert data["ids"] == ["img-0001", "img-0002"]
    assert criteria_from_dict(data) == criteria
    with pytest.raises(CatalogError, match="unknown criterion 'colour'"):
        criteria_from_dict({"colour": ["red"]})


class TestFilters:
    def test_add_list_get_delete(self, catalog: Catalog) -> None:
        saved = catalog.filters.add("boxes", FilterCriteria(has_regions=True), description="b")
        assert saved.criteria == FilterCriteria(has_regions=True) and saved.description == "b"
        catalog.filters.add("balls", FilterCriteria(concepts=("ball",)))
        assert [f.id for f in catalog.filters.list()] == ["balls", "boxes"]
        assert [f.id for f in catalog.filters.list(page=2, per_page=1)] == ["boxes"]
        with pytest.raises(CatalogError, match="pass replace=True"):
            catalog.filters.add("boxes", FilterCriteria(unlabeled=True))
        changed = catalog.filters.add("boxes", FilterCriteria(unlabeled=True), replace=True)
        assert catalog.filters.get("boxes").criteria == changed.criteria
        assert catalog.filters.delete("balls").id == "balls"
        with pytest.raises(NotInCatalogError, match="no saved filter 'balls'.*boxes"):
            catalog.filters.get("balls")

    def test_refused(self, catalog: Catalog) -> None:
        with pytest.raises(CatalogError, match="at least one criterion"):
            catalog.filters.add("all", FilterCriteria())
        with pytest.raises(CatalogError, match="filter id"):
            catalog.filters.add("no spaces", FilterCriteria(unlabeled=True))

    def test_the_default_filter_must_exist_and_stays_while_used(self, catalog: Catalog) -> None:
        with pytest.raises(NotInCatalogError, match="no saved filter 'boxes'"):
            catalog.datasets.patch("d", default_filter_id="boxes")
        catalog.filters.add("boxes", FilterCriteria(has_regions=True))
        assert catalog.datasets.patch("d", default_filter_id="boxes").default_filter_id == "boxes"
        assert catalog.filters.get("boxes").used_by == ("d",)
        with pytest.raises(CatalogError, match="default filter of d"):
            catalog.filters.delete("boxes")
        assert catalog.datasets.patch("d", default_filter_id="").default_filter_id == ""
        catalog.filters.delete("boxes")

    def test_an_upgraded_catalog_gets_the_table(self, catalog: Catalog) -> None:
        catalog.close()
        conn = sqlite3.connect(catalog.db_path)
        conn.execute("DROP TABLE filters")
        conn.execute("PRAGMA user_version = 2")
        conn.close()
        catalog.filters.add("boxes", FilterCriteria(has_regions=True))
        assert [f.id for f in catalog.filters.list()] == ["boxes"]


class TestDefaultFilterApplied:
    @pytest.fixture(name="filtered")
    def _filtered(self, catalog: Catalog) -> FilterCriteria:
        criteria = FilterCriteria(concepts=("ball",))
        catalog.filters.add("balls", criteria)
        catalog.datasets.patch("d", default_filter_id="balls")
        return criteria

    @pytest.mark.parametrize("to", ["protobuf", "jsonl"])
    def test_export(self, catalog: Catalog, filtered, tmp_path: Path, to: str) -> None:
        kept = ids_kept(filtered)
        assert 0 < len(kept) < 31
        out = tmp_path / f"out.{to}"
        report = catalog.datasets.export("d", out, to=to)
        assert report.inputs == len(kept) and report.sources == (str(catalog.resolve("d")),)
        if to == "jsonl":
            assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == kept
        else:
            with ArchiveReader(out) as reader:
                assert [r.id for r in reader.iter_inputs()] == kept
        everything = tmp_path / f"all.{to}"
        assert catalog.datasets.export("d", everything, to=to, default_filter=False).inputs == 31

    def test_cli(self, catalog: Catalog, filtered, tmp_path: Path) -> None:
        kept = ids_kept(filtered)
        home = ["--home", str(catalog.home)]
        result = CliRunner().invoke(cli, [*home, "inputs", "list", "d", "--json"])
        assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == kept
        assert "default filter 'balls'" in result.stderr
        result = CliRunner().invoke(
            cli, [*home, "inputs", "list", "d", "--json", "--no-default-filter"]
        )
        assert len(result.stdout.splitlines()) == 31
        # a plain file is never filtered by a catalog's default
        result = CliRunner().invoke(cli, [*home, "inputs", "list", str(SAMPLE), "--json"])
        assert len(result.stdout.splitlines()) == 31
        out = tmp_path / "e.jsonl"
        result = CliRunner().invoke(
            cli, [*home, "-q", "datasets", "export", "d", "--to", "jsonl", "-o", str(out)]
        )
        assert result.exit_code == 0, result.stderr
        assert len(out.read_text().splitlines()) == len(kept)

    def test_a_missing_default_is_an_error(self, catalog: Catalog, filtered) -> None:
        catalog.close()
        conn = sqlite3.connect(catalog.db_path)
        conn.execute("DELETE FROM filters")
        conn.commit()
        conn.close()
        with pytest.raises(CatalogError, match="default filter 'balls' is not in the catalog"):
            catalog.default_filter("d")


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.com/a.png", "javascript:alert(1)", "https://", "x"],
)
def test_cover_image_url_is_http(catalog: Catalog, url: str) -> None:
    result = CliRunner().invoke(
        cli, ["--home", str(catalog.home), "datasets", "patch", "d", "--cover-image-url", url]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cover image URL {url!r}: only http:// and https://")
    assert catalog.datasets.get("d").image is None
    ok = catalog.datasets.patch("d", cover_image_url="https://example.com/c.png")
    assert ok.image == {"url": "https://example.com/c.png"}


def test_merge_create(catalog: Catalog, tmp_path: Path) -> None:
    source = tmp_path / "extra.zip"
    shutil.copyfile(SAMPLE, source)
    with pytest.raises(NotInCatalogError):
        catalog.datasets.merge(source, into="new")
    with pytest.raises(CatalogError, match="give into='new' to create it"):
        catalog.datasets.merge(source, into="new@v1", create=True)
    made = catalog.datasets.merge(
        source, into="new", create=True, ids=["img-0001", "img-0002"], version="first"
    )
    assert made.parent is None and made.version.ref == "new@first"
    assert made.version.inputs_count == 2 and made.version.source == str(source)
    # an existing dataset: --create changes nothing, it is an ordinary merge
    again = catalog.datasets.merge(source, into="new", create=True, on_conflict="skip")
    assert again.parent is not None and again.parent.ref == "new@first"
    assert again.version.inputs_count == 31
