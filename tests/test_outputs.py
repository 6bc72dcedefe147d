"""Every path a command writes, checked against every path it reads (issue 18, item 1).

The library check (:func:`toolkit._outputs.check_outputs`) on crafted paths, then the
command lines the probe used to destroy a source, each with the source's bytes
checked afterwards.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit._outputs import check_outputs, same_path, within
from toolkit.catalog import Catalog
from toolkit.cli import cli
from toolkit.errors import OutputError
from toolkit.index import build_index

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "clarifai-data-protobuf.zip"


@pytest.fixture(name="src")
def _src(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "src.zip"
    path.parent.mkdir()
    shutil.copyfile(SAMPLE, path)
    return path


class TestCheckOutputs:
    def test_other_spellings_of_the_source(self, src: Path, tmp_path: Path) -> None:
        spellings = [
            src,
            src.parent / "." / src.name,
            src.parent / ".." / "data" / src.name,
            Path(os.path.relpath(src)),
        ]
        for spelling in spellings:
            assert same_path(spelling, src)
            with pytest.raises(OutputError, match=f"this is the source archive {src}"):
                check_outputs({"--report": spelling}, [src], force=True)

    def test_links(self, src: Path, tmp_path: Path) -> None:
        hard = tmp_path / "hard.zip"
        os.link(src, hard)
        soft = tmp_path / "soft.zip"
        soft.symlink_to(src)
        folder_link = tmp_path / "linked"
        folder_link.symlink_to(src.parent, target_is_directory=True)
        for alias in (hard, soft, folder_link / src.name):
            with pytest.raises(OutputError, match=f"{alias}: this is the source archive"):
                check_outputs({"-o": alias}, [src], force=True)

    def test_folders(self, src: Path, tmp_path: Path) -> None:
        with pytest.raises(OutputError, match="holds the source archive"):
            check_outputs({"-o": tmp_path}, [src], force=True)
        index = tmp_path / "ix"
        index.mkdir()
        with pytest.raises(OutputError, match="is inside the source folder"):
            check_outputs({"--sheet": index / "sheet.png"}, [index], force=True)
        assert within(index / "a" / "b", index) and not within(index, index)

    def test_outputs_apart_and_new(self, src: Path, tmp_path: Path) -> None:
        out = tmp_path / "out.jsonl"
        with pytest.raises(OutputError, match="one would overwrite the other"):
            check_outputs({"-o": out, "--report": tmp_path / "." / "out.jsonl"}, [src])
        check_outputs({"-o": out, "--report": tmp_path / "r.json", "--html": None}, [src])
        coco = tmp_path / "coco"
        check_outputs({"-o": coco, "--report": coco / "report.json"}, [src])
        out.write_text("old")
        with pytest.raises(OutputError, match=f"{out}: exists; pass force=True"):
            check_outputs({"-o": out}, [src])
        check_outputs({"-o": out}, [src], force=True)
        check_outputs({"-o": out}, [src], existing_ok={"-o"})


def run(args: list[str]):
    result = CliRunner().invoke(cli, args)
    assert "Traceback" not in result.output
    return result


def assert_refused(result, *words: str) -> None:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stderr.count("Error: ") == 1
    for word in words:
        assert word in result.stderr


class TestTheProbesCommands:
    """Each command line from the issue, which replaced a source or a file before."""

    @pytest.mark.parametrize("force", [[], ["--force"]])
    def test_convert_report_onto_the_source(self, src: Path, tmp_path: Path, force) -> None:
        before = src.read_bytes()
        out = tmp_path / "out.jsonl"
        result = run(["convert", str(src), "--to", "jsonl", "-o", str(out), "--report", str(src)])
        assert_refused(result, str(src), "source")
        result = run(
            ["convert", str(src), "--to", "jsonl", "-o", str(out), "--report", str(src), *force]
        )
        assert_refused(result, str(src))
        assert src.read_bytes() == before and not out.exists()

    def test_merge_report_onto_the_source(self, src: Path, tmp_path: Path) -> None:
        before = src.read_bytes()
        out = tmp_path / "m.zip"
        result = run(["merge", str(src), "-o", str(out), "--report", str(src), "--force"])
        assert_refused(result, str(src), "source")
        assert src.read_bytes() == before and not out.exists()

    def test_convert_report_onto_another_file(self, src: Path, tmp_path: Path) -> None:
        other = tmp_path / "notes.txt"
        other.write_text("precious")
        out = tmp_path / "out.jsonl"
        args = ["convert", str(src), "--to", "jsonl", "-o", str(out), "--report", str(other)]
        assert_refused(run(args), f"{other}: exists; pass --force")
        assert other.read_text() == "precious" and not out.exists()
        assert run([*args, "--force"]).exit_code == 0
        assert '"format": "jsonl"' in other.read_text()

    def test_convert_onto_an_existing_file(self, src: Path, tmp_path: Path) -> None:
        out = tmp_path / "x.zip"
        out.write_bytes(b"old")
        assert_refused(run(["convert", str(src), "--to", "json", "-o", str(out)]), "--force")
        assert out.read_bytes() == b"old"

    def test_convert_onto_a_hard_link_of_the_source(self, src: Path, tmp_path: Path) -> None:
        alias = tmp_path / "alias.zip"
        os.link(src, alias)
        before = src.read_bytes()
        result = run(["convert", str(src), "--to", "json", "-o", str(alias), "--force"])
        assert_refused(result, str(alias), str(src))
        assert src.read_bytes() == before

    def test_a_report_inside_the_coco_folder(self, src: Path, tmp_path: Path) -> None:
        coco = tmp_path / "coco"
        args = ["convert", str(src), "--to", "coco", "-o", str(coco)]
        result = run([*args, "--report", str(coco / "report.json")])
        assert result.exit_code == 0, result.stderr
        assert '"format": "coco"' in (coco / "report.json").read_text()
        assert (coco / "annotations.json").is_file()

    def test_coco_folder_through_a_link_to_the_sources_folder(
        self, src: Path, tmp_path: Path
    ) -> None:
        link = tmp_path / "coco"
        link.symlink_to(src.parent, target_is_directory=True)
        result = run(["convert", str(src), "--to", "coco", "-o", str(link), "--force"])
        assert_refused(result, "holds the source archive")
        assert src.read_bytes() == SAMPLE.read_bytes()

    def test_search_outputs_onto_the_index(self, src: Path, tmp_path: Path) -> None:
        index = tmp_path / "ix"
        build_index([src], index)
        faiss_before = (index / "index.faiss").read_bytes()
        base = ["search", str(index), "--like", "img-0001", "--force"]
        assert_refused(run([*base, "--sheet", str(src)]), str(src))
        assert_refused(run([*base, "--html", str(index / "index.faiss")]), "index.faiss")
        assert_refused(run([*base, "--html", str(index / "new.html")]), "inside the source")
        assert_refused(run(["sort", str(index), "--like", "img-0001", "-o", str(src), "--force"]))
        assert src.read_bytes() == SAMPLE.read_bytes()
        assert (index / "index.faiss").read_bytes() == faiss_before

    def test_index_build_into_the_sources_folder(self, src: Path) -> None:
        result = run(["index", "build", str(src), "-o", str(src.parent), "--force"])
        assert_refused(result, "holds the source archive")
        assert src.read_bytes() == SAMPLE.read_bytes()

    def test_split_part_is_the_source(self, tmp_path: Path) -> None:
        src = tmp_path / "train.zip"
        shutil.copyfile(SAMPLE, src)
        args = ["split", str(src), "--ratios", "train=0.5,val=0.5", "-o", str(tmp_path)]
        assert_refused(run([*args, "--force"]), "this is the source archive")
        assert src.read_bytes() == SAMPLE.read_bytes()

    def test_export_onto_the_versions_archive(self, src: Path, tmp_path: Path) -> None:
        home = tmp_path / "home"
        with Catalog(home) as catalog:
            archive = catalog.datasets.add(src, dataset="d", version="v1").archive
        before = archive.read_bytes()
        base = ["--home", str(home), "datasets", "export", "d", "--force"]
        assert_refused(run([*base, "--to", "protobuf", "-o", str(archive)]), "source")
        out = tmp_path / "e.jsonl"
        assert_refused(run([*base, "--to", "jsonl", "-o", str(out), "--report", str(archive)]))
        assert archive.read_bytes() == before and not out.exists()


class TestParameterNames:
    """Library errors name parameters; the CLI writes its flags in their place."""

    def test_flag_spellings(self) -> None:
        from toolkit.cli._flags import flag

        assert flag("allow_empty=True") == "--allow-empty"
        assert flag("to='coco'") == "--to coco"
        assert flag("workers=1") == "--workers 1"
        assert flag("limits.max_entries") == "--max-entries"
        assert flag("report_path") == "--report"
        assert flag("-o") == "-o"

    def test_only_the_named_parameters_are_rewritten(self) -> None:
        from toolkit.cli._flags import in_flags

        exc = OutputError(
            "force=True/out.zip: exists; pass force=True to replace it", params=["force=True"]
        )
        # The path holds the same text; only what the error names changes (every copy of it).
        assert in_flags(exc) == "--force/out.zip: exists; pass --force to replace it"
        plain = OutputError("a.zip: pass force=True")
        assert in_flags(plain) == "a.zip: pass force=True"

    def test_params_survive_pickling(self) -> None:
        import pickle

        exc = pickle.loads(pickle.dumps(OutputError("x: pass force=True", params=["force=True"])))
        assert (
            type(exc) is OutputError
            and exc.params == ("force=True",)
            and str(exc) == "x: pass force=True"
        )

    def test_cli_message_names_the_flag(self, sample_archive: Path, tmp_path: Path) -> None:
        # The library refuses the folder naming force=True; the command line says --force.
        out = tmp_path / "coco"
        out.mkdir()
        (out / "notes.txt").write_text("mine")
        args = ["convert", str(sample_archive), "--to", "coco", "-o", str(out)]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1
        assert "or pass --force" in result.output and "force=True" not in result.output
