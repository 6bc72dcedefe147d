"""``clarifai-archive datasets|versions ...`` and catalog references in the other commands."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from catalog_helpers import files_under, write_small_archive
from PIL import Image

from toolkit.archive import ArchiveReader
from toolkit.catalog import Catalog
from toolkit.cli import catalog as catalog_cli
from toolkit.cli import cli
from toolkit.jsonmap import input_to_dict


@pytest.fixture(name="home")
def _home(tmp_path) -> Path:
    return tmp_path / "home"


@pytest.fixture(name="run")
def _run(runner, home):
    """``run(*args, ok=True, input=None)``: invoke the CLI on the test's catalog home."""

    def run(*args: str, ok: bool = True, input: str | None = None, env=None):
        top = ["--home", str(home)] + (["-q"] if "-q" in args else [])
        rest = [a for a in args if a != "-q"]
        result = runner.invoke(cli, [*top, *rest], input=input, env=env, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


@pytest.fixture(name="demo")
def _demo(run, sample_archive):
    run("datasets", "add", str(sample_archive), "--dataset", "demo", "--version", "v1", "-q")
    return "demo"


class TestDatasetsAdd:
    def test_add_prints_the_version(self, run, sample_archive, home):
        result = run("datasets", "add", str(sample_archive), "--dataset", "birds")
        assert result.stdout == (
            "Added birds@clarifai-data-protobuf: 31 inputs in 4 batch entries (184.3 KiB).\n"
        )
        assert (home / "archives/birds/clarifai-data-protobuf.zip").is_file()

    def test_add_json(self, run, sample_archive):
        result = run(
            "datasets",
            "add",
            str(sample_archive),
            "--dataset",
            "birds",
            "--version",
            "may",
            "--name",
            "May export",
            "--description",
            "first",
            "--json",
        )
        out = json.loads(result.stdout)
        assert out["id"] == "may" and out["dataset_id"] == "birds"
        assert out["name"] == "May export" and out["description"] == "first"
        assert out["metrics"]["inputs_count"] == 31 and out["inputs_count"] == 31
        assert out["missing"] is False and out["origin"] == "add"

    def test_add_from_a_catalog_reference(self, run, demo):
        out = json.loads(run("datasets", "add", "demo@v1", "--dataset", "copy", "--json").stdout)
        assert out["id"] == "v1" and out["inputs_count"] == 31

    def test_add_errors(self, run, tmp_path, sample_archive):
        bad = tmp_path / "bad.zip"
        bad.write_text("no zip")
        result = run("datasets", "add", str(bad), "--dataset", "x", ok=False)
        assert result.exit_code == 1 and result.stderr.startswith("Error: ")
        assert "not a zip archive" in result.stderr and "Traceback" not in result.output
        result = run("datasets", "add", str(sample_archive), "--dataset", "a/b", ok=False)
        assert result.exit_code == 1 and "not a valid dataset id" in result.stderr
        result = run("datasets", "add", "missing.zip", "--dataset", "x", ok=False)
        assert result.exit_code == 2 and "no such file" in result.stderr
        result = run("datasets", "add", str(sample_archive), ok=False)
        assert result.exit_code == 2 and "--dataset" in result.stderr

    def test_home_from_the_environment(self, runner, tmp_path, sample_archive):
        home = tmp_path / "env-home"
        result = runner.invoke(
            cli,
            ["datasets", "add", str(sample_archive), "--dataset", "e"],
            env={"CLARIFAI_ARCHIVE_HOME": str(home)},
        )
        assert result.exit_code == 0, result.output
        assert Catalog(home).datasets.get("e").versions_count == 1


class TestDatasetsListGet:
    def test_list(self, run, demo, sample_archive):
        run("datasets", "add", str(sample_archive), "--dataset", "alpha", "-q")
        result = run("datasets", "list")
        assert result.stdout.splitlines() == [
            "id     versions  latest                  inputs  files  description",
            "alpha         1  clarifai-data-protobuf      31  ok",
            "demo          1  v1                          31  ok",
        ]
        lines = run("datasets", "list", "--json", "--page", "2", "--per-page", "1").stdout
        rows = [json.loads(line) for line in lines.splitlines()]
        assert [r["id"] for r in rows] == ["demo"]
        assert rows[0]["latest_version"] == "v1" and rows[0]["missing_files"] == []

    def test_list_empty(self, run):
        result = run("datasets", "list")
        assert result.stdout == ""
        assert "no datasets" in result.stderr
        assert run("datasets", "list", "--json").stdout == ""

    def test_get(self, run, demo):
        run("datasets", "patch", "demo", "--description", "Demo", "--notes", "line 1\nline 2")
        result = run("datasets", "get", "demo")
        lines = result.stdout.splitlines()
        assert lines[:4] == [
            "dataset:        demo",
            "description:    Demo",
            "notes:          line 1",
            "                line 2",
        ]
        assert "versions:       1 (latest v1, 31 inputs)" in lines
        assert lines[-2].split() == [
            "id",
            "name",
            "inputs",
            "size",
            "created",
            "(UTC)",
            "parent",
            "file",
        ]
        assert lines[-1].split()[0] == "v1" and lines[-1].endswith("ok")
        out = json.loads(run("datasets", "get", "demo", "--json").stdout)
        assert out["id"] == "demo" and out["notes"] == "line 1\nline 2"
        assert [v["id"] for v in out["versions"]] == ["v1"]
        assert "metrics" not in out["versions"][0]

    def test_get_unknown(self, run):
        result = run("datasets", "get", "nope", ok=False)
        assert result.exit_code == 1
        assert "Error: no dataset 'nope' in the catalog" in result.stderr


class TestDatasetsPatch:
    def test_merge_description_and_notes(self, run, demo):
        out = json.loads(
            run("datasets", "patch", "demo", "--description", "d", "--notes", "n", "--json").stdout
        )
        assert out["description"] == "d" and out["notes"] == "n"

    def test_metadata_merge_then_overwrite(self, run, demo):
        run("datasets", "patch", "demo", "--metadata", '{"lol": "hey", "l": [{"id": "a"}]}')
        out = json.loads(
            run(
                "datasets", "patch", "demo", "--metadata", '{"l": [{"id": "a", "x": 1}]}', "--json"
            ).stdout
        )
        assert out["metadata"] == {"lol": "hey", "l": [{"id": "a", "x": 1}]}
        out = json.loads(
            run(
                "datasets",
                "patch",
                "demo",
                "--action",
                "overwrite",
                "--metadata",
                '{"foo": "bar"}',
                "--json",
            ).stdout
        )
        assert out["metadata"] == {"foo": "bar"}

    def test_cover_image_file_and_url_and_remove(self, run, demo, tmp_path, home):
        cover = tmp_path / "cover.jpg"
        Image.new("RGB", (4, 4)).save(cover, format="JPEG")
        out = json.loads(
            run("datasets", "patch", "demo", "--cover-image", str(cover), "--json").stdout
        )
        assert Path(out["image"]["file"]).parent == home / "covers"
        assert out["image"]["file"].endswith(".jpg")
        text = run("datasets", "get", "demo").stdout
        assert f"cover image:    {out['image']['file']}" in text
        out = json.loads(
            run(
                "datasets", "patch", "demo", "--cover-image-url", "https://x/c.png", "--json"
            ).stdout
        )
        assert out["image"] == {"url": "https://x/c.png"}
        assert files_under(home / "covers") == []
        out = json.loads(run("datasets", "patch", "demo", "--action", "remove", "--json").stdout)
        assert out["image"] is None

    def test_default_filter(self, run, demo):
        args = ("datasets", "patch", "demo", "--default-filter-id", "dataset-filter-1")
        result = run(*args, ok=False)
        assert result.exit_code == 1
        assert result.stderr == (
            "Error: no saved filter 'dataset-filter-1' in the catalog; the catalog has none; "
            "save one with 'clarifai-archive filters add'\n"
        )
        run("filters", "add", "dataset-filter-1", "--has-regions")
        result = run(*args)
        assert "default filter: dataset-filter-1" in result.stdout

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            ([], "nothing to patch"),
            (["--action", "remove", "--notes", "x"], "takes no field options"),
            (["--metadata", "{bad"], "not JSON"),
            (["--metadata", "[1]"], "must be a JSON object"),
            (["--cover-image-url", "u", "--cover-image", "setup.py"], "not both"),
            (["--action", "replace", "--notes", "x"], "'replace' is not one of"),
        ],
    )
    def test_usage_errors(self, run, demo, args, message, tmp_path, monkeypatch):
        (tmp_path / "setup.py").write_text("")
        monkeypatch.chdir(tmp_path)
        result = run("datasets", "patch", "demo", *args, ok=False)
        assert result.exit_code == 2
        assert message in result.stderr

    def test_bad_cover_file(self, run, demo, tmp_path):
        bad = tmp_path / "c.png"
        bad.write_text("nope")
        result = run("datasets", "patch", "demo", "--cover-image", str(bad), ok=False)
        assert result.exit_code == 1 and "not a readable image" in result.stderr


