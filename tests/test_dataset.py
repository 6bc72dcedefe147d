"""toolkit.open and the dataset-like Archive."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pyarrow.dataset as pads
import pytest
from helpers import make_input

import toolkit
from toolkit.archive import ArchiveReader
from toolkit.catalog import Catalog
from toolkit.errors import ArchiveError, NotInCatalogError, SchemaError, ToolkitError
from toolkit.index import SimilarityIndex, build_index
from toolkit.metrics import compute_metrics
from toolkit.subset import FilterCriteria, filter_inputs

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(name="archive")
def _archive(sample_archive: Path):
    with toolkit.open(sample_archive) as archive:
        yield archive


def _all(path: Path):
    with ArchiveReader(path, allow_empty=True) as reader:
        return list(reader.iter_inputs())


class TestDataModel:
    def test_len_iter_getitem_contains(self, archive, sample_archive) -> None:
        records = _all(sample_archive)
        assert len(archive) == len(records) == 31
        assert [r.id for r in archive] == [r.id for r in records]
        assert archive["img-0007"] == records[6]
        assert "img-0007" in archive and "nope" not in archive and 7 not in archive
        with pytest.raises(KeyError, match="nope"):
            archive["nope"]
        assert archive.ids() == [r.id for r in records]

    def test_len_counts_when_names_lack_counts(self, tmp_path, make_archive) -> None:
        src = make_archive([make_input(f"i{n}") for n in range(5)], batch_size=2)
        renamed = tmp_path / "renamed.zip"
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(renamed, "w") as zout:
            for info in zin.infolist():
                name = re.sub(r"_n\d+$", "", info.filename)
                zout.writestr(name, zin.read(info), compress_type=info.compress_type)
        with toolkit.open(renamed) as archive:
            assert len(archive) == 5

    def test_metrics_and_concepts(self, archive, sample_archive) -> None:
        expected = compute_metrics(_all(sample_archive))
        assert archive.metrics == expected
        assert archive.concepts() == expected.concepts

    def test_bad_path_is_an_error(self, tmp_path) -> None:
        with pytest.raises(ArchiveError, match="no such file, and not a catalog reference"):
            toolkit.open(str(tmp_path / "missing.zip"))


class TestEmbeddings:
    def test_matrix_is_bit_exact(self, archive, sample_archive) -> None:
        ids, matrix = archive.embeddings()
        records = [r for r in _all(sample_archive) if len(r.data.embeddings)]
        assert ids == [r.id for r in records]
        assert matrix.dtype == np.float32 and matrix.flags["C_CONTIGUOUS"]
        expected = np.array([np.asarray(r.data.embeddings[0].vector, "<f4") for r in records])
        assert matrix.tobytes() == expected.tobytes()

    def test_grows_past_the_declared_count(self, make_archive, tmp_path) -> None:
        src = make_archive([make_input(f"i{n}", vector=[n, -n]) for n in range(9)], batch_size=4)
        lying = tmp_path / "lying.zip"
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(lying, "w") as zout:
            for info in zin.infolist():
                name = re.sub(r"_n\d+$", "_n1", info.filename)
                zout.writestr(name, zin.read(info), compress_type=info.compress_type)
        with toolkit.open(lying) as archive:
            assert len(archive) == 3  # what the names claim
            ids, matrix = archive.embeddings()
        assert len(ids) == 9 and matrix.shape == (9, 2)
        assert matrix[:, 0].tolist() == list(range(9))

    def test_mixed_sizes_are_an_error(self, make_archive) -> None:
        path = make_archive([make_input("a", vector=[1, 2]), make_input("b", vector=[1])])
        with toolkit.open(path) as archive, pytest.raises(SchemaError, match="embedding=N"):
            archive.embeddings()

    def test_none(self, make_archive) -> None:
        with toolkit.open(make_archive([make_input("a")])) as archive:
            ids, matrix = archive.embeddings()
        assert ids == [] and matrix.shape == (0, 0)


class TestTables:
    def test_to_arrow_matches_the_parquet_output(self, archive, tmp_path) -> None:
        out = archive.to_parquet(tmp_path / "t")
        assert pads.dataset(out).to_table().equals(archive.to_arrow())
        assert archive.record_batches().read_all().equals(archive.to_arrow())

    def test_columns_pick_and_order(self, archive) -> None:
        table = archive.to_arrow(columns=["positive_concepts", "id"])
        assert table.column_names == ["positive_concepts", "id"]
        with pytest.raises(ValueError, match="unknown column 'nope'"):
            archive.to_arrow(columns=["nope"])

    def test_to_pandas_metadata_as_dicts(self, archive, sample_archive) -> None:
        frame = archive.to_pandas(columns=["id", "metadata", "embedding"])
        first = _all(sample_archive)[0]
        assert frame["metadata"][0]["camera"] == {"iso": 100.0, "model": "pillow"}
        assert isinstance(frame["metadata"][0], dict)
        assert (
            frame["embedding"][0].tobytes()
            == np.asarray(first.data.embeddings[0].vector, "<f4").tobytes()
        )

    def test_nested_columns_arrow_or_python(self, archive) -> None:
        import pandas as pd

        arrow = archive.to_pandas(columns=["id", "concepts", "regions", "positive_concepts"])
        python = archive.to_pandas(
            columns=["id", "concepts", "regions", "positive_concepts"], nested="python"
        )
        assert isinstance(arrow["concepts"].dtype, pd.ArrowDtype)
        assert python["concepts"].dtype == object
        rows = archive.to_arrow(["concepts", "regions", "positive_concepts"]).to_pylist()
        for name in ("concepts", "regions", "positive_concepts"):
            assert [list(v) for v in arrow[name]] == [row[name] for row in rows]
            assert [len(v) for v in python[name]] == [len(row[name]) for row in rows]

    def test_image_bytes_when_asked(self, archive, sample_archive) -> None:
        table = archive.to_arrow(columns=["id", "image_bytes"])
        assert table.column("image_bytes")[0].as_py() == _all(sample_archive)[0].data.image.base64


class TestFilter:
    CASES = [
        {"concepts": ("sun",)},
        {"no_concepts": ("sun", "ball")},
        {"types": ("text",)},
        {"metadata": (("camera.model", "pillow"),), "has_regions": True},
        {"has_embeddings": True, "limit": 4},
        {"unlabeled": True},
    ]

    @pytest.mark.parametrize("criteria", CASES)
    def test_same_inputs_as_the_filter_command(self, archive, sample_archive, tmp_path, criteria):
        out = tmp_path / "f.zip"
        report = filter_inputs(
            sample_archive, out, criteria=FilterCriteria(**criteria), allow_empty=True
        )
        view = archive.filter(**criteria)
        assert view.ids() == [r.id for r in _all(out)]
        assert len(view) == report.inputs_written
        assert view.to_arrow(columns=["id"]).column("id").to_pylist() == view.ids()

    def test_view_is_lazy_and_says_so(self, archive, monkeypatch) -> None:
        calls = []
        original = ArchiveReader.read_batch

        def counting(self, entry):
            calls.append(entry.name)
            return original(self, entry)

        monkeypatch.setattr(ArchiveReader, "read_batch", counting)
        view = archive.filter(concepts=["sun"])
        assert "lazy" in repr(view) and "concepts=['sun']" in repr(view)
        assert calls == []
        assert "img-0001" in view and "img-0002" not in view
        with pytest.raises(KeyError):
            view["img-0002"]

    def test_views_of_views_and_limits(self, archive) -> None:
        sun = archive.filter(concepts=["sun"])
        two = sun.filter(limit=2)
        assert two.ids() == sun.ids()[:2]
        assert sun.ids()[2] not in two and sun.ids()[1] in two
        ids, matrix = two.embeddings()
        assert ids == sun.ids()[:2] and matrix.shape[0] == 2


class TestOpenByReference:
    def test_catalog_ref(self, sample_archive, tmp_path) -> None:
        home = tmp_path / "home"
        with Catalog(home) as catalog:
            catalog.datasets.add(sample_archive, dataset="demo", version="v1")
        with toolkit.open("demo@v1", home=home) as archive:
            assert len(archive) == 31
        with toolkit.open("demo", home=home) as archive:
            assert archive["img-0003"].id == "img-0003"
        with pytest.raises(NotInCatalogError):
            toolkit.open("demo@v9", home=home)


class TestSearch:
    def test_index_beside_the_archive(self, sample_archive, tmp_path) -> None:
        local = tmp_path / "export.zip"
        local.write_bytes(sample_archive.read_bytes())
        with toolkit.open(local) as archive:
            with pytest.raises(ToolkitError, match="index build"):
                archive.search(like="img-0007", k=3)
        build_index([local], tmp_path / "export-index")
        expected = SimilarityIndex.load(tmp_path / "export-index").search_like(["img-0007"], 3)[0]
        with toolkit.open(local) as archive:
            hits = archive.search(like="img-0007", k=3)
            assert hits == expected and len(hits) == 3
            sun = archive.filter(concepts=["sun"])
            assert all(h.id in sun for h in sun.search(like="img-0007", k=3))

    def test_index_given(self, sample_archive, tmp_path) -> None:
        build_index([sample_archive], tmp_path / "idx")
        with toolkit.open(sample_archive, index=tmp_path / "idx") as archive:
            assert [h.id for h in archive.search(like="img-0001", k=2)] != []


def test_exports_are_typed() -> None:
    """Every lazy name of ``toolkit`` is bound for type checkers (an explicit re-export
    under TYPE_CHECKING), so none of them is ``Any``."""
    import ast

    tree = ast.parse((ROOT / "toolkit" / "__init__.py").read_text())
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
    )
    bound = set()
    for node in block.body:
        if isinstance(node, ast.ImportFrom):
            bound |= {a.asname for a in node.names if a.asname == a.name}
        elif isinstance(node, ast.Assign):
            bound |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    assert set(toolkit._LAZY_NAMES) <= bound
    assert toolkit.open is toolkit.dataset.open_archive
    assert isinstance(toolkit.Archive, type)


def test_readme_walkthrough_runs(tmp_path, monkeypatch) -> None:
    """The data-science page's walkthrough (its ``pycon`` blocks), a doctest in a fresh folder."""
    import doctest

    part = (ROOT / "docs" / "readme" / "datascience.md").read_text()
    section = part[part.index("### The archive as a dataset, in Python") :]
    blocks = re.findall(r"```pycon\n(.*?)```", section, flags=re.S)
    assert len(blocks) >= 5
    (tmp_path / "sample_data").symlink_to(ROOT / "sample_data")
    monkeypatch.chdir(tmp_path)
    test = doctest.DocTestParser().get_doctest(
        "\n".join(blocks), {}, "README walkthrough", "datascience.md", 0
    )
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    result = runner.run(test, out=lambda text: pytest.fail(text))
    assert result.failed == 0 and result.attempted >= 15
    assert (tmp_path / "suns").is_dir() and (tmp_path / "my-index").is_dir()


