"""Issue 18, what an independent probe broke: each case built here from its description.

- NaN and infinite metadata numbers in every JSON-writing path (``--bad-numbers``);
- tampered ``index.json`` fields, bad search settings and options (one ``Error:`` line);
- orjson's "Not enough memory", paths with a newline in an error;
- long escaped strings written a piece at a time;
- temporary siblings of killed runs, folders a failed run created.

(Non-minimal varints: tests/test_speedups.py; the COCO assembly: tests/test_convert_coco.py.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from click.testing import CliRunner, Result
from index_helpers import realistic_vectors, write_vector_archive

from toolkit import jsonmap
from toolkit._atomic import atomic_dir, atomic_file, sweep_stale, temp_sibling
from toolkit.archive import write_archive
from toolkit.cli import cli
from toolkit.convert import convert_archives
from toolkit.errors import SchemaError, one_line, quote_path
from toolkit.jsonmap import bad_numbers_as_null, input_to_json_bytes, iter_input_json
from toolkit.messages import Input

ROOT = Path(__file__).resolve().parent.parent


def _error_line(result: Result, code: int = 1) -> str:
    """The one ``Error:`` line of a failed run (no traceback)."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def _bad_number_archive(tmp_path: Path, value: float, name: str = "nan.zip") -> Path:
    good = Input(id="good")
    good.data.image.url = "https://example.com/good.jpg"
    good.data.image.image_info.width, good.data.image.image_info.height = 4, 3
    good.data.metadata.update({"n": 1.5})
    bad = Input(id="bad-one")
    bad.data.CopyFrom(good.data)
    bad.data.metadata.update({"n": value, "deep": {"l": [1.0, value, "x"]}})
    path = tmp_path / name
    write_archive(path, [good, bad])
    return path


_OUTPUTS = {"json": "out.zip", "jsonl": "out.jsonl", "coco": "coco", "sdk": "sdk.zip"}