class TestDelete:
    def test_refuses_without_a_terminal(self, run, demo, home):
        result = run("datasets", "delete", "demo", ok=False)
        assert result.exit_code == 1
        assert result.stderr.startswith("Error: not deleting dataset 'demo'")
        assert "irreversible" in result.stderr and "--yes" in result.stderr
        result = run("versions", "delete", "demo", "v1", ok=False)
        assert result.exit_code == 1 and "irreversible" in result.stderr
        assert Catalog(home).versions.get("demo", "v1").archive.is_file()

    def test_asks_on_a_terminal(self, run, demo, home, monkeypatch):
        monkeypatch.setattr(catalog_cli, "_stdin_is_terminal", lambda: True)
        result = run("datasets", "delete", "demo", input="n\n", ok=False)
        assert result.exit_code == 1 and "Aborted" in result.stderr
        assert "This is irreversible" in result.stderr
        assert Catalog(home).datasets.get("demo").versions_count == 1
        result = run("datasets", "delete", "demo", input="y\n")
        assert result.stdout == "Deleted dataset demo (1 version(s)).\n"
        assert Catalog(home).datasets.list() == []
        assert files_under(home / "archives") == []

    def test_yes(self, run, demo, sample_archive, home):
        run("datasets", "add", str(sample_archive), "--dataset", "demo", "--version", "v2", "-q")
        out = json.loads(run("versions", "delete", "demo", "v1", "--yes", "--json").stdout)
        assert out["id"] == "v1"
        assert [v.id for v in Catalog(home).versions.list("demo")] == ["v2"]
        out = json.loads(run("datasets", "delete", "demo", "-y", "--json").stdout)
        assert out["id"] == "demo" and out["versions_count"] == 1

    def test_unknown(self, run):
        result = run("datasets", "delete", "nope", "--yes", ok=False)
        assert result.exit_code == 1 and "no dataset 'nope'" in result.stderr


