"""``search``, ``sort``, the contact sheet and gallery, and ``filter --like``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from helpers import make_input
from index_helpers import realistic_vectors, vector_input, write_vector_archive
from PIL import Image

from toolkit.archive import ArchiveReader
from toolkit.cli import cli
from toolkit.errors import InputNotFoundError, SchemaError
from toolkit.index import (
    CAPTION_HEIGHT,
    Hit,
    Media,
    SheetRow,
    SimilarityIndex,
    build_index,
    gather_media,
    render_sheet,
    similar_ids,
)
from toolkit.records import embedding_vector


def run(runner, args, code=0):
    result = runner.invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    return result


def error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[-1]


def sample_vectors(path: Path) -> tuple[list[str], np.ndarray]:
    ids, rows = [], []
    with ArchiveReader(path) as reader:
        for record in reader.iter_inputs():
            vector = embedding_vector(record)
            if vector is not None:
                ids.append(record.id)
                rows.append(vector / np.linalg.norm(vector))
    return ids, np.stack(rows)


@pytest.fixture(name="index_dir", scope="module")
def _index_dir(tmp_path_factory) -> Path:
    from conftest import SAMPLE_DIR

    folder = tmp_path_factory.mktemp("search") / "ix"
    build_index([SAMPLE_DIR / "clarifai-data-protobuf.zip"], folder)
    return folder


class TestSearchCommand:
    def test_like_table(self, runner, index_dir, sample_archive):
        result = run(runner, ["search", str(index_dir), "--like", "img-0008", "-k", "3"])
        ids, matrix = sample_vectors(sample_archive)
        scores = matrix @ matrix[ids.index("img-0008")]
        order = [i for i in np.argsort(-scores) if ids[i] != "img-0008"][:3]
        expected = ["rank  id        score"] + [
            f"{n:>4}  {ids[i]:<8}  {scores[i]:.4f}" for n, i in enumerate(order, start=1)
        ]
        assert result.stdout.splitlines() == expected
        assert result.stdout.splitlines()[1].split()[1] == "img-0007"

    def test_like_json_several_queries(self, runner, index_dir):
        result = run(
            runner,
            ["search", str(index_dir), "--like", "img-0008", "--like", "img-0018", "-k", "2",
             "--json"],
        )  # fmt: skip
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert [(r["query"], r["rank"]) for r in rows] == [
            ("img-0008", 1), ("img-0008", 2), ("img-0018", 1), ("img-0018", 2),
        ]  # fmt: skip
        assert rows[0]["id"] == "img-0007" and rows[2]["id"] == "img-0017"
        assert set(rows[0]) == {"query", "rank", "id", "score"}
        single = run(runner, ["search", str(index_dir), "--like", "img-0008", "-k", "1", "--json"])
        assert json.loads(single.stdout) == {"rank": 1, "id": "img-0007", "score": rows[0]["score"]}

    def test_like_table_several_queries(self, runner, index_dir):
        result = run(
            runner,
            ["search", str(index_dir), "--like", "img-0001", "--like", "img-0002", "-k", "1"],
        )
        lines = result.stdout.splitlines()
        assert lines[0] == "query img-0001" and lines[4] == "query img-0002" and lines[3] == ""

    def test_min_score(self, runner, index_dir):
        result = run(
            runner,
            ["search", str(index_dir), "--like", "img-0008", "-k", "30", "--min-score", "0.11",
             "--json"],
        )  # fmt: skip
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert [r["id"] for r in rows] == ["img-0007", "img-0012"]
        none = run(runner, ["search", str(index_dir), "--like", "img-0008", "--min-score", "1.5"])
        assert none.stdout == "(no hits)\n"

    def test_vector_queries(self, runner, index_dir, sample_archive, tmp_path):
        ids, matrix = sample_vectors(sample_archive)
        one = tmp_path / "one.npy"
        np.save(one, matrix[ids.index("img-0005")] * 3.0)  # any length: cosine
        result = run(runner, ["search", str(index_dir), "--vector", str(one), "-k", "1", "--json"])
        hit = json.loads(result.stdout)
        assert hit["id"] == "img-0005" and hit["score"] == pytest.approx(1.0, abs=1e-5)
        two = tmp_path / "two.npy"
        np.save(two, matrix[[0, 1]])
        result = run(runner, ["search", str(index_dir), "--vector", str(two), "-k", "1", "--json"])
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert [(r["query"], r["id"]) for r in rows] == [(0, ids[0]), (1, ids[1])]
        table = run(runner, ["search", str(index_dir), "--vector", str(two), "-k", "1"])
        assert table.stdout.splitlines()[0] == "query vector 0"

    def test_overrides(self, runner, tmp_path):
        archive = write_vector_archive(tmp_path / "v.zip", realistic_vectors(1000, 16, seed=2))
        folder = tmp_path / "ix"
        build_index([archive], folder, kind="ivfpq")
        exhaustive = run(
            runner,
            ["search", str(folder), "--like", "v00001", "--nprobe", "16", "--rerank", "100",
             "--json"],
        )  # fmt: skip
        index = SimilarityIndex.load(folder)
        exact = list(index.rank_all("v00001"))[:10]
        assert [json.loads(line)["id"] for line in exhaustive.stdout.splitlines()] == [
            h.id for h in exact
        ]


class TestSearchErrors:
    def test_like_or_vector(self, runner, index_dir, tmp_path):
        result = run(runner, ["search", str(index_dir)], code=2)
        assert "give --like INPUT_ID" in result.stderr
        vec = tmp_path / "v.npy"
        np.save(vec, np.ones(256, dtype=np.float32))
        result = run(
            runner, ["search", str(index_dir), "--like", "img-0001", "--vector", str(vec)], code=2
        )
        assert "not both" in result.stderr

    def test_unknown_input(self, runner, index_dir):
        result = run(runner, ["search", str(index_dir), "--like", "img-9999"], code=1)
        assert "no input 'img-9999' in the index" in error_line(result)
        result = run(runner, ["search", str(index_dir), "--like", "txt-0001"], code=1)
        assert "no input 'txt-0001'" in error_line(result)

    def test_wrong_dimension(self, runner, index_dir, tmp_path):
        vec = tmp_path / "v.npy"
        np.save(vec, np.ones(128, dtype=np.float32))
        result = run(runner, ["search", str(index_dir), "--vector", str(vec)], code=1)
        assert "the query has 128 dimensions but the index has 256" in error_line(result)

    @pytest.mark.parametrize(
        ("content", "words"),
        [
            (b"not numpy", "not a readable .npy file"),
            ("zeros", "all zeros"),
            ("nan", "NaN or infinite"),
            ("3d", "expected a vector (d,) or a matrix (q, d)"),
            ("npz", "a zip (.npz), not a .npy file"),
        ],
    )
    def test_bad_vector_file(self, runner, index_dir, tmp_path, content, words):
        vec = tmp_path / "v.npy"
        if content == "zeros":
            np.save(vec, np.zeros(256, dtype=np.float32))
        elif content == "nan":
            np.save(vec, np.full(256, np.nan, dtype=np.float32))
        elif content == "npz":
            with open(vec, "wb") as stream:
                np.savez(stream, a=np.ones(256))
        elif content == "3d":
            np.save(vec, np.ones((2, 2, 256), dtype=np.float32))
        else:
            vec.write_bytes(content)
        result = run(runner, ["search", str(index_dir), "--vector", str(vec)], code=1)
        assert words in error_line(result)

    def test_missing_index(self, runner, tmp_path):
        result = run(runner, ["search", str(tmp_path / "none"), "--like", "a"], code=1)
        assert "no such index folder" in error_line(result)

    def test_sheet_exists(self, runner, index_dir, tmp_path):
        out = tmp_path / "s.png"
        out.write_bytes(b"old")
        result = run(
            runner, ["search", str(index_dir), "--like", "img-0001", "--sheet", str(out)], code=1
        )
        assert "exists; pass --force" in result.stderr and out.read_bytes() == b"old"
        result = run(
            runner, ["search", str(index_dir), "--like", "img-0001", "--media-dir", str(tmp_path)],
            code=2,
        )  # fmt: skip
        assert "--media-dir goes with --sheet or --html" in result.stderr


class TestSheet:
    def test_png_of_expected_size(self, runner, index_dir, tmp_path):
        out = tmp_path / "sheet.png"
        result = run(
            runner,
            ["search", str(index_dir), "--like", "img-0007", "--like", "img-0017", "-k", "4",
             "--sheet", str(out), "--tile", "96"],
        )  # fmt: skip
        assert f"wrote {out}" in result.stderr
        with Image.open(out) as image:
            image.verify()
        with Image.open(out) as image:
            assert image.format == "PNG"
            assert image.size == (5 * 96, 2 * (96 + CAPTION_HEIGHT))
            pixels = np.asarray(image.convert("RGB"))
        # The query tile shows the drawn scene (sky blue), not a grey placeholder.
        assert pixels[10:80, 10:80].std() > 5
        assert not list(tmp_path.glob(".*tmp*"))

    def test_placeholders_and_media_dir(self, runner, tmp_path):
        records = [
            vector_input("hosted", [1.0, 0.0, 0.0]),
            vector_input("filed", [0.9, 0.1, 0.0]),
            make_input("texty", text="a red ball", vector=[0.8, 0.2, 0.1]),
        ]
        archive = write_vector_archive(
            tmp_path / "a.zip",
            np.array([[1.0, 0.0, 0.0], [0.9, 0.1, 0.0]], dtype=np.float32),
            ids=["hosted", "filed"],
        )
        from toolkit.archive import write_archive

        write_archive(archive, records)
        folder = tmp_path / "ix"
        build_index([archive], folder)
        index = SimilarityIndex.load(folder)
        rows = [SheetRow("hosted", True, index.search_like(["hosted"], k=2)[0])]
        media, notes = gather_media(rows, index=index)
        assert media["hosted"] == Media("none", text="hosted image")
        assert media["texty"].kind == "text" and media["texty"].text == "a red ball"
        assert any("pass media_dir=... to see them" in n for n in notes)
        media_dir = tmp_path / "media"
        media_dir.mkdir()
        Image.new("RGB", (40, 30), (200, 10, 10)).save(media_dir / "filed.jpg")
        media, notes = gather_media(rows, media_dir=media_dir)
        assert media["filed"].kind == "image" and media["hosted"].kind == "none"
        image = render_sheet(rows, media, tile=64)
        assert image.size == (3 * 64, 64 + CAPTION_HEIGHT)
        out = tmp_path / "s.png"
        run(
            runner,
            ["-q", "search", str(folder), "--like", "hosted", "-k", "2", "--sheet", str(out),
             "--media-dir", str(media_dir), "--tile", "64"],
        )  # fmt: skip
        with Image.open(out) as sheet:
            red = np.asarray(sheet.convert("RGB"))[32, 64 + 32]
        assert red[0] > 150 and red[1] < 80  # the filed image, by media dir

    def test_bomb_and_junk_get_placeholders(self):
        big = io.BytesIO()
        Image.new("L", (4000, 4000)).save(big, format="PNG")
        from toolkit.limits import Limits

        rows = [SheetRow("a", True, [Hit("b", 0.5, 1)])]
        media = {"a": Media("image", data=big.getvalue()), "b": Media("image", data=b"junk")}
        image = render_sheet(rows, media, tile=64, limits=Limits(max_image_pixels=1000))
        assert image.size == (128, 64 + CAPTION_HEIGHT)
        pixels = np.asarray(image)
        grey = (205, 208, 214)  # the placeholder's colour, away from its text
        assert (pixels[5:15, 5:15] == grey).all() and (pixels[5:15, 70:80] == grey).all()

    def test_a_megabyte_text_is_wrapped_only_as_far_as_it_shows(self, monkeypatch):
        # Found by the long fuzz: 3 MB of text in one word took textwrap 10 s per tile.
        import textwrap

        wrapped: list[int] = []
        real_wrap = textwrap.wrap
        monkeypatch.setattr(
            textwrap, "wrap", lambda text, **kw: wrapped.append(len(text)) or real_wrap(text, **kw)
        )
        rows = [SheetRow("a", True, [Hit("b", 0.5, 1)])]
        long_id = "b" * 1_000_000
        huge = {"a": Media("text", text="w" * 3_000_000), "b": Media("none", text=long_id)}
        short = {"a": Media("text", text="w" * 400), "b": Media("none", text="b" * 400)}
        image = render_sheet(rows, huge, tile=64)
        assert wrapped and max(wrapped) <= 64 * 64
        assert np.array_equal(np.asarray(image), np.asarray(render_sheet(rows, short, tile=64)))

    def test_html_gallery(self, runner, index_dir, tmp_path):
        out = tmp_path / "g.html"
        run(
            runner,
            ["-q", "search", str(index_dir), "--like", "img-0007", "-k", "3", "--html", str(out)],
        )
        page = out.read_text()
        assert page.startswith("<!doctype html>") and page.count("<figure") == 4
        assert page.count("data:image/jpeg;base64,") == 4 and 'src="http' not in page
        assert "Query: img-0007" in page and "1. img-0008" in page
        run(
            runner,
            ["-q", "search", str(index_dir), "--like", "img-0007", "--html", str(out), "--force"],
        )


class TestSort:
    def test_sort_stdout(self, runner, index_dir, sample_archive):
        result = run(runner, ["sort", str(index_dir), "--like", "img-0007"])
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert len(rows) == 29 and [r["rank"] for r in rows] == list(range(1, 30))
        assert "img-0007" not in {r["id"] for r in rows}
        ids, matrix = sample_vectors(sample_archive)
        scores = matrix @ matrix[ids.index("img-0007")]
        assert [r["id"] for r in rows[:5]] == [
            ids[i] for i in np.argsort(-scores, kind="stable") if ids[i] != "img-0007"
        ][:5]
        assert all(a["score"] >= b["score"] for a, b in zip(rows, rows[1:], strict=False))

    def test_sort_file(self, runner, index_dir, tmp_path):
        out = tmp_path / "ranked.jsonl"
        result = run(runner, ["sort", str(index_dir), "--like", "img-0001", "-o", str(out)])
        assert result.stdout == "" and "wrote 29 ranked inputs" in result.stderr
        assert len(out.read_text().splitlines()) == 29
        result = run(runner, ["sort", str(index_dir), "--like", "img-0001", "-o", str(out)], code=1)
        assert "pass --force" in result.stderr
        run(runner, ["-q", "sort", str(index_dir), "--like", "img-0001", "-o", str(out), "--force"])

    def test_sort_vector_and_errors(self, runner, index_dir, tmp_path):
        vec = tmp_path / "v.npy"
        np.save(vec, np.ones(256, dtype=np.float32))
        result = run(runner, ["sort", str(index_dir), "--vector", str(vec)])
        assert len(result.stdout.splitlines()) == 30
        result = run(runner, ["sort", str(index_dir)], code=2)
        assert "give --like INPUT_ID" in result.stderr
        result = run(runner, ["sort", str(index_dir), "--like", "zzz"], code=1)
        assert "no input 'zzz'" in error_line(result)


class TestSimilarIds:
    def test_archive_equals_index(self, sample_archive, index_dir):
        for kwargs in ({"k": 3}, {"min_score": 0.95}, {"k": 5, "min_score": 0.96}):
            from_archive = similar_ids(sample_archive, ["img-0007", "img-0017"], **kwargs)
            from_index = similar_ids(index_dir, ["img-0007", "img-0017"], **kwargs)
            assert from_archive == from_index and from_archive, kwargs
        found = similar_ids(sample_archive, ["img-0008"], k=1)
        assert found == {"img-0007"}
        assert similar_ids(sample_archive, ["img-0008"], k=1, include_queries=True) == {
            "img-0007",
            "img-0008",
        }

    def test_exact_against_numpy(self, sample_archive):
        ids, matrix = sample_vectors(sample_archive)
        scores = matrix @ matrix[ids.index("img-0003")]
        want = {ids[i] for i in np.flatnonzero(scores >= 0.97) if ids[i] != "img-0003"}
        assert similar_ids(sample_archive, ["img-0003"], min_score=0.97) == want
        l2 = similar_ids(sample_archive, ["img-0003"], k=4, metric="l2")
        distances = np.linalg.norm(matrix - matrix[ids.index("img-0003")], axis=1)
        order = [ids[i] for i in np.argsort(distances) if ids[i] != "img-0003"][:4]
        assert l2 == set(order)  # unit vectors: same order as cosine

    def test_errors(self, sample_archive):
        with pytest.raises(ValueError, match="k, min_score"):
            similar_ids(sample_archive, ["img-0001"])
        with pytest.raises(InputNotFoundError):
            similar_ids(sample_archive, ["nope"], k=1)
        with pytest.raises(SchemaError, match="no embedding"):
            similar_ids(sample_archive, ["txt-0001"], k=1)


class TestFilterLike:
    def test_filter_like(self, runner, sample_archive, index_dir, tmp_path):
        out = tmp_path / "similar.zip"
        result = run(
            runner,
            ["filter", str(sample_archive), "-o", str(out), "--like", "img-0008", "-k", "2"],
        )
        assert "3 similar inputs" in result.stderr
        with ArchiveReader(out) as reader:
            kept = [r.id for r in reader.iter_inputs()]
        assert kept == ["img-0007", "img-0008", "img-0012"]
        out2 = tmp_path / "similar2.zip"
        run(
            runner,
            ["-q", "filter", str(sample_archive), "-o", str(out2), "--like", "img-0008",
             "--min-score", "0.11", "--index", str(index_dir)],
        )  # fmt: skip
        with ArchiveReader(out2) as reader:
            assert [r.id for r in reader.iter_inputs()] == kept

    def test_filter_like_usage(self, runner, sample_archive, tmp_path):
        out = tmp_path / "o.zip"
        result = run(
            runner, ["filter", str(sample_archive), "-o", str(out), "--like", "img-0001"], code=2
        )
        assert "--like needs --min-score S, -k N or both" in result.stderr
        result = run(runner, ["filter", str(sample_archive), "-o", str(out), "-k", "3"], code=2)
        assert "go with --like" in result.stderr
        result = run(
            runner,
            ["filter", str(sample_archive), "-o", str(out), "--like", "nope", "-k", "3"],
            code=1,
        )
        assert "no input with id 'nope'" in error_line(result)
        assert not out.exists()