class TestBadNumbers:
    @pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
    @pytest.mark.parametrize("to", ["json", "jsonl", "coco", "sdk"])
    def test_refused_by_default_with_the_input_and_the_option(
        self, tmp_path: Path, value: float, to: str
    ) -> None:
        source = _bad_number_archive(tmp_path, value)
        out = tmp_path / _OUTPUTS[to]
        result = CliRunner().invoke(cli, ["convert", str(source), "--to", to, "-o", str(out)])
        line = _error_line(result)
        assert "'bad-one'" in line and "--bad-numbers null" in line, line
        assert not out.exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["nan.zip"]

    @pytest.mark.parametrize("to", ["json", "jsonl", "coco", "sdk"])
    def test_null_writes_null_and_the_report_lists_the_inputs(
        self, tmp_path: Path, to: str
    ) -> None:
        source = _bad_number_archive(tmp_path, float("inf"))
        out = tmp_path / _OUTPUTS[to]
        report_file = tmp_path / "report.json"
        args = ["convert", str(source), "--to", to, "-o", str(out), "--bad-numbers", "null"]
        result = CliRunner().invoke(cli, [*args, "--report", str(report_file)])
        assert result.exit_code == 0, result.output
        assert "2 NaN or infinite metadata number(s) written as null, in 1 input(s)" in (
            result.stderr
        )
        report = json.loads(report_file.read_text())
        assert report["bad_numbers"] == "null"
        assert report["nulled_numbers"] == 2
        assert report["nulled_number_inputs"] == 1
        assert report["nulled_number_ids"] == ["bad-one"]
        metadata = _written_metadata(out, to)
        assert metadata == [{"n": 1.5}, {"deep": {"l": [1.0, None, "x"]}, "n": None}]

    def test_null_in_worker_processes_is_counted_too(self, tmp_path: Path) -> None:
        if sys.platform != "linux":
            pytest.skip("workers are forked on Linux only")
        records = []
        for i in range(40):
            record = Input(id=f"r{i}")
            record.data.metadata.update({"v": float("nan") if i % 4 == 0 else float(i)})
            records.append(record)
        source = tmp_path / "many.zip"
        write_archive(source, records, batch_size=3)
        report = convert_archives(
            [source], tmp_path / "o.jsonl", to="jsonl", workers=2, bad_numbers="null"
        )
        assert report.nulled_number_ids == tuple(f"r{i}" for i in range(0, 40, 4))
        assert report.nulled_numbers == report.nulled_number_inputs == 10

    def test_inputs_get_and_list(self, tmp_path: Path) -> None:
        source = _bad_number_archive(tmp_path, float("nan"))
        runner = CliRunner()
        line = _error_line(runner.invoke(cli, ["inputs", "get", str(source), "bad-one"]))
        assert "--bad-numbers null" in line
        line = _error_line(runner.invoke(cli, ["inputs", "list", str(source), "--json"]))
        assert "'bad-one'" in line
        got = runner.invoke(cli, ["inputs", "get", str(source), "bad-one", "--bad-numbers", "null"])
        assert json.loads(got.stdout)["data"]["metadata"]["n"] is None
        listed = runner.invoke(
            cli, ["inputs", "list", str(source), "--json", "--bad-numbers", "null"]
        )
        assert [json.loads(x)["data"]["metadata"]["n"] for x in listed.stdout.split()] == [
            1.5,
            None,
        ]

    def test_the_json_flavour_reads_back_through_protobuf(self, tmp_path: Path) -> None:
        # Clarifai-Data-JSON is read with protobuf's json_format: null is a NullValue.
        from toolkit.archive import ArchiveReader

        source = _bad_number_archive(tmp_path, float("nan"))
        out = tmp_path / "out.zip"
        convert_archives([source], out, to="json", bad_numbers="null")
        with ArchiveReader(out) as reader:
            records = list(reader.iter_inputs())
        assert records[1].data.metadata["n"] is None
        assert records[1].data.metadata["deep"]["l"][1] is None

    def test_library(self) -> None:
        record = Input(id="x")
        record.data.metadata.update({"n": float("nan")})
        with pytest.raises(SchemaError, match="bad_numbers='null'"):
            input_to_json_bytes(record)
        assert orjson.loads(input_to_json_bytes(record, bad_numbers="null")) == {
            "id": "x",
            "data": {"metadata": {"n": None}},
        }
        with bad_numbers_as_null() as nulled:
            input_to_json_bytes(record)
            input_to_json_bytes(Input(id="fine"))
        assert nulled is not None and (nulled.numbers, nulled.inputs) == (1, ["x"])
        with pytest.raises(ValueError, match="bad_numbers"):
            convert_archives(["x.zip"], "o.jsonl", to="jsonl", bad_numbers="zero")  # type: ignore[arg-type]


def _written_metadata(out: Path, to: str) -> list[Any]:
    if to == "jsonl":
        return [json.loads(x)["data"]["metadata"] for x in out.read_text().split("\n") if x]
    if to == "coco":
        coco = json.loads((out / "annotations.json").read_text())
        return [image["clarifai_metadata"] for image in coco["images"]]
    with zipfile.ZipFile(out) as zf:
        if to == "sdk":
            names = sorted(n for n in zf.namelist() if "/annotations/" in n)
            return [json.loads(zf.read(n))[0]["metadata"] for n in names][::-1]
        names = [n for n in zf.namelist() if n != "mimetype"]
        inputs = [i for n in names for i in json.loads(zf.read(n))["inputs"]]
        return [i["data"]["metadata"] for i in inputs]


# -- index.json tampered, search settings, options ---------------------------------------


@pytest.fixture(name="index_dir", scope="module")
def _index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile-index")
    source = write_vector_archive(folder / "v.zip", realistic_vectors(400, 16, seed=3))
    result = CliRunner().invoke(
        cli, ["-q", "index", "build", str(source), "-o", str(folder / "ix"), "--kind", "ivf"]
    )
    assert result.exit_code == 0, result.output
    return folder / "ix"


def _tampered(index_dir: Path, tmp_path: Path, change: Any) -> Path:
    copy = tmp_path / "ix"
    shutil.copytree(index_dir, copy)
    sidecar = json.loads((copy / "index.json").read_text())
    change(sidecar)
    (copy / "index.json").write_text(json.dumps(sidecar))
    return copy


def _set(path: tuple[str | int, ...], value: Any) -> Any:
    def change(sidecar: dict[str, Any]) -> None:
        target: Any = sidecar
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _drop(path: tuple[str | int, ...]) -> Any:
    def change(sidecar: dict[str, Any]) -> None:
        target: Any = sidecar
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