class TestVersions:
    def test_list_get_patch_refresh(self, run, demo, sample_archive):
        run("datasets", "add", str(sample_archive), "--dataset", "demo", "--version", "v2", "-q")
        lines = run("versions", "list", "demo").stdout.splitlines()
        assert [line.split()[0] for line in lines] == ["id", "v2", "v1"]
        rows = [
            json.loads(x)
            for x in run(
                "versions", "list", "demo", "--json", "--per-page", "1"
            ).stdout.splitlines()
        ]
        assert [r["id"] for r in rows] == ["v2"]
        rows = [
            json.loads(x)
            for x in run(
                "versions", "list", "demo", "--json", "--page", "2", "--per-page", "1"
            ).stdout.splitlines()
        ]
        assert [r["id"] for r in rows] == ["v1"]

        text = run("versions", "get", "demo", "v1").stdout
        info_text = run("info", str(sample_archive)).stdout
        # the metrics lines are those of `info`
        assert text.splitlines()[-17:] == info_text.splitlines()[-17:]
        out = json.loads(run("versions", "get", "demo", "v1", "--json").stdout)
        assert out["metrics"] == json.loads(run("info", str(sample_archive), "--json").stdout)

        out = json.loads(
            run("versions", "patch", "demo", "v1", "--name", "renamed", "--json").stdout
        )
        assert out["name"] == "renamed" and out["id"] == "v1"
        assert "name:       renamed" in run("versions", "get", "demo", "v1").stdout
        result = run("versions", "patch", "demo", "v1", ok=False)
        assert result.exit_code == 2

        result = run("versions", "refresh", "demo", "v1")
        assert result.stdout == "Refreshed demo@v1: 31 inputs in 4 batch entries (184.3 KiB).\n"
        out = json.loads(run("versions", "refresh", "demo", "v1", "--json").stdout)
        assert out["metrics"]["inputs_count"] == 31

    def test_unknown_version(self, run, demo):
        result = run("versions", "get", "demo", "v9", ok=False)
        assert result.exit_code == 1 and "has no version 'v9'" in result.stderr


