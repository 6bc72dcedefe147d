"""The web app's library parts without a web framework: ArchiveBrowser, the picture cache,
output names and the index found beside an archive."""

from __future__ import annotations

import pytest
from serve_helpers import write_serve_archive

from toolkit.errors import InputNotFoundError, OutputError
from toolkit.serve import ArchiveBrowser, check_output_name, find_index_beside
from toolkit.serve.pictures import PictureCache
from toolkit.subset import FilterCriteria


def test_rows_follow_the_archive(tmp_path):
    archive = write_serve_archive(tmp_path / "a.zip", 12, batch_size=5)
    with ArchiveBrowser(archive) as browser:
        assert browser.wait_indexed(30)
        assert browser.row_count == 14 and len(browser.entries) == 3
        assert [r.id for r in browser.inputs([13, 0, 6])] == [browser.ids[13], "img-000", "img-006"]
        assert browser.row_of("img-007") == 7
        assert browser.metrics is not None and browser.metrics.inputs_count == 14
        with pytest.raises(InputNotFoundError, match="no input with id 'nope'"):
            browser.row_of("nope")
        with pytest.raises(InputNotFoundError, match="no input in row 14"):
            browser.input_at(14)


def test_same_criteria_same_query(tmp_path):
    archive = write_serve_archive(tmp_path / "a.zip", 12)
    with ArchiveBrowser(archive) as browser:
        first = browser.query(FilterCriteria(concepts=("cat",)))
        again = browser.query(FilterCriteria(concepts=("cat",)))
        assert first is again
        assert first.wait(30) and browser.ids_of(first.rows) == [
            f"img-{i:03d}" for i in range(1, 12, 2)
        ]
        other = browser.query(FilterCriteria(concepts=("dog",)))
        assert other is not first


def test_old_queries_are_dropped_and_stopped(tmp_path):
    archive = write_serve_archive(tmp_path / "a.zip", 6)
    with ArchiveBrowser(archive) as browser:
        queries = [browser.query(FilterCriteria(metadata=(("n", str(i)),))) for i in range(10)]
        for query in queries:
            query.wait(30)
        assert queries[0]._cancel.is_set() and queries[1]._cancel.is_set()
        assert not queries[9]._cancel.is_set()
        assert browser.query(FilterCriteria(metadata=(("n", "0"),))) is not queries[0]


def test_picture_cache_is_bounded_and_lru():
    cache = PictureCache(max_bytes=10)
    cache.put(("a",), b"1234")
    cache.put(("b",), b"5678")
    assert cache.get(("a",)) == b"1234"  # now the most recent
    cache.put(("c",), b"90ab")
    assert cache.size == 8 and cache.get(("b",)) is None and cache.get(("a",)) == b"1234"
    cache.put(("big",), b"x" * 11)  # larger than the cache: not kept
    assert cache.get(("big",)) is None and cache.size == 8


@pytest.mark.parametrize("name", ["export", "a.zip", "coco_2024-05.v1", "A1"])
def test_plain_names(name):
    assert check_output_name(name) == name


@pytest.mark.parametrize("name", ["..", "../a", "a/b", ".a", "-a", "a..b", "", "x" * 101, "a b"])
def test_names_refused(name):
    with pytest.raises(OutputError, match="not a plain output name"):
        check_output_name(name)


def test_index_beside_the_archive(tmp_path):
    archive = tmp_path / "export.zip"
    archive.write_bytes(b"")
    assert find_index_beside(archive) is None
    (tmp_path / "export-index").mkdir()
    assert find_index_beside(archive) is None  # no index.json: not an index
    (tmp_path / "export-index" / "index.json").write_text("{}")
    assert find_index_beside(archive) == tmp_path / "export-index"