_TAMPERED = {
    "files is a list": (_set(("files",), []), "files should be a JSON object"),
    "files is an int": (_set(("files",), 7), "files should be a JSON object"),
    "a file record is a list": (_set(("files", "ids.json"), [1]), "files['ids.json']"),
    "a sha256 is an int": (_set(("files", "index.faiss", "sha256"), 5), "sha256"),
    "sources is an object": (_set(("sources",), {}), "sources should be a JSON list"),
    "sources is an int": (_set(("sources",), 3), "sources should be a JSON list"),
    "a source without sha256": (_drop(("sources", 0, "sha256")), "sources[0].sha256 is missing"),
    "history is a string": (_set(("history",), "x"), "history should be a JSON list"),
    "counts is a list": (_set(("counts",), [1]), "counts should be a JSON object"),
    "tuning is a list": (_set(("tuning",), []), "tuning should be a JSON object"),
    "nprobe 0": (_set(("search_params", "nprobe"), 0), "nprobe is 0; it should be at least 1"),
    "nprobe -5": (_set(("search_params", "nprobe"), -5), "nprobe is -5"),
    "nprobe a string": (_set(("search_params", "nprobe"), "8"), "nprobe should be an integer"),
    "count true": (_set(("count",), True), "count should be an integer"),
}


