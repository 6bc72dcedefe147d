"""convert --to parquet, read back by pyarrow, pandas, DuckDB (and HF datasets when installed)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from convert_helpers import varied_inputs
from google.protobuf import json_format
from helpers import make_input

from toolkit.archive import ArchiveReader
from toolkit.cli import cli
from toolkit.convert import convert_archives
from toolkit.errors import SchemaError
from toolkit.messages import Input, RegionInfo
from toolkit.tabular import COLUMNS, RowOptions, columns_markdown, record_batch_reader
from toolkit.tabular.rows import RowsBuilder
from toolkit.tabular.stream import find_embedding_dim, iter_record_batches

ROOT = Path(__file__).resolve().parent.parent
NAMES = [c.name for c in COLUMNS if not c.optional]


def _convert(runner, archive: Path, out: Path, *args: str):
    return runner.invoke(
        cli, ["-q", "convert", str(archive), "--to", "parquet", "-o", str(out), *args]
    )


def _records(path: Path) -> list[Input]:
    with ArchiveReader(path) as reader:
        return list(reader.iter_inputs())


def _expected_vector(record: Input, which: int = 0) -> np.ndarray | None:
    if which >= len(record.data.embeddings):
        return None
    return np.asarray(record.data.embeddings[which].vector, dtype=np.float32)


class TestSchema:
    def test_readme_table_is_made_from_the_schema(self) -> None:
        readme = (ROOT / "docs" / "readme" / "datascience.md").read_text()
        assert columns_markdown() in readme

    def test_column_names_are_the_contract(self) -> None:
        assert NAMES == [
            "id",
            "input_type",
            "url",
            "width",
            "height",
            "created_at",
            "concepts",
            "positive_concepts",
            "metadata",
            "regions",
            "embedding",
            "text",
        ]


@pytest.fixture(name="out", scope="module")
def _out(tmp_path_factory, sample_archive: Path) -> Path:
    """sample_data converted by the CLI, 10 rows per file, three metadata columns."""
    from click.testing import CliRunner

    out = tmp_path_factory.mktemp("pq") / "table"
    result = _convert(
        CliRunner(), sample_archive, out, "--rows-per-file", "10",
        "--metadata-columns", "camera.model,tags,scene",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


class TestSampleData:
    def test_files_of_rows_per_file(self, out: Path) -> None:
        names = sorted(p.name for p in out.iterdir())
        assert names == [f"part-0000{i}.parquet" for i in range(4)]
        assert [pq.ParquetFile(out / n).metadata.num_rows for n in names] == [10, 10, 10, 1]

    def test_pyarrow_reads_every_value(self, out: Path, sample_archive: Path) -> None:
        table = pads.dataset(out).to_table()
        records = _records(sample_archive)
        assert table.column_names[:9] == NAMES[:9]
        assert table.column("id").to_pylist() == [r.id for r in records]
        rows = table.to_pylist()
        for record, row in zip(records, rows, strict=True):
            data = record.data
            concepts = [
                {"id": c.id, "name": c.name, "value": np.float32(c.value).item()}
                for c in data.concepts
            ]
            assert row["concepts"] == concepts
            assert all("value" in c for c in row["concepts"])
            assert row["positive_concepts"] == [c.id for c in data.concepts if c.value > 0]
            if data.HasField("metadata"):
                doc = json_format.MessageToDict(data.metadata)
                assert json.loads(row["metadata"]) == doc
                keys = list(json.loads(row["metadata"]))
                assert keys == sorted(keys)
                assert row["metadata.camera.model"] == doc.get("camera", {}).get("model")
                tags = doc.get("tags")
                got = row["metadata.tags"]
                assert (json.loads(got) if got is not None else None) == tags
            else:
                assert row["metadata"] is None
            vector = _expected_vector(record)
            if vector is None:
                assert row["embedding"] is None
            else:
                got = np.asarray(row["embedding"], dtype=np.float32)
                assert got.tobytes() == vector.tobytes()
            if data.HasField("text"):
                assert row["input_type"] == "text" and row["text"] == data.text.raw
                assert row["width"] is None and row["height"] is None
            else:
                info = data.image.image_info
                assert row["input_type"] == "image"
                assert (row["width"], row["height"]) == (info.width or None, info.height or None)

    def test_embedding_column_is_bit_exact(self, out: Path, sample_archive: Path) -> None:
        table = pads.dataset(out).to_table()
        column = table.column("embedding").combine_chunks()
        assert pa.types.is_fixed_size_list(column.type)
        with ArchiveReader(sample_archive) as reader:
            wire = [
                np.asarray(r.data.embeddings[0].vector, dtype="<f4").tobytes()
                for r in reader.iter_inputs()
                if len(r.data.embeddings)
            ]
        flat = column.flatten().to_numpy(zero_copy_only=False)
        valid = column.is_valid().to_numpy(zero_copy_only=False)
        d = column.type.list_size
        assert [flat[i * d : (i + 1) * d].tobytes() for i in np.flatnonzero(valid)] == wire

    def test_pandas_reads_it(self, out: Path, sample_archive: Path) -> None:
        frame = pd.read_parquet(out)
        assert list(frame["id"]) == [r.id for r in _records(sample_archive)]
        assert str(frame["created_at"].dtype).startswith("datetime64")
        unknown = [not r.data.image.image_info.width for r in _records(sample_archive)]
        assert list(frame["width"].isna()) == unknown

    def test_duckdb_reads_it(self, out: Path, sample_archive: Path) -> None:
        glob = str(out / "*.parquet")
        con = duckdb.connect()
        count, dims = con.execute(
            f"SELECT count(*), max(len(embedding)) FROM read_parquet('{glob}')"
        ).fetchone()
        assert count == 31 and dims == 256
        negatives = con.execute(
            f"SELECT count(*) FROM (SELECT unnest(concepts) AS c FROM read_parquet('{glob}')) "
            "WHERE c.value = 0"
        ).fetchone()[0]
        records = _records(sample_archive)
        assert negatives == sum(1 for r in records for c in r.data.concepts if c.value == 0)
        boxes = con.execute(
            f"SELECT count(*) FROM (SELECT unnest(regions) AS r FROM read_parquet('{glob}')) "
            "WHERE r.kind = 'box' AND r.box.right_col > r.box.left_col"
        ).fetchone()[0]
        expected = sum(
            1 for r in records for g in r.data.regions if g.region_info.HasField("bounding_box")
        )
        assert boxes == expected > 0

    def test_hf_datasets_loads_it(self, out: Path, tmp_path: Path) -> None:
        datasets = pytest.importorskip("datasets")
        files = sorted(str(p) for p in out.glob("*.parquet"))
        loaded = datasets.load_dataset(
            "parquet", data_files=files, split="train", cache_dir=str(tmp_path / "hf")
        )
        assert loaded.num_rows == 31
        assert loaded[0]["id"] == "img-0001"
        assert len(loaded[0]["embedding"]) == 256


class TestRegionsAndMedia:
    def test_every_region_kind(self, runner, make_archive, tmp_path: Path) -> None:
        records = varied_inputs(5)
        extra = records[0].data.regions
        extra.add(id="mask").region_info.mask.image.base64 = b"\x89PNG"
        extra.add(id="bare")
        keypoints = extra.add(id="kp").region_info.keypoint_locations
        keypoints.add(row=0.25, col=0.5)
        keypoints.add(row=0.75, col=0.125)
        if "span" in RegionInfo.DESCRIPTOR.fields_by_name:  # newer schemas: text regions
            span_region = extra.add(id="span")
            span_region.region_info.span.SetInParent()
        out = tmp_path / "t"
        assert _convert(runner, make_archive(records), out).exit_code == 0
        regions = pq.read_table(out).column("regions").to_pylist()[0]
        by_id = {r["id"]: r for r in regions}
        assert by_id["r0"]["kind"] == "box"
        assert by_id["r0"]["box"] == {
            "left_col": pytest.approx(0.1),
            "top_row": 0.0,
            "right_col": 0.75,
            "bottom_row": 0.5,
        }
        assert by_id["p0"]["kind"] == "polygon" and by_id["p0"]["box"] is None
        assert [(p["row"], p["col"]) for p in by_id["p0"]["polygon"]] == [
            (pytest.approx(0.1), 0.0),
            (pytest.approx(0.2), pytest.approx(0.3)),
            (0.5, pytest.approx(0.4)),
        ]
        assert by_id["k0"]["kind"] == "point"
        assert by_id["k0"]["polygon"] == [{"row": pytest.approx(0.4), "col": 0.0}]
        assert by_id["kp"]["kind"] == "point" and len(by_id["kp"]["polygon"]) == 2
        assert by_id["mask"]["kind"] == "mask" and by_id["bare"]["kind"] == "other"
        assert by_id["r0"]["concepts"] == [{"id": "cat", "name": "Cat", "value": 1.0}]
        if "span" in by_id:
            assert by_id["span"]["kind"] == "span"

    def test_media_embedded_fills_image_bytes(self, runner, make_archive, tmp_path: Path) -> None:
        records = varied_inputs(5)
        out = tmp_path / "t"
        result = _convert(runner, make_archive(records), out, "--media", "embedded")
        assert result.exit_code == 0, result.output
        blobs = pq.read_table(out).column("image_bytes").to_pylist()
        assert blobs[0] == records[0].data.image.base64
        assert blobs[3] is None  # text
        assert "image_bytes" not in pq.read_table(_convert_plain(runner, make_archive, tmp_path))

    def test_video_url_and_size(self, runner, make_archive, tmp_path: Path) -> None:
        records = varied_inputs(5)
        out = tmp_path / "t"
        assert _convert(runner, make_archive(records), out).exit_code == 0
        row = pq.read_table(out).to_pylist()[4]
        assert row["input_type"] == "video" and row["url"] == "https://example.com/v4.mp4"
        assert (row["width"], row["height"]) == (64, 48)
        assert row["created_at"].timestamp() == pytest.approx(1_700_000_004.000004)


def _convert_plain(runner, make_archive, tmp_path: Path) -> Path:
    out = tmp_path / "plain"
    assert _convert(runner, make_archive(varied_inputs(2), name="p.zip"), out).exit_code == 0
    return out


class TestEmbeddingSize:
    def test_found_later_by_reading_ahead(self) -> None:
        records = [make_input(f"a{i}") for i in range(6)] + [make_input("v", vector=[1.5, -2])]
        chunks = [(f"entry {i}", records[i : i + 2], None) for i in range(0, 7, 2)]
        source = iter(chunks)

        def read_ahead() -> int | None:
            return find_embedding_dim((r for _, rs, _ in source for r in rs), 0)

        schema, batches = iter_record_batches(
            iter(chunks), RowOptions(), read_ahead=read_ahead, hold_bytes=0
        )
        assert schema.field("embedding").type == pa.list_(pa.float32(), 2)
        table = pa.Table.from_batches(list(batches), schema=schema)
        assert table.column("embedding").to_pylist() == [None] * 6 + [[1.5, -2.0]]

    def test_none_at_all_gives_a_null_column(self, runner, make_archive, tmp_path) -> None:
        out = tmp_path / "t"
        archive = make_archive([make_input("a"), make_input("b")])
        assert _convert(runner, archive, out).exit_code == 0
        assert pq.read_schema(out / "part-00000.parquet").field("embedding").type == pa.null()
        assert duckdb.execute(f"SELECT count(*) FROM '{out}/*.parquet'").fetchone()[0] == 2

    def test_embedding_option_picks_another(self, runner, make_archive, tmp_path) -> None:
        record = make_input("a", vector=[1.0, 2.0])
        record.data.embeddings.add(vector=[3.0, 4.0, 5.0], num_dimensions=3)
        out = tmp_path / "t"
        assert _convert(runner, make_archive([record]), out, "--embedding", "1").exit_code == 0
        assert pq.read_table(out).column("embedding").to_pylist() == [[3.0, 4.0, 5.0]]

    def test_record_batch_reader_holds_the_same(self, sample_archive: Path, tmp_path) -> None:
        with ArchiveReader(sample_archive) as reader:
            table = record_batch_reader([reader]).read_all()
        convert_archives([sample_archive], tmp_path / "t", to="parquet")
        assert pads.dataset(tmp_path / "t").to_table().equals(table)


class TestErrors:
    def test_mixed_dimensions(self, runner, make_archive, tmp_path: Path) -> None:
        records = [make_input("a", vector=[1.0] * 4), make_input("b", vector=[1.0] * 3)]
        out = tmp_path / "t"
        result = _convert(runner, make_archive(records, batch_size=1), out)
        assert result.exit_code == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ")
        assert "3 dimensions" in lines[0] and "have 4" in lines[0]
        assert "--embedding N" in lines[0] and "'b'" in lines[0]
        assert not out.exists()
        assert [p.name for p in tmp_path.iterdir()] == ["archive.zip"]

    def test_mixed_dimensions_in_the_library(self) -> None:
        builder = RowsBuilder(RowOptions())
        builder.add([make_input("a", vector=[1.0, 2.0])], where="x")
        with pytest.raises(SchemaError, match="1 dimensions, but earlier inputs' have 2"):
            builder.add([make_input("b", vector=[1.0])], where="x")

    def test_not_an_archive(self, runner, tmp_path: Path) -> None:
        bad = tmp_path / "bad.zip"
        bad.write_bytes(b"not a zip")
        out = tmp_path / "t"
        result = _convert(runner, bad, out)
        assert result.exit_code == 1
        assert result.stderr.startswith("Error: ") and len(result.stderr.splitlines()) == 1
        assert "bad.zip" in result.stderr and not out.exists()

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--to", "jsonl", "--rows-per-file", "5"], "--rows-per-file applies to --to parquet"),
            (["--to", "jsonl", "--embedding", "1"], "--embedding applies to --to parquet"),
            (["--to", "parquet", "--metadata-columns", "a,,b..c"], "has an empty part"),
        ],
    )
    def test_usage(self, runner, sample_archive, tmp_path: Path, args, message) -> None:
        result = runner.invoke(
            cli, ["convert", str(sample_archive), "-o", str(tmp_path / "o"), *args]
        )
        assert result.exit_code == 2 and message in result.stderr

    def test_foreign_folder_needs_force(self, runner, sample_archive, tmp_path: Path) -> None:
        out = tmp_path / "t"
        out.mkdir()
        (out / "mine.txt").write_text("keep")
        result = _convert(runner, sample_archive, out)
        assert result.exit_code == 1 and "mine.txt" in result.stderr
        assert (out / "mine.txt").read_text() == "keep"
        assert _convert(runner, sample_archive, out).exit_code == 1
        # Its own output is replaced without --force.
        fresh = tmp_path / "fresh"
        assert _convert(runner, sample_archive, fresh).exit_code == 0
        assert _convert(runner, sample_archive, fresh).exit_code == 0


class TestDownload:
    def test_downloaded_bytes_and_failures(self, runner, make_archive, tmp_path: Path) -> None:
        from media_helpers import KEY, hosted_input, image_bytes
        from media_server import MediaServer

        key_file = tmp_path / "key"
        key_file.write_text(KEY + "\n")
        with MediaServer(key=KEY) as server:
            server.add("/orig/ok", image_bytes(1))
            server.add("/orig/missing", b"", status=404)
            source = make_archive(
                [
                    hosted_input("ok", server.origin, "ok"),
                    hosted_input("missing", server.origin, "missing"),
                    make_input("inside", image_bytes=image_bytes(2)),
                ]
            )
            out = tmp_path / "t"
            args = ["--media", "download", "--pat-file", str(key_file)]
            failed = _convert(runner, source, out, *args)
            assert failed.exit_code == 1 and "'missing': HTTP 404" in failed.stderr
            assert not out.exists()
            allowed = _convert(runner, source, out, *args, "--allow-missing")
            assert allowed.exit_code == 0, allowed.stderr
        blobs = pq.read_table(out).column("image_bytes").to_pylist()
        assert blobs == [image_bytes(1), None, image_bytes(2)]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["archive.zip", "key", "t"]


class TestPurePython:
    """The same table when the C reader is not there, or leaves a batch to protobuf."""

    def test_without_the_c_reader(self, monkeypatch, sample_archive, tmp_path) -> None:
        import toolkit._native as native

        with ArchiveReader(sample_archive) as reader:
            fast = record_batch_reader([reader]).read_all()
        convert_archives([sample_archive], tmp_path / "fast", to="parquet")
        monkeypatch.setattr(native, "SPEEDUPS", None)
        with ArchiveReader(sample_archive) as reader:
            slow = record_batch_reader([reader]).read_all()
        convert_archives([sample_archive], tmp_path / "slow", to="parquet")
        assert fast.equals(slow)
        assert (
            pads.dataset(tmp_path / "fast")
            .to_table()
            .equals(pads.dataset(tmp_path / "slow").to_table())
        )

    @pytest.mark.parametrize("which", ["hosted", "varied"])
    def test_same_table_both_ways(
        self, which, monkeypatch, make_archive, sample_hosted_archive, tmp_path
    ) -> None:
        from media_helpers import hosted_input

        import toolkit._native as native

        if which == "hosted":
            source = sample_hosted_archive
        else:
            records = varied_inputs(12)
            records.append(hosted_input("h", "https://data.clarifai.com/", "/users/u/x"))
            records[1].created_at.seconds = 10**13  # past year 9999: null both ways
            records[2].created_at.nanos = -1500
            records[3].data.metadata.update({"bad": float("nan"), "é": 1, "z": "\u2713"})
            records[4].data.metadata.update({"deep": {"a": {"b": {"c": [1, {"d": -0.0}]}}}})
            source = make_archive(records, batch_size=5)
        args = {"to": "parquet", "metadata_columns": ["i", "nested.x"]}
        convert_archives([source], tmp_path / "fast", **args)
        monkeypatch.setattr(native, "SPEEDUPS", None)
        convert_archives([source], tmp_path / "slow", **args)
        fast = pads.dataset(tmp_path / "fast").to_table()
        slow = pads.dataset(tmp_path / "slow").to_table()
        assert fast.equals(slow)
        if which == "varied":
            rows = fast.to_pylist()
            assert rows[-1]["url"] == "https://data.clarifai.com/orig/users/u/x"
            assert rows[1]["created_at"] is None and rows[2]["created_at"] is not None

    def test_unpacked_vectors_go_to_protobuf(self, tmp_path) -> None:
        from convert_helpers import write_raw_archive

        from toolkit._native import batch_vectors_packed
        from toolkit._wire import encode_field

        floats = np.array([1.5, -0.25, 3.0], dtype="<f4")
        unpacked = b"".join(b"\x0d" + v.tobytes() for v in floats)  # field 1, fixed32 each
        data = encode_field(9, unpacked)
        batch = encode_field(1, encode_field(1, b"u") + encode_field(2, data))
        path = write_raw_archive(tmp_path / "u.zip", [batch])
        assert batch_vectors_packed(batch, 0) is None
        out = tmp_path / "t"
        convert_archives([path], out, to="parquet")
        got = pq.read_table(out).column("embedding").to_pylist()
        assert np.array(got[0], dtype="<f4").tobytes() == floats.tobytes()
        import toolkit

        with toolkit.open(path) as archive:
            ids, matrix = archive.embeddings()
        assert ids == ["u"] and matrix.tobytes() == floats.tobytes()


class TestArrowBuffers:
    """The C reader's ``table_arrow`` (Arrow buffers, regions too) gives the table the
    pure-Python path gives, and leaves to Python what protobuf would merge."""

    @staticmethod
    def _both_ways(monkeypatch, source: Path, tmp_path: Path, **options) -> tuple[pa.Table, ...]:
        import toolkit._native as native

        convert_archives([source], tmp_path / "fast", to="parquet", **options)
        monkeypatch.setattr(native, "SPEEDUPS", None)
        convert_archives([source], tmp_path / "slow", to="parquet", **options)
        monkeypatch.undo()
        return tuple(pads.dataset(tmp_path / n).to_table() for n in ("fast", "slow"))

    def test_every_region_shape(self, monkeypatch, make_archive, tmp_path) -> None:
        from toolkit._native import table_arrow

        records = varied_inputs(9)
        extra = records[0].data.regions
        extra.add(id="mask").region_info.mask.image.base64 = b"\x89PNG"
        extra.add()  # no id, no info: kind "other"
        keypoints = extra.add(id="kp").region_info.keypoint_locations
        keypoints.add(row=0.25, col=0.5)
        keypoints.add(row=0.75, col=0.125)
        both = extra.add(id="both").region_info
        both.bounding_box.top_row = 0.5
        both.polygon.points.add(row=0.1, col=0.2)  # a box and a polygon: kind box
        empty_polygon = extra.add(id="empty-polygon").region_info.polygon
        empty_polygon.SetInParent()
        labelled = extra.add(id="labelled")
        labelled.data.concepts.add(id="c1", name="", value=0.0)
        labelled.data.concepts.add(id="c2", name="Two", value=0.5)
        if "span" in RegionInfo.DESCRIPTOR.fields_by_name:
            extra.add(id="span").region_info.span.SetInParent()
        records[1].ClearField("data")  # no data at all
        source = make_archive(records, batch_size=4)
        with ArchiveReader(source) as reader:
            entry = reader.entries[0]
            found = table_arrow([reader.read_batch_bytes(entry)])
        assert found is not None and found[15] is not None  # the C reader took the regions
        fast, slow = self._both_ways(monkeypatch, source, tmp_path)
        assert fast.equals(slow)
        by_id = {r["id"]: r for r in fast.column("regions").to_pylist()[0]}
        assert by_id["both"]["kind"] == "box" and len(by_id["both"]["polygon"]) == 1
        assert by_id["empty-polygon"]["kind"] == "polygon"
        assert by_id[""]["kind"] == "other" and by_id["kp"]["kind"] == "point"
        assert [c["value"] for c in by_id["labelled"]["concepts"]] == [0.0, 0.5]

    def test_merged_region_fields_go_to_python(self, monkeypatch, tmp_path) -> None:
        """A region whose box is written twice: protobuf merges the two, the C reader
        leaves the batch's regions to it (and still builds the other columns)."""
        from convert_helpers import write_raw_archive

        from toolkit._native import table_arrow
        from toolkit._wire import encode_field

        def box(field: int, value: float) -> bytes:
            return bytes([(field << 3) | 5]) + np.float32(value).tobytes()

        info = encode_field(1, box(1, 0.25)) + encode_field(1, box(4, 0.75))
        region = encode_field(1, b"twice") + encode_field(2, info)
        plain = encode_field(1, b"plain") + encode_field(2, encode_field(1, box(2, 0.5)))
        data = encode_field(11, region) + encode_field(11, plain)
        batch = encode_field(1, encode_field(1, b"a") + encode_field(2, data))
        batch += encode_field(1, encode_field(1, b"b"))
        source = write_raw_archive(tmp_path / "m.zip", [batch])
        found = table_arrow([batch])
        assert found is not None and found[15] is None
        fast, slow = self._both_ways(monkeypatch, source, tmp_path)
        assert fast.equals(slow)
        merged = fast.column("regions").to_pylist()[0][0]["box"]
        assert merged == {"left_col": 0.0, "top_row": 0.25, "right_col": 0.75, "bottom_row": 0.0}

    def test_metadata_columns_and_hosted_urls(self, monkeypatch, make_archive, tmp_path) -> None:
        from media_helpers import hosted_input

        records = varied_inputs(6)
        records.append(hosted_input("h", "https://data.clarifai.com/", "/users/u/x"))
        records[2].data.metadata.update({"bad": float("nan")})  # left to Python: NaN
        records[3].data.metadata.update({"nested": {"x": [1, "two"]}})
        source = make_archive(records, batch_size=3)
        fast, slow = self._both_ways(
            monkeypatch, source, tmp_path, metadata_columns=["nested.x", "bad"]
        )
        assert fast.equals(slow)
        assert fast.column("url").to_pylist()[-1] == "https://data.clarifai.com/orig/users/u/x"

    def test_the_command_imports_only_what_it_uses(self, sample_archive, tmp_path) -> None:
        """``pyarrow.array()`` imports pandas (0.3 s) on first use; the conversion builds
        its arrays from buffers, so a ``convert --to parquet`` process never loads it. Nor
        what only worker processes, downloads or VOC need (about 30 ms of every start)."""
        import subprocess
        import sys

        code = (
            "import sys, runpy\n"
            f"sys.argv = ['clarifai-archive', '-q', 'convert', {str(sample_archive)!r}, "
            f"'--to', 'parquet', '-o', {str(tmp_path / 'out')!r}]\n"
            "try:\n    runpy.run_module('toolkit', run_name='__main__')\n"
            "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
            f"print(sorted(m for m in sys.modules if m in {sorted(_NOT_NEEDED)!r}))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
        )
        assert done.stdout.strip() == "[]"
        assert pq.read_table(tmp_path / "out").num_rows == 31


