"""Index, search and serve errors name the library's parameters (``memory_budget``,
``kind='flat'``, ``skip_bad=True``); the CLI prints its flags in their place, as it did
before the messages were written for the library."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import make_input
from index_helpers import realistic_vectors, vector_input, write_vector_archive

from toolkit.archive import write_archive
from toolkit.cli import cli
from toolkit.cli._flags import flag, in_flags, with_flags
from toolkit.errors import (
    ArchiveError,
    ConflictError,
    InputNotFoundError,
    LimitError,
    OutputError,
    SchemaError,
    ToolkitError,
    param,
)
from toolkit.index import (
    SheetRow,
    SimilarityIndex,
    add_to_index,
    build_index,
    build_index_from_arrays,
    gather_media,
    remove_from_index,
    write_sheet,
)
from toolkit.index._engine import plan_index
from toolkit.index.groups import EmbeddingGatherer, duplicate_groups
from toolkit.index.sheet import NOTE_PARAMS
from toolkit.serve import ArchiveBrowser
from toolkit.subset import FilterCriteria

TOOLKIT = Path(__file__).resolve().parents[1] / "toolkit"


def run(runner, args, code=1):
    result = runner.invoke(cli, ["-q", *args], catch_exceptions=False)
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    return result


def error_line(result) -> str:
    lines = result.stderr.splitlines()
    assert lines and lines[-1].startswith("Error: ") and "Traceback" not in result.stderr
    return lines[-1]


@pytest.fixture(name="v30")
def _v30(tmp_path) -> Path:
    return write_vector_archive(tmp_path / "v30.zip", realistic_vectors(30, 32, seed=1))


@pytest.fixture(name="index_dir")
def _index_dir(v30, tmp_path) -> Path:
    build_index([v30], tmp_path / "ix")
    return tmp_path / "ix"


class TestSpellings:
    def test_any_value_is_the_flag_alone(self):
        assert param("index", ...) == "index=..."
        assert flag("index=...") == "--index"
        assert flag("media_dir=...") == "--media-dir"

    def test_archives_is_the_archive_flag(self):
        assert flag("archives=ARCHIVE") == "--archive ARCHIVE"

    def test_with_flags_rewrites_only_the_named_parameters(self):
        text = "index=.../a.zip: use index=... (not kind='flat')"
        assert with_flags(text, ["index=..."]) == "--index/a.zip: use --index (not kind='flat')"


#: plan_index's refusals: arguments, the library's message, the CLI's.
PLANS = [
    (
        ("auto", 30, 32, 100, 50_000),
        "the memory budget of 100 bytes is too small for 30 vectors (3840 bytes needed); "
        "raise memory_budget",
        "the memory budget of 100 bytes is too small for 30 vectors (3840 bytes needed); "
        "raise --memory-budget",
    ),
    (
        ("auto", 100, 8, 100, 50_000),
        "the memory budget of 100 bytes is too small for 100 x 8 vectors (4064 bytes needed); "
        "raise memory_budget",
        "the memory budget of 100 bytes is too small for 100 x 8 vectors (4064 bytes needed); "
        "raise --memory-budget",
    ),
    (
        ("auto", 100, 32, 100, 10),
        "the memory budget of 100 bytes is too small for 100 x 32 vectors: the smallest index "
        "needs about 3304 bytes; raise memory_budget",
        "the memory budget of 100 bytes is too small for 100 x 32 vectors: the smallest index "
        "needs about 3304 bytes; raise --memory-budget",
    ),
    (
        ("ivf", 30, 32, None, 50_000),
        "only 30 vectors: kind='ivf' needs at least 64; use kind='flat' (or auto)",
        "only 30 vectors: --kind ivf needs at least 64; use --kind flat (or auto)",
    ),
    (
        ("flat", 30, 32, 100, 50_000),
        "a flat index of 30 x 32 vectors needs about 3840 bytes, over the memory budget of 100; "
        "raise memory_budget or use kind='auto'",
        "a flat index of 30 x 32 vectors needs about 3840 bytes, over the memory budget of 100; "
        "raise --memory-budget or use --kind auto",
    ),
]


class TestLibraryNamesParameters:
    @pytest.mark.parametrize(("args", "library", "command_line"), PLANS)
    def test_plan_refusals(self, args, library, command_line):
        kind, n, d, budget, flat_max = args
        with pytest.raises((LimitError, SchemaError)) as info:
            plan_index(kind, n, d, memory_budget=budget, flat_max=flat_max)
        assert str(info.value) == library and "--" not in str(info.value)
        assert in_flags(info.value) == command_line

    def test_existing_index_needs_force(self, v30, index_dir):
        with pytest.raises(OutputError) as info:
            build_index([v30], index_dir)
        assert str(info.value) == (
            f"{index_dir}: an index is already there; pass force=True to replace it, or use "
            "'clarifai-archive index add' to add inputs to it"
        )
        assert in_flags(info.value).startswith(
            f"{index_dir}: an index is already there; pass --force"
        )

    def test_nothing_to_index_names_embedding(self, make_archive, tmp_path):
        archive = make_archive([make_input("t1", text="hi")])
        with pytest.raises(SchemaError) as info:
            build_index([archive], tmp_path / "ix", embedding=1)
        assert str(info.value).endswith(
            "nothing to index (1 of 1 inputs have no embedding number 1); export the dataset "
            "version with embeddings included, or choose another one with embedding=..."
        )
        assert in_flags(info.value).endswith("choose another one with --embedding")

    def test_nothing_to_index_from_arrays_names_nothing(self, tmp_path):
        with pytest.raises(SchemaError) as info:
            build_index_from_arrays(np.zeros((0, 4), "float32"), [], tmp_path / "ix")
        assert str(info.value) == "nothing to index (no vectors)" and info.value.params == ()

    def test_bad_vectors_name_skip_bad(self, make_archive, tmp_path):
        archive = make_archive([vector_input("g", [1.0, 2.0]), vector_input("b", [0.0, 0.0])])
        with pytest.raises(SchemaError) as info:
            build_index([archive], tmp_path / "ix")
        assert str(info.value).endswith("; fix the export or pass skip_bad=True to leave them out")
        assert in_flags(info.value).endswith("pass --skip-bad to leave them out")

    def test_majority_names_skip_bad_and_embedding(self, make_archive, tmp_path):
        records = [vector_input("a", [1.0, 2.0, 3.0])]
        records += [vector_input(f"m{i}", [1.0, float(i)]) for i in range(3)]
        archive = make_archive(records)
        with pytest.raises(SchemaError) as info:
            build_index([archive], tmp_path / "ix", skip_bad=True)
        assert str(info.value) == (
            f"{archive}: most embeddings have 2 values but the first has 3, so skip_bad=True "
            "would drop the majority; pick another embedding with embedding=... or fix the export"
        )
        assert in_flags(info.value) == (
            f"{archive}: most embeddings have 2 values but the first has 3, so --skip-bad "
            "would drop the majority; pick another embedding with --embedding or fix the export"
        )

    def test_conflicts(self, index_dir, tmp_path):
        update = write_vector_archive(
            tmp_path / "u.zip", realistic_vectors(1, 32, seed=5), ids=["v00001"]
        )
        with pytest.raises(ConflictError) as info:
            add_to_index(index_dir, [update])
        assert str(info.value).endswith("; pass replace=True to overwrite the indexed vectors")
        assert in_flags(info.value).endswith("; pass --replace to overwrite the indexed vectors")
        other = write_vector_archive(
            tmp_path / "o.zip", realistic_vectors(1, 32, seed=6), ids=["v00001"]
        )
        with pytest.raises(ConflictError) as info:
            build_index([update, other], tmp_path / "two")
        assert str(info.value).endswith("give each input once, or merge the archives first")
        assert info.value.params == ()

    def test_remove_names_missing_ok(self, index_dir):
        with pytest.raises(InputNotFoundError) as info:
            remove_from_index(index_dir, ["nope"])
        assert str(info.value) == (
            f"{index_dir}: 1 id(s) not in the index: 'nope'; pass missing_ok=True to ignore them"
        )
        assert in_flags(info.value).endswith("pass --missing-ok to ignore them")

    def test_duplicates_without_embeddings_name_index(self):
        gatherer = EmbeddingGatherer()
        gatherer.add(make_input("t", text="hi"))
        with pytest.raises(SchemaError) as info:
            duplicate_groups(gatherer)
        assert str(info.value).endswith("or give an index (index=...)")
        assert in_flags(info.value).endswith("or give an index (--index)")

    def test_filters_name_archives(self, v30, tmp_path):
        copy = tmp_path / "gone.zip"
        shutil.copy(v30, copy)
        build_index([copy], tmp_path / "g")
        copy.unlink()
        criteria = FilterCriteria(concepts=("x",))
        with pytest.raises(ArchiveError) as info:
            SimilarityIndex.load(tmp_path / "g").select(criteria)
        assert str(info.value) == (
            f"{tmp_path / 'g'}: the archive {copy} it was built from is gone, so filters cannot "
            "be evaluated; give the archive (archives=ARCHIVE)"
        )
        assert in_flags(info.value).endswith("give the archive (--archive ARCHIVE)")
        vectors = realistic_vectors(3, 4, seed=1)
        index = build_index_from_arrays(vectors, ["a", "b", "c"], tmp_path / "arr")
        with pytest.raises(ArchiveError) as info:
            index.search(vectors[0], k=1, where=criteria)
        assert str(info.value) == (
            f"{tmp_path / 'arr'}: the index records no source archive (built from arrays), so "
            "filters cannot be evaluated; give the archive (archives=ARCHIVE)"
        )

    def test_sheet_names_force_and_media_dir(self, index_dir, tmp_path):
        index = SimilarityIndex.load(index_dir)
        rows = [SheetRow("v00001", True, index.search_like(["v00001"], k=2)[0])]
        media, notes = gather_media(rows, index=index)
        assert notes[-1].endswith("; download the media and pass media_dir=... to see them")
        assert with_flags(notes[-1], NOTE_PARAMS).endswith("pass --media-dir to see them")
        out = tmp_path / "s.png"
        out.write_bytes(b"old")
        with pytest.raises(OutputError) as info:
            write_sheet(out, rows, media, tile=32)
        assert str(info.value) == f"{out}: exists; pass force=True to overwrite it"
        assert in_flags(info.value) == f"{out}: exists; pass --force to overwrite it"
        assert out.read_bytes() == b"old"


class TestServeNamesParameters:
    """The web app shows the library's words: its users did not type the CLI's flags."""

    def test_no_index(self, v30):
        with ArchiveBrowser(v30) as browser, pytest.raises(ToolkitError) as info:
            browser.similar("v00001")
        assert str(info.value) == (
            f"{v30}: no similarity index; give one with index=DIR (made by "
            "'clarifai-archive index build')"
        )

    def test_index_on_start_skipped(self, v30, tmp_path):
        browser = ArchiveBrowser(v30, auto_index=tmp_path / "i", auto_index_max=1)
        with browser, pytest.raises(ToolkitError) as info:
            browser.similar("v00001")
        assert str(info.value) == (
            f"{v30}: no similarity index (skipped: over 1 inputs; build one with "
            "'clarifai-archive index build' and pass index=...)"
        )


class TestCommandLineSaysFlags:
    """The Error lines, word for word."""

    def test_index_build(self, runner, v30, index_dir, make_archive, tmp_path):
        line = error_line(run(runner, ["index", "build", str(v30), "-o", str(index_dir)]))
        assert line == (
            f"Error: {index_dir}: an index is already there; pass --force to replace it, or "
            "use 'clarifai-archive index add' to add inputs to it"
        )
        out = str(tmp_path / "new")
        line = error_line(run(runner, ["index", "build", str(v30), "-o", out, "--kind", "ivf"]))
        assert line == "Error: " + PLANS[3][2]
        args = ["index", "build", str(v30), "-o", out, "--kind", "flat", "--memory-budget", "100"]
        assert error_line(run(runner, args)) == "Error: " + PLANS[4][2]
        text = make_archive([make_input("t1", text="hi")], "text.zip")
        line = error_line(run(runner, ["index", "build", str(text), "-o", out]))
        assert line == (
            f"Error: {text}: nothing to index (1 of 1 inputs have no embedding number 0); "
            "export the dataset version with embeddings included, or choose another one with "
            "--embedding"
        )
        records = [vector_input("a", [1.0, 2.0, 3.0])]
        records += [vector_input(f"m{i}", [1.0, float(i)]) for i in range(3)]
        most = make_archive(records, "most.zip")
        line = error_line(run(runner, ["index", "build", str(most), "-o", out, "--skip-bad"]))
        assert line == (
            f"Error: {most}: most embeddings have 2 values but the first has 3, so --skip-bad "
            "would drop the majority; pick another embedding with --embedding or fix the export"
        )
        bad = make_archive([vector_input("g", [1.0, 2.0]), vector_input("b", [0.0, 0.0])])
        line = error_line(run(runner, ["index", "build", str(bad), "-o", out]))
        assert line == (
            f"Error: 1 input(s) have unusable embeddings: {bad}: input 'b' embedding is all "
            "zeros; fix the export or pass --skip-bad to leave them out"
        )
        assert not Path(out).exists()

    def test_index_add_and_remove(self, runner, index_dir, tmp_path):
        update = write_vector_archive(
            tmp_path / "u.zip", realistic_vectors(1, 32, seed=5), ids=["v00001"]
        )
        line = error_line(run(runner, ["index", "add", str(index_dir), str(update)]))
        assert line == (
            f"Error: 1 input id(s) have conflicting embeddings: 'v00001' ({update} differs "
            "from the index); pass --replace to overwrite the indexed vectors"
        )
        line = error_line(run(runner, ["index", "remove", str(index_dir), "--id", "nope"]))
        assert line == (
            f"Error: {index_dir}: 1 id(s) not in the index: 'nope'; pass --missing-ok to "
            "ignore them"
        )

    def test_near_duplicates_without_embeddings(self, runner, tmp_path):
        text = tmp_path / "text.zip"
        write_archive(text, [make_input("t1", text="hi"), make_input("t2", text="yo")])
        expected = (
            "Error: no input carries an embedding, so near-duplicates cannot be found; export "
            "the dataset version with embeddings, or give an index (--index)"
        )
        result = run(runner, ["dedupe", str(text), "-o", str(tmp_path / "d.zip")])
        assert error_line(result) == expected
        args = ["split", str(text), "--ratios", "a=0.5,b=0.5", "--group-by", "near-duplicates"]
        result = run(runner, [*args, "-o", str(tmp_path / "sp")])
        assert error_line(result) == expected

    def test_search_filters_and_notes(self, runner, v30, tmp_path):
        copy = tmp_path / "gone.zip"
        shutil.copy(v30, copy)
        build_index([copy], tmp_path / "g")
        copy.unlink()
        folder = str(tmp_path / "g")
        result = run(runner, ["search", folder, "--like", "v00001", "--concept", "x"])
        assert error_line(result) == (
            f"Error: {folder}: the archive {copy} it was built from is gone, so filters cannot "
            "be evaluated; give the archive (--archive ARCHIVE)"
        )
        args = ["search", folder, "--like", "v00001", "--html", str(tmp_path / "g.html")]
        result = runner.invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        assert f"note: {copy}: the archive recorded in the index is gone; use --media-dir\n" in (
            result.stderr
        )


def _flags_in_raises(path: Path) -> list[str]:
    """The ``--flag`` words in the messages of the ``raise`` statements of one module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Raise) and node.exc is not None:
            for part in ast.walk(node.exc):
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    found += re.findall(r"--[a-z][a-z-]*", part.value)
    return found


def test_index_and_serve_errors_name_no_flags():
    """Only commands quoted whole name a flag ('index build --shards' says which command
    builds such an index; the library has no word for it)."""
    modules = sorted([*(TOOLKIT / "index").glob("*.py"), *(TOOLKIT / "serve").glob("*.py")])
    flags = {m.name: _flags_in_raises(m) for m in modules}
    assert {name: found for name, found in flags.items() if found} == {
        "core.py": ["--shards"],
        "shards.py": ["--to", "--shards"],
    }