@pytest.mark.parametrize("case", sorted(_TAMPERED))
@pytest.mark.parametrize(
    "command",
    [
        ["index", "info", "{ix}"],
        ["index", "add", "{ix}", "{other}"],
        ["index", "remove", "{ix}", "--id", "v00001"],
        ["index", "eval", "{ix}", "--queries", "4"],
        ["search", "{ix}", "--like", "v00001", "-k", "3"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_a_tampered_sidecar_is_one_error_line(
    index_dir: Path, tmp_path: Path, case: str, command: list[str]
) -> None:
    change, expected = _TAMPERED[case]
    ix = _tampered(index_dir, tmp_path, change)
    other = write_vector_archive(tmp_path / "o.zip", realistic_vectors(4, 16, seed=9), prefix="o")
    argv = [a.format(ix=ix, other=other) for a in command]
    line = _error_line(CliRunner().invoke(cli, argv))
    assert expected in line and "rebuild the index" in line, line


def test_an_untouched_sidecar_follows_the_schema(index_dir: Path) -> None:
    from toolkit.index._store import check_sidecar

    assert check_sidecar(json.loads((index_dir / "index.json").read_text())) is None


class TestSearchOptions:
    @pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN"])
    def test_min_score_must_be_finite(self, index_dir: Path, value: str) -> None:
        args = ["search", str(index_dir), "--like", "v00001", "--min-score", value]
        line = _error_line(CliRunner().invoke(cli, args), code=2)
        assert "--min-score" in line and "not a finite number" in line

    def test_threshold_must_be_finite(self, index_dir: Path) -> None:
        args = ["duplicates", str(index_dir), "--threshold", "nan"]
        assert "--threshold" in _error_line(CliRunner().invoke(cli, args), code=2)

    def test_the_library_refuses_a_nan_min_score(self, index_dir: Path) -> None:
        from toolkit.index import SimilarityIndex

        index = SimilarityIndex.load(index_dir)
        with pytest.raises(ValueError, match="finite"):
            index.search_like(["v00001"], 3, min_score=float("nan"))

    @pytest.mark.parametrize("option", ["--nprobe", "--rerank", "--ef-search"])
    def test_a_huge_setting_is_a_usage_error(self, index_dir: Path, option: str) -> None:
        args = ["search", str(index_dir), "--like", "v00001", option, str(10**20)]
        line = _error_line(CliRunner().invoke(cli, args), code=2)
        assert option in line and "out of memory" not in line

    def test_a_huge_nprobe_in_the_sidecar_searches_all_lists(
        self, index_dir: Path, tmp_path: Path
    ) -> None:
        runner = CliRunner()
        like = ["--like", "v00001", "-k", "5", "--json"]
        exact = runner.invoke(cli, ["search", str(index_dir), *like, "--nprobe", "100000"])
        ix = _tampered(index_dir, tmp_path, _set(("search_params", "nprobe"), 2**40))
        huge = runner.invoke(cli, ["search", str(ix), *like])
        assert huge.exit_code == 0, huge.output
        assert huge.stdout == exact.stdout

    def test_out_of_memory_while_searching_gives_search_advice(
        self, index_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from toolkit.index import core

        def no_memory(*args: Any, **kwargs: Any) -> Any:
            raise MemoryError

        monkeypatch.setattr(core.SimilarityIndex, "search_like", no_memory)
        line = _error_line(CliRunner().invoke(cli, ["search", str(index_dir), "--like", "v1"]))
        assert "--nprobe" in line and "--max-batch-bytes" not in line


def test_orjson_not_enough_memory_is_the_out_of_memory_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _bad_number_archive(tmp_path, 1.0)

    def no_memory(*args: Any, **kwargs: Any) -> bytes:
        raise orjson.JSONEncodeError("Not enough memory")

    monkeypatch.setattr(jsonmap.orjson, "dumps", no_memory)
    for argv in (
        ["inputs", "get", str(source), "good"],
        ["convert", str(source), "--to", "jsonl", "-o", str(tmp_path / "o.jsonl")],
    ):
        line = _error_line(CliRunner().invoke(cli, argv))
        assert line.startswith("Error: out of memory;"), line
    assert not (tmp_path / "o.jsonl").exists()


def test_a_path_with_a_newline_stays_on_one_error_line(tmp_path: Path) -> None:
    weird = tmp_path / "a\nb"
    weird.mkdir()
    source = _bad_number_archive(weird, float("nan"))
    result = CliRunner().invoke(
        cli, ["convert", str(source), "--to", "coco", "-o", str(weird / "c")]
    )
    line = _error_line(result)
    assert "a\\nb" in line
    assert result.stderr.count("\n") == 1
    assert quote_path("a\nb") == "'a\\nb'" and quote_path("plain/path") == "plain/path"
    assert one_line("x\r\ny\x85") == "x\\r\\ny\\x85"


# -- long escaped strings ---------------------------------------------------------------


def test_a_long_escaped_string_is_written_a_piece_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(jsonmap, "LONG_STRING", 1000)
    record = Input(id="long")
    record.data.metadata.update({"s": "\x01" * 25_000, "q": '"\\' * 700, "short": "\x01"})
    record.data.concepts.add(id="c", value=1.0)
    pieces = list(iter_input_json(record))
    assert b"".join(pieces) == input_to_json_bytes(record)
    # \x01 is six bytes escaped: no piece holds much more than LONG_STRING of it.
    assert max(len(p) for p in pieces) <= 6 * 1000 + 200
    indented = b"".join(iter_input_json(record, indent=True))
    assert orjson.loads(indented) == orjson.loads(input_to_json_bytes(record))


def test_convert_jsonl_writes_a_long_string_in_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from toolkit.convert import _parallel, jsonl

    monkeypatch.setattr(jsonmap, "LONG_STRING", 1000)
    monkeypatch.setattr(_parallel, "LONG_STRING", 1000)
    records = [Input(id=f"r{i}") for i in range(5)]
    records[2].data.metadata.update({"s": "\x01" * 30_000})
    source = tmp_path / "long.zip"
    write_archive(source, records, batch_size=2)
    writes: list[int] = []
    real_open = open

    class Counting:
        def __init__(self, stream: Any) -> None:
            self.stream = stream

        def write(self, data: bytes) -> int:
            writes.append(len(data))
            return int(self.stream.write(data))

        def __getattr__(self, name: str) -> Any:
            return getattr(self.stream, name)

    def counting_open(path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        stream = real_open(path, mode, *args, **kwargs)
        return Counting(stream) if "w" in mode and ".tmp-" in str(path) else stream

    monkeypatch.setattr(jsonl, "open", counting_open, raising=False)
    out = tmp_path / "o.jsonl"
    convert_archives([source], out, to="jsonl", workers=1)
    lines = out.read_bytes().split(b"\n")
    assert lines[:-1] == [input_to_json_bytes(r) for r in records]
    assert writes and max(writes) <= 6 * 1000 + 200, max(writes)


# -- temporary siblings and folders of failed runs ------------------------------------------


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


class TestLitter:
    def test_siblings_of_a_killed_run_are_swept_by_the_next(self, tmp_path: Path) -> None:
        dead = _dead_pid()
        out = tmp_path / "out.jsonl"
        stale_file = tmp_path / f".out.jsonl.tmp-{dead}-0123abcd"
        stale_file.write_bytes(b"x" * 100)
        stale_dir = tmp_path / f".out.jsonl.tmp-{dead}-89abcdef.media"
        stale_dir.mkdir()
        (stale_dir / "a.png").write_bytes(b"x")
        live = tmp_path / f".out.jsonl.tmp-{os.getppid()}-0123abcd"  # a running process
        live.write_bytes(b"y")
        other = tmp_path / f".other.jsonl.tmp-{dead}-0123abcd"  # another output's
        other.write_bytes(b"z")
        odd = tmp_path / f".out.jsonl.tmp-{dead}-notahexx"  # not the pattern
        odd.write_bytes(b"w")
        source = _bad_number_archive(tmp_path, 1.0)
        result = CliRunner().invoke(cli, ["convert", str(source), "--to", "jsonl", "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert not stale_file.exists() and not stale_dir.exists()
        assert live.exists() and other.exists() and odd.exists()

    def test_a_folder_output_sweeps_too(self, tmp_path: Path) -> None:
        dead = _dead_pid()
        stale = tmp_path / f".coco.tmp-{dead}-00000000"
        (stale / ".spool").mkdir(parents=True)
        (stale / ".spool" / "images").write_bytes(b"x" * 1000)
        source = _bad_number_archive(tmp_path, 1.0)
        convert_archives([source], tmp_path / "coco", to="coco")
        assert not stale.exists()

    def test_our_own_pid_from_an_earlier_process_goes(self, tmp_path: Path) -> None:
        # A killed run's PID is often reused (containers): a name with this process's
        # PID that this process never handed out is a leftover.
        dest = tmp_path / "x.zip"
        mine = temp_sibling(dest)
        mine.write_bytes(b"in use")
        earlier = tmp_path / f".x.zip.tmp-{os.getpid()}-ffffffff"
        earlier.write_bytes(b"old")
        assert sweep_stale(dest) == [earlier]
        assert mine.exists()

    def test_a_failed_run_removes_the_folders_it_created(self, tmp_path: Path) -> None:
        source = _bad_number_archive(tmp_path, float("nan"))
        out = tmp_path / "a" / "b" / "coco"
        result = CliRunner().invoke(cli, ["convert", str(source), "--to", "coco", "-o", str(out)])
        _error_line(result)
        assert not (tmp_path / "a").exists()
        (tmp_path / "a").mkdir()  # a folder that was there before stays
        result = CliRunner().invoke(cli, ["convert", str(source), "--to", "coco", "-o", str(out)])
        _error_line(result)
        assert (tmp_path / "a").is_dir() and not (tmp_path / "a" / "b").exists()

    def test_a_successful_run_keeps_them(self, tmp_path: Path) -> None:
        with atomic_dir(tmp_path / "p" / "q" / "out") as tmp:
            (tmp / "f").write_text("x")
        assert (tmp_path / "p" / "q" / "out" / "f").read_text() == "x"
        with pytest.raises(KeyError), atomic_dir(tmp_path / "r" / "s" / "out"):
            raise KeyError("boom")
        assert not (tmp_path / "r").exists()

    def test_split_into_missing_folders_cleans_up_on_failure(self, tmp_path: Path) -> None:
        source = tmp_path / "s.zip"
        write_archive(source, [Input(id=f"i{n}") for n in range(6)])
        out = tmp_path / "x" / "y" / "parts"
        # A file where a split archive goes makes the run fail after it made the folders.
        args = ["split", str(source), "--ratios", "train=0.5,val=0.5", "-o", str(out)]
        with pytest.MonkeyPatch.context() as patch:
            from toolkit import split as split_module

            def broken(*args: Any, **kwargs: Any) -> Any:
                raise OSError(28, "No space left on device")

            patch.setattr(split_module, "ArchiveWriter", broken)
            result = CliRunner().invoke(cli, args)
        _error_line(result)
        assert not (tmp_path / "x").exists()

    def test_atomic_file_sweeps_before_writing(self, tmp_path: Path) -> None:
        dead = _dead_pid()
        stale = tmp_path / f".r.json.tmp-{dead}-abcdef01"
        stale.write_text("{}")
        with atomic_file(tmp_path / "r.json") as tmp:
            tmp.write_text("[]")
        assert not stale.exists() and (tmp_path / "r.json").read_text() == "[]"


def test_array_sources_show_in_index_info(tmp_path: Path) -> None:
    from toolkit.index.core import build_index_from_arrays

    vectors = np.eye(8, dtype=np.float32)[:6]
    build_index_from_arrays(vectors, [f"a{i}" for i in range(6)], tmp_path / "ix")
    result = CliRunner().invoke(cli, ["index", "info", str(tmp_path / "ix")])
    assert result.exit_code == 0, result.output
    assert "source:     arrays (6 vectors)" in result.stdout


@pytest.mark.parametrize("to", ["json", "sdk"])
def test_json_and_sdk_write_a_long_string_in_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, to: str
) -> None:
    from toolkit.archive import ArchiveReader
    from toolkit.convert import _parallel, sdk

    for module in (jsonmap, _parallel, sdk):
        monkeypatch.setattr(module, "LONG_STRING", 1000)
    records = [Input(id=f"r{i}") for i in range(5)]
    for record in records:
        record.data.concepts.add(id="c", value=1.0)
    records[2].data.metadata.update({"s": "\x01\u00e9\U0001f600" * 10_000, "t": "short"})
    source = tmp_path / "long.zip"
    write_archive(source, records, batch_size=5)
    writes: list[int] = []
    real_open = zipfile.ZipFile.open

    def counting_open(
        self: zipfile.ZipFile, name: Any, mode: str = "r", *args: Any, **kwargs: Any
    ) -> Any:
        stream = real_open(self, name, mode, *args, **kwargs)
        if mode == "w":
            real_write = stream.write

            def write(data: bytes) -> int:
                writes.append(len(data))
                return int(real_write(data))

            stream.write = write  # type: ignore[method-assign]
        return stream

    monkeypatch.setattr(zipfile.ZipFile, "open", counting_open)
    out = tmp_path / "out.zip"
    convert_archives([source], out, to=to, workers=1)
    assert writes and max(writes) <= 6 * 3 * 1000 + 200, max(writes)
    monkeypatch.undo()
    if to == "json":
        with ArchiveReader(out) as reader:
            assert list(reader.iter_inputs()) == records
    else:
        with zipfile.ZipFile(out) as zf:
            body = zf.read("all/annotations/r2.json")
        assert body == json.dumps(sdk.annotation_items(records[2])).encode()


def test_protobuf_out_of_memory_is_not_called_damage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under an address-space limit upb fails with "Arena allocation failure": the archive
    # is sound, the machine is short of memory.
    from google.protobuf.message import DecodeError

    from toolkit import archive

    class Failing:
        @staticmethod
        def FromString(data: bytes) -> Any:  # noqa: N802 - protobuf's name
            raise DecodeError(
                "Error parsing message with type 'clarifai.api.Input': Arena allocation failure"
            )

    source = _bad_number_archive(tmp_path, 1.0)
    monkeypatch.setattr(archive, "InputBatch", Failing)
    line = _error_line(CliRunner().invoke(cli, ["inputs", "list", str(source)]))
    assert line.startswith("Error: out of memory;") and "damaged" not in line


def test_non_finite_stored_vectors_are_an_error_not_a_warning(tmp_path: Path) -> None:
    """Found by the long fuzz: a damaged vectors.npy made `sort` score NaN (a numpy
    RuntimeWarning and a meaningless order); exact scores now refuse it."""
    import numpy as np

    from toolkit.errors import IndexMismatchError
    from toolkit.index import build_index_from_arrays

    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((20, 8)).astype(np.float32)
    index = build_index_from_arrays(
        vectors, [f"v{i}" for i in range(20)], tmp_path / "ix", kind="flat"
    )
    assert np.isfinite(index.exact_scores(vectors[0])).all()
    damaged = np.array(index.vectors)
    damaged[3, 2] = np.nan
    index.vectors = damaged
    with pytest.raises(IndexMismatchError, match="vectors.npy"):
        index.exact_scores(vectors[0])