def test_metadata_depth_limit_holds_for_tables(make_archive) -> None:
    from toolkit.errors import LimitError
    from toolkit.limits import Limits

    record = make_input("deep", metadata={"a": {"b": {"c": {"d": 1}}}})
    path = make_archive([record])
    with toolkit.open(path, limits=Limits(max_metadata_depth=2)) as archive:
        with pytest.raises(LimitError):
            archive.to_arrow(columns=["id", "metadata"])
    with toolkit.open(path) as archive:
        assert archive.to_arrow(columns=["metadata"]).column("metadata")[0].as_py() == (
            '{"a":{"b":{"c":{"d":1.0}}}}'
        )


class TestEmbeddingsBothWays:
    """The C reader's packed ids and in-place matrix give what protobuf gives."""

    @pytest.mark.parametrize("which", [0, 1])
    def test_same_ids_and_matrix(self, which, monkeypatch, make_archive) -> None:
        import toolkit._native as native
        from toolkit.input_ids import InputIds

        records = []
        for n in range(40):
            record = make_input(f"in-{n:02d}-é" if n % 7 else "", vector=[n, -n, 0.5])
            if n % 5 == 2:
                record.data.ClearField("embeddings")  # no vector: not in the result
            elif n % 3 == 0:
                record.data.embeddings.add(vector=[1, 2, 3], num_dimensions=3)
            records.append(record)
        path = make_archive(records, batch_size=6)
        with toolkit.open(path) as archive:
            fast_ids, fast = archive.embeddings(which)
        monkeypatch.setattr(native, "SPEEDUPS", None)
        with toolkit.open(path) as archive:
            slow_ids, slow = archive.embeddings(which)
        assert isinstance(fast_ids, InputIds) and isinstance(slow_ids, InputIds)
        assert fast_ids == slow_ids and len(fast_ids) == fast.shape[0]
        assert fast.tobytes() == slow.tobytes()
        if which == 0:
            assert list(fast_ids) == [r.id for r in records if len(r.data.embeddings)]
        else:
            assert list(fast_ids) == [r.id for r in records if len(r.data.embeddings) > 1]
