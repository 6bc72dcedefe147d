"""Operations that make new versions (inputs delete, datasets merge) and datasets export."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from catalog_helpers import files_under, small_inputs, write_small_archive

from toolkit.archive import ArchiveReader, write_archive
from toolkit.catalog import Catalog
from toolkit.cli import cli
from toolkit.convert import convert_archives
from toolkit.errors import (
    CatalogError,
    ConflictError,
    InputNotFoundError,
    NotInCatalogError,
    OutputError,
)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ids_in(path: Path) -> list[str]:
    with ArchiveReader(path) as reader:
        return [r.id for r in reader.iter_inputs()]


@pytest.fixture(name="catalog")
def _catalog(tmp_path):
    catalog = Catalog(tmp_path / "home")
    catalog.datasets.add(
        write_small_archive(tmp_path / "base.zip", "a", 10, batch_size=3), dataset="d", version="v1"
    )
    yield catalog
    catalog.close()


class TestDeleteInputs:
    def test_makes_a_new_version_and_keeps_the_old(self, catalog):
        parent = catalog.version("d@v1")
        before = sha(parent.archive)
        made = catalog.delete_inputs("d", ["a-0002", "a-0005"])
        version = made.version
        assert version.id == "v1-del1" and version.parent == "v1"
        assert version.origin == "delete-inputs" and version.source == "d@v1"
        assert version.inputs_count == 8 and made.missing_ids == ()
        assert ids_in(version.archive) == [f"a-{i:04d}" for i in range(10) if i not in (2, 5)]
        assert made.report.removed == ("a-0002", "a-0005")
        assert made.report.output == str(version.archive) and made.report.source == "d@v1"
        # the parent is untouched and still readable by id
        assert sha(parent.archive) == before
        assert catalog.get_input("d@v1", "a-0002").id == "a-0002"
        with pytest.raises(InputNotFoundError, match="it is in version"):
            catalog.get_input("d", "a-0002")
        assert catalog.version("d").id == "v1-del1"
        # metrics are those of the new archive
        assert version.metrics["inputs_count"] == 8
        assert files_under(catalog.home / "tmp") == []

    def test_ids_chain_and_explicit_ids(self, catalog):
        first = catalog.delete_inputs("d", ["a-0000"]).version
        second = catalog.delete_inputs("d", ["a-0001"]).version
        assert (first.id, second.id, second.parent) == ("v1-del1", "v1-del2", "v1-del1")
        third = catalog.delete_inputs("d@v1", ["a-0009"], version="clean", description="x")
        assert third.version.id == "clean" and third.version.parent == "v1"
        assert third.version.description == "x" and third.version.inputs_count == 9
        with pytest.raises(CatalogError, match="already has a version 'clean'"):
            catalog.delete_inputs("d", ["a-0003"], version="clean")

    def test_missing_ids(self, catalog):
        made = catalog.delete_inputs("d", ["a-0001", "zzz", "yyy"])
        assert made.missing_ids == ("zzz", "yyy") and made.version.inputs_count == 9
        before = [v.id for v in catalog.versions.list("d")]
        with pytest.raises(InputNotFoundError, match="2 of the ids are not in this version"):
            catalog.delete_inputs("d", ["a-0003", "zzz", "yyy"], strict=True)
        with pytest.raises(InputNotFoundError, match="none of the 1 ids"):
            catalog.delete_inputs("d", ["zzz"])
        assert [v.id for v in catalog.versions.list("d")] == before
        with pytest.raises(ValueError):
            catalog.delete_inputs("d", [])

    def test_unknown_dataset(self, catalog):
        with pytest.raises(NotInCatalogError):
            catalog.delete_inputs("nope", ["a"])


class TestMerge:
    def test_merge_a_dataset(self, catalog, tmp_path):
        other = write_small_archive(tmp_path / "o.zip", "b", 4)
        catalog.datasets.add(other, dataset="other", version="w1")
        source_before = sha(catalog.version("other").archive)
        parent_before = sha(catalog.version("d").archive)
        made = catalog.datasets.merge("other", into="d")
        version = made.version
        assert version.id == "v1-merge1" and version.parent == "v1"
        assert version.origin == "merge" and version.source == "other@w1"
        assert version.inputs_count == 14
        assert ids_in(version.archive) == [f"a-{i:04d}" for i in range(10)] + [
            f"b-{i:04d}" for i in range(4)
        ]
        assert made.report.added == 14
        assert made.report.output == str(version.archive)
        assert [s.path for s in made.report.sources] == ["d@v1", "other@w1"]
        assert sha(catalog.version("other").archive) == source_before
        assert sha(catalog.version("d@v1").archive) == parent_before
        assert catalog.get_input("d", "b-0003").id == "b-0003"

    def test_merge_a_file_with_ids(self, catalog, tmp_path):
        other = write_small_archive(tmp_path / "o.zip", "b", 6)
        made = catalog.datasets.merge(other, into="d@v1", ids=["b-0001", "b-0004"], version="m")
        assert made.version.id == "m" and made.version.source == str(other)
        assert ids_in(made.version.archive)[-2:] == ["b-0001", "b-0004"]
        with pytest.raises(InputNotFoundError, match="not in it"):
            catalog.datasets.merge(other, into="d", ids=["b-0001", "zzz"])
        assert files_under(catalog.home / "tmp") == []

    def test_conflicts(self, catalog, tmp_path):
        changed = small_inputs("a", 2)
        changed[1].data.metadata.update({"changed": True})
        path = tmp_path / "c.zip"
        write_archive(path, changed)
        versions_before = [v.id for v in catalog.versions.list("d")]
        with pytest.raises(ConflictError):
            catalog.datasets.merge(path, into="d")
        assert [v.id for v in catalog.versions.list("d")] == versions_before
        assert files_under(catalog.home / "tmp") == []
        made = catalog.datasets.merge(path, into="d", on_conflict="overwrite")
        assert made.version.inputs_count == 10
        assert "changed" in catalog.get_input("d", "a-0001").data.metadata.fields
        made = catalog.datasets.merge(path, into="d@v1", on_conflict="rename")
        assert made.version.inputs_count == 11 and made.version.id == "v1-merge2"

    def test_unknown_destination(self, catalog, tmp_path):
        with pytest.raises(NotInCatalogError):
            catalog.datasets.merge("d", into="nope")


class TestExport:
    def test_protobuf_is_a_copy(self, catalog, tmp_path):
        out = tmp_path / "out.zip"
        report = catalog.datasets.export("d", out, to="protobuf")
        assert out.read_bytes() == catalog.version("d").archive.read_bytes()
        assert report.written == 10 and report.format == "protobuf"
        with pytest.raises(OutputError, match="this is the source archive"):
            catalog.datasets.export("d", catalog.version("d").archive, to="protobuf")

    @pytest.mark.parametrize("to", ["jsonl", "json", "coco"])
    def test_same_as_convert(self, catalog, tmp_path, to):
        suffix = {"jsonl": ".jsonl", "json": ".zip", "coco": ""}[to]
        ours, theirs = tmp_path / f"ours{suffix}", tmp_path / f"theirs{suffix}"
        catalog.datasets.export("d@v1", ours, to=to)
        convert_archives([catalog.resolve("d@v1")], theirs, to=to)
        if to == "coco":
            assert files_under(ours) == files_under(theirs) != []
            for name in files_under(ours):
                assert (ours / name).read_bytes() == (theirs / name).read_bytes()
        else:
            assert ours.read_bytes() == theirs.read_bytes()

    def test_json_version_to_protobuf_is_converted(self, tmp_path, sample_json_archive):
        catalog = Catalog(tmp_path / "h2")
        catalog.datasets.add(sample_json_archive, dataset="j")
        out = tmp_path / "p.zip"
        catalog.datasets.export("j", out, to="protobuf")
        with ArchiveReader(out) as reader:
            assert reader.flavour == "protobuf"
            assert sum(1 for _ in reader.iter_inputs()) == 31
        catalog.close()

    def test_missing_archive(self, catalog, tmp_path):
        catalog.version("d").archive.unlink()
        with pytest.raises(CatalogError, match="is missing"):
            catalog.datasets.export("d", tmp_path / "x.jsonl", to="jsonl")


class TestCli:
    @pytest.fixture(name="run")
    def _run(self, runner, catalog):
        def run(*args, ok=True):
            result = runner.invoke(cli, ["--home", str(catalog.home), *args])
            if ok:
                assert result.exit_code == 0, result.output
            return result

        return run

    def test_inputs_delete(self, run, catalog, tmp_path):
        ids = tmp_path / "ids.txt"
        ids.write_text("# bad ones\na-0003\n\na-0004\nnope\n")
        result = run("inputs", "delete", "d", "--id", "a-0001", "--ids-from", str(ids))
        assert result.stdout == (
            "Created version d@v1-del1 (3 input(s) deleted): 7 inputs, from d@v1 (10 inputs).\n"
        )
        assert result.stderr == "Warning: 1 id(s) not in d@v1: nope\n"
        out = json.loads(run("inputs", "delete", "d@v1", "--id", "a-0009", "--json").stdout)
        assert out["version"]["id"] == "v1-del2" and out["parent"] == "d@v1"
        assert out["report"]["removed"] == ["a-0009"]
        result = run("inputs", "delete", "d", "--id", "zz", "--strict", ok=False)
        assert result.exit_code == 1 and "not in this version" in result.stderr
        result = run("inputs", "delete", "d", ok=False)
        assert result.exit_code == 2 and "--id or --ids-from" in result.stderr
        result = run("inputs", "delete", "nope", "--id", "x", ok=False)
        assert result.exit_code == 2 and "no dataset 'nope'" in result.stderr
        archive = str(catalog.resolve("d@v1"))
        result = run("inputs", "delete", archive, "--id", "a-0001", ok=False)
        assert result.exit_code == 2 and "clarifai-archive remove" in result.stderr

    def test_datasets_merge(self, run, catalog, tmp_path):
        other = write_small_archive(tmp_path / "o.zip", "b", 3)
        run("datasets", "add", str(other), "--dataset", "o", "--version", "w1")
        result = run("datasets", "merge", "o", "--into", "d")
        assert result.stdout == (
            "Created version d@v1-merge1 (merged o@w1): 13 inputs, from d@v1 (10 inputs).\n"
        )
        ids = tmp_path / "ids.txt"
        ids.write_text("b-0002\n")
        out = json.loads(
            run(
                "datasets",
                "merge",
                str(other),
                "--into",
                "d@v1",
                "--ids-from",
                str(ids),
                "--version",
                "only2",
                "--json",
            ).stdout
        )
        assert out["version"]["id"] == "only2" and out["version"]["inputs_count"] == 11
        assert out["report"]["added"] == 11
        result = run("datasets", "merge", "d@v1", "--into", "d@v1-merge1", "--on-conflict", "skip")
        assert "10 identical" in result.stderr
        result = run("datasets", "merge", "o", "--into", "d", "--on-conflict", "bad", ok=False)
        assert result.exit_code == 2
        result = run("datasets", "merge", "nope", "--into", "d", ok=False)
        assert result.exit_code == 2 and "no dataset 'nope'" in result.stderr

    def test_datasets_export(self, run, catalog, tmp_path):
        result = run("datasets", "export", "d", "--to", "jsonl", "-o", str(tmp_path / "d.jsonl"))
        assert result.stdout == (
            f"Exported d@v1 (10 inputs) to {tmp_path / 'd.jsonl'} as jsonl: 10 inputs written.\n"
        )
        assert len((tmp_path / "d.jsonl").read_text().splitlines()) == 10
        out = json.loads(
            run(
                "datasets",
                "export",
                "d@v1",
                "--to",
                "coco",
                "-o",
                str(tmp_path / "coco"),
                "--media",
                "embedded",
                "--json",
            ).stdout
        )
        assert out["version"] == "d@v1" and out["report"]["images"] == 10
        assert (tmp_path / "coco" / "annotations.json").is_file()
        result = run(
            "datasets", "export", "d", "--to", "jsonl", "-o", "x", "--media", "embedded", ok=False
        )
        assert result.exit_code == 2 and "--media applies" in result.stderr
        result = run("datasets", "export", "nope", "--to", "jsonl", "-o", "x", ok=False)
        assert result.exit_code == 1 and "no dataset 'nope'" in result.stderr

    def test_convert_takes_a_reference(self, run, tmp_path):
        run("convert", "d@v1", "--to", "jsonl", "-o", str(tmp_path / "c.jsonl"))
        assert len((tmp_path / "c.jsonl").read_text().splitlines()) == 10