class TestWriterThread:
    def test_a_failed_write_is_an_error_and_leaves_nothing(
        self, monkeypatch, sample_archive, tmp_path
    ) -> None:
        from toolkit.errors import OutputError

        def failing(self, table, row_group_size=None):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(pq.ParquetWriter, "write_table", failing)
        out = tmp_path / "t"
        with pytest.raises(OutputError, match="No space left on device"):
            convert_archives([sample_archive], out, to="parquet")
        assert sorted(p.name for p in tmp_path.iterdir()) == []

    def test_row_groups_and_files_as_without_a_thread(self, make_archive, tmp_path) -> None:
        records = [make_input(f"i{n:03d}", vector=[n, 1.0]) for n in range(250)]
        source = make_archive(records, batch_size=16)
        convert_archives([source], tmp_path / "t", to="parquet", rows_per_file=100)
        files = sorted((tmp_path / "t").iterdir())
        assert [pq.ParquetFile(f).metadata.num_rows for f in files] == [100, 100, 50]
        table = pads.dataset(tmp_path / "t").to_table()
        assert table.column("id").to_pylist() == [r.id for r in records]


class TestEntryGroups:
    """Up to 16 entries are read by the C reader in one call; the table and the errors are
    those of reading them one by one."""

    def test_groups_give_the_table_of_single_entries(self, monkeypatch, make_archive, tmp_path):
        import toolkit.tabular.stream as stream
        from toolkit.convert import _parquet_impl

        records = varied_inputs(40)
        for i, record in enumerate(records):
            if i % 3:
                record.data.ClearField("embeddings")  # entries with and without vectors
        source = make_archive(records, batch_size=2)
        convert_archives([source], tmp_path / "grouped", to="parquet")
        with toolkit_open(source) as archive:
            grouped = archive.to_arrow()
        monkeypatch.setattr(stream, "GROUP_ENTRIES", 1)
        monkeypatch.setattr(_parquet_impl, "GROUP_ENTRIES", 1)
        convert_archives([source], tmp_path / "single", to="parquet")
        with toolkit_open(source) as archive:
            single = archive.to_arrow()
        assert grouped.equals(single)
        assert pads.dataset(tmp_path / "grouped").to_table().equals(single)
        assert pads.dataset(tmp_path / "single").to_table().equals(single)

    def test_an_unusual_entry_in_a_group(self, monkeypatch, tmp_path) -> None:
        """One entry the C reader leaves to protobuf (a region's box written twice): the
        group is read entry by entry, the same table as without the C reader."""
        from convert_helpers import write_raw_archive

        import toolkit._native as native
        from toolkit._wire import encode_field

        def box(field: int, value: float) -> bytes:
            return bytes([(field << 3) | 5]) + np.float32(value).tobytes()

        def entry(i: int, twice: bool) -> bytes:
            info = encode_field(1, box(1, 0.25)) + (encode_field(1, box(4, 0.5)) if twice else b"")
            region = encode_field(1, b"r") + encode_field(2, info)
            data = encode_field(11, region) + encode_field(9, encode_field(1, box(1, i)[1:] * 2))
            return encode_field(1, encode_field(1, f"in-{i}".encode()) + encode_field(2, data))

        batches = [entry(i, twice=i == 3) for i in range(6)]
        source = write_raw_archive(tmp_path / "g.zip", batches)
        convert_archives([source], tmp_path / "fast", to="parquet")
        monkeypatch.setattr(native, "SPEEDUPS", None)
        convert_archives([source], tmp_path / "slow", to="parquet")
        fast = pads.dataset(tmp_path / "fast").to_table()
        assert fast.equals(pads.dataset(tmp_path / "slow").to_table())
        assert fast.column("regions").to_pylist()[3][0]["box"]["right_col"] == 0.5

    def test_mixed_dimensions_name_the_entry_in_a_group(self, make_archive, tmp_path) -> None:
        records = [make_input(f"i{n}", vector=[1.0] * 4) for n in range(9)]
        records.append(make_input("odd", vector=[1.0] * 3))
        source = make_archive(records, batch_size=2)
        with ArchiveReader(source) as reader:
            last = reader.entries[-1].name
        with pytest.raises(SchemaError, match=rf"entry '{last}', input 'odd'"):
            convert_archives([source], tmp_path / "t", to="parquet")
        assert not (tmp_path / "t").exists()


#: Modules a ``convert --to parquet`` process has no use for.
_NOT_NEEDED = {
    "pandas",
    "multiprocessing",
    "concurrent.futures.process",
    "http.client",
    "email.utils",
    "urllib.request",
    "xml.etree.ElementTree",
    "xml.sax.saxutils",
}


def toolkit_open(path: Path):
    import toolkit

    return toolkit.open(path)