class TestReferences:
    def test_info_and_inputs_on_a_reference(self, run, demo, sample_archive, tmp_path):
        info_file = run("info", str(sample_archive), "--json").stdout
        assert json.loads(run("info", "demo", "--json").stdout) == json.loads(info_file)
        assert json.loads(run("info", "demo@v1", "--json").stdout) == json.loads(info_file)
        listed = run("inputs", "list", "demo@v1", "--per-page", "3", "--json").stdout
        assert [json.loads(x)["id"] for x in listed.splitlines()] == [
            "img-0001",
            "img-0002",
            "img-0003",
        ]
        got = json.loads(run("inputs", "get", "demo", "img-0004").stdout)
        with ArchiveReader(sample_archive) as reader:
            assert got == input_to_dict(reader.get_input("img-0004"))

    def test_a_file_wins_over_a_catalog_name(self, run, demo, tmp_path, monkeypatch):
        other = write_small_archive(tmp_path / "demo", "file", 2)
        monkeypatch.chdir(tmp_path)
        assert json.loads(run("info", "demo", "--json").stdout)["inputs_count"] == 2
        got = json.loads(run("inputs", "get", "demo", "file-0001").stdout)
        assert got["id"] == "file-0001"
        assert other.exists()

    def test_latest_version_only(self, run, tmp_path):
        run(
            "datasets",
            "add",
            str(write_small_archive(tmp_path / "a.zip", "old", 3)),
            "--dataset",
            "d",
        )
        run(
            "datasets",
            "add",
            str(write_small_archive(tmp_path / "b.zip", "new", 3)),
            "--dataset",
            "d",
        )
        result = run("inputs", "get", "d", "old-0001", ok=False)
        assert result.exit_code == 1
        assert "d@b: no input with id 'old-0001'; it is in version(s) a" in result.stderr
        assert json.loads(run("inputs", "get", "d@a", "old-0001").stdout)["id"] == "old-0001"

    def test_neither_file_nor_reference(self, run, demo):
        result = run("info", "nope", ok=False)
        assert result.exit_code == 2
        assert "'nope': no such file, and no dataset 'nope' in the catalog" in result.stderr
        result = run("inputs", "get", "demo@v7", "img-0001", ok=False)
        assert result.exit_code == 2
        assert "no such file, and dataset 'demo' has no version 'v7'" in result.stderr
        result = run("inputs", "list", "dir/x.zip", ok=False)
        assert result.exit_code == 2
        assert "not a catalog reference DATASET[@VERSION]" in result.stderr

    def test_missing_archive_files(self, run, demo, sample_archive, home):
        run("datasets", "add", str(sample_archive), "--dataset", "demo", "--version", "v2", "-q")
        gone = home / "archives/demo/v1.zip"
        gone.unlink()
        text = run("datasets", "get", "demo").stdout
        assert f"missing file:   {gone}" in text
        assert "1 missing" in run("datasets", "list").stdout
        lines = run("versions", "list", "demo").stdout.splitlines()
        assert lines[2].split()[0] == "v1" and lines[2].endswith("MISSING")
        assert json.loads(run("datasets", "get", "demo", "--json").stdout)["missing_files"] == [
            str(gone)
        ]
        assert "MISSING" in run("versions", "get", "demo", "v1").stdout
        for args in (
            ["info", "demo@v1"],
            ["inputs", "get", "demo@v1", "img-0001"],
            ["inputs", "list", "demo@v1"],
            ["versions", "refresh", "demo", "v1"],
        ):
            result = run(*args, ok=False)
            assert result.exit_code == 1, args
            assert f"its archive {gone} is missing" in result.stderr, args
        # the latest version is fine
        assert json.loads(run("inputs", "get", "demo", "img-0001").stdout)["id"] == "img-0001"


def test_every_catalog_command_has_help_with_an_example(runner):
    for group in (catalog_cli.datasets, catalog_cli.versions):
        for name in group.commands:
            result = runner.invoke(cli, [group.name, name, "--help"])
            assert result.exit_code == 0, (group.name, name)
            assert "Example:" in result.output, (group.name, name)
            assert "--json" in result.output, (group.name, name)
    for name in ("list",):
        assert "--per-page" in runner.invoke(cli, ["datasets", name, "--help"]).output
        assert "--per-page" in runner.invoke(cli, ["versions", name, "--help"]).output


def test_sources_are_not_modified(run, sample_archive, tmp_path):
    copy = tmp_path / "src.zip"
    shutil.copyfile(sample_archive, copy)
    before = copy.read_bytes()
    run("datasets", "add", str(copy), "--dataset", "s")
    run("versions", "refresh", "s", "src")
    assert copy.read_bytes() == before


def test_a_broken_catalog_is_an_error_not_a_usage_error(runner, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "catalog.sqlite3").write_bytes(b"garbage" * 200)
    result = runner.invoke(cli, ["--home", str(home), "info", "demo"])
    assert result.exit_code == 1
    assert "not a readable catalog database" in result.stderr
