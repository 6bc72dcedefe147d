"""filter_inputs, FilterCriteria and clarifai-archive filter."""

from __future__ import annotations

import json

import pytest
from helpers import make_input
from merge_helpers import hashes, leftovers, read_ids, read_inputs, sdk_ids, wire

from toolkit.cli import cli
from toolkit.errors import EmptyResultError, OutputError, UnknownConceptError
from toolkit.messages import Input
from toolkit.records import has_concept
from toolkit.subset import FilterCriteria, filter_inputs, parse_metadata_filter, read_ids_file


def _video(input_id: str, concept: str) -> Input:
    record = Input(id=input_id)
    record.data.video.url = "https://example.com/v.mp4"
    frame = record.data.frames.add(id="f0")
    frame.data.regions.add(id=f"{input_id}-fr").data.concepts.add(id=concept, value=1.0)
    return record


def _audio(input_id: str) -> Input:
    record = Input(id=input_id)
    record.data.audio.base64 = b"RIFF"
    return record


@pytest.fixture(name="records")
def _records() -> list[Input]:
    return [
        make_input("cat1", image_bytes=b"1", concepts=[("cat", 1.0)], metadata={"n": 12}),
        make_input("dog1", image_bytes=b"2", concepts=[("dog", 1.0), ("cat", 0.0)]),
        make_input("box1", image_bytes=b"3", boxes=[("cat", 0.1, 0.1, 0.5, 0.5)]),
        make_input(
            "emb1",
            image_bytes=b"4",
            vector=[0.1, 0.2],
            metadata={"split": "train", "cam": {"model": "X100", "ok": True}},
        ),
        make_input("bare", image_bytes=b"5"),
        make_input("txt1", text="hello", concepts=[("dog", 1.0)], metadata={"tags": ["a", 3]}),
        _video("vid1", "car"),
        _audio("aud1"),
        make_input("nul1", image_bytes=b"6", metadata={"none": None, "split": "val"}),
    ]


@pytest.fixture(name="archive")
def _archive(make_archive, records):
    return make_archive(records, "src.zip", batch_size=4)


def _kept(archive, tmp_path, **criteria) -> list[str]:
    out = tmp_path / "out.zip"
    report = filter_inputs(archive, out, criteria=FilterCriteria(**criteria), allow_empty=True)
    ids = read_ids(out)
    assert report.inputs_written == len(ids)
    out.unlink()
    return ids


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({}, ["cat1", "dog1", "box1", "emb1", "bare", "txt1", "vid1", "aud1", "nul1"]),
        # A positive label on the input or a region (a negative one does not count).
        ({"concepts": ("cat",)}, ["cat1", "box1"]),
        ({"concepts": ("cat", "car")}, ["cat1", "box1", "vid1"]),
        # A concept id or its name, in any case.
        ({"concepts": ("CAT",)}, ["cat1", "box1"]),
        ({"concepts": ("Dog",)}, ["dog1", "txt1"]),
        ({"no_concepts": ("Cat", "DOG")}, ["emb1", "bare", "vid1", "aud1", "nul1"]),
        ({"no_concepts": ("cat", "dog")}, ["emb1", "bare", "vid1", "aud1", "nul1"]),
        ({"types": ("text", "audio")}, ["txt1", "aud1"]),
        ({"types": ("video",)}, ["vid1"]),
        ({"has_embeddings": True}, ["emb1"]),
        ({"has_regions": True}, ["box1", "vid1"]),
        ({"unlabeled": True}, ["emb1", "bare", "aud1", "nul1"]),
        ({"metadata": (("n", "12"),)}, ["cat1"]),
        ({"metadata": (("n", "12.0"),)}, ["cat1"]),
        ({"metadata": (("n", "twelve"),)}, []),
        ({"metadata": (("split", "train"), ("split", "val"))}, ["emb1", "nul1"]),
        ({"metadata": (("cam.model", "X100"),)}, ["emb1"]),
        ({"metadata": (("cam.ok", "true"),)}, ["emb1"]),
        ({"metadata": (("cam", '{"model": "X100", "ok": true}'),)}, ["emb1"]),
        ({"metadata": (("tags", "3"),)}, ["txt1"]),
        ({"metadata": (("tags", "a"),)}, ["txt1"]),
        ({"metadata": (("none", "null"),)}, ["nul1"]),
        ({"metadata": (("cam.model.x", "X100"),)}, []),
        ({"ids": {"bare", "txt1", "nope"}}, ["bare", "txt1"]),
        # Criteria combine with AND.
        ({"concepts": ("dog",), "types": ("image",)}, ["dog1"]),
        (
            {"unlabeled": True, "types": ("image",), "no_concepts": ("cat",)},
            ["emb1", "bare", "nul1"],
        ),
        ({"has_regions": True, "concepts": ("car",)}, ["vid1"]),
        ({"limit": 3}, ["cat1", "dog1", "box1"]),
        ({"limit": 0}, []),
        ({"unlabeled": True, "limit": 2}, ["emb1", "bare"]),
    ],
)
def test_criteria(archive, tmp_path, criteria, expected):
    assert _kept(archive, tmp_path, **criteria) == expected


def test_matches_and_with_ids(records):
    criteria = FilterCriteria(concepts=("cat", "dog"))
    assert [r.id for r in records if criteria.matches(r)] == ["cat1", "dog1", "box1", "txt1"]
    narrowed = criteria.with_ids(["dog1", "txt1", "emb1"]).with_ids(["txt1", "dog1"])
    assert narrowed.ids == frozenset({"dog1", "txt1"})
    assert [r.id for r in records if narrowed.matches(r)] == ["dog1", "txt1"]
    assert narrowed.to_dict() == {"concepts": ["cat", "dog"], "ids": 2}
    assert FilterCriteria().is_empty and not FilterCriteria(limit=1).is_empty


def test_limit_stops_reading(make_archive, tmp_path):
    src = make_archive(
        [make_input(f"i{n}", image_bytes=b"%d" % n) for n in range(50)], "big.zip", batch_size=5
    )
    steps: list[int] = []
    report = filter_inputs(
        src, tmp_path / "out.zip", criteria=FilterCriteria(limit=7), progress=steps.append
    )
    assert report.limit_reached and report.inputs_written == 7 and report.inputs_read == 10
    assert sum(steps) == 10
    assert read_ids(tmp_path / "out.zip") == [f"i{n}" for n in range(7)]


def test_invalid_criteria():
    with pytest.raises(ValueError, match="unknown input type 'picture'"):
        FilterCriteria(types=("picture",))
    with pytest.raises(ValueError, match="limit"):
        FilterCriteria(limit=-1)
    with pytest.raises(ValueError, match="empty part"):
        FilterCriteria(metadata=(("a..b", "1"),))
    assert parse_metadata_filter("a.b=c=d") == ("a.b", "c=d")
    assert parse_metadata_filter("k=") == ("k", "")
    for bad in ("novalue", "=x", ".a=1"):
        with pytest.raises(ValueError, match="KEY=VALUE"):
            parse_metadata_filter(bad)
    assert read_ids_file(["# c\n", "a\n", "\n", " b \n"]) == ["a", "b"]


def test_sample_archive_by_concept(sample_archive, tmp_path):
    before = hashes([sample_archive])
    out = tmp_path / "ball.zip"
    report = filter_inputs(sample_archive, out, criteria=FilterCriteria(concepts=("ball",)))
    expected = [r for r in read_inputs(sample_archive) if has_concept(r, "ball")]
    assert [wire(r) for r in read_inputs(out)] == [wire(r) for r in expected]
    assert report.inputs_read == 31 and report.inputs_written == len(expected) > 0
    assert sdk_ids(out) == [r.id for r in expected]
    assert hashes([sample_archive]) == before


def test_output_is_the_source(archive):
    with pytest.raises(OutputError):
        filter_inputs(archive, archive, criteria=FilterCriteria())


class TestCli:
    def test_filter(self, runner, archive, tmp_path):
        out = tmp_path / "out.zip"
        report = tmp_path / "r.json"
        result = runner.invoke(
            cli,
            ["filter", str(archive), "-o", str(out), "--concept", "cat", "--concept", "dog"]
            + ["--type", "image", "--report", str(report)],
        )
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
        assert result.stderr == f"Kept 3 of 9 inputs read; wrote {out}.\n"
        assert read_ids(out) == ["cat1", "dog1", "box1"]
        assert json.loads(report.read_text())["criteria"] == {
            "concepts": ["cat", "dog"],
            "types": ["image"],
        }

    def test_every_option(self, runner, archive, tmp_path):
        ids = tmp_path / "ids.txt"
        ids.write_text("emb1\nbare\ncat1\n")
        out = tmp_path / "out.zip"
        args = ["filter", str(archive), "-o", str(out), "--ids-from", str(ids)]
        args += ["--no-concept", "cat", "--unlabeled", "--metadata", "split=train"]
        args += ["--metadata", "n=5", "--has-embeddings", "--limit", "5"]
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert read_ids(out) == ["emb1"]

    def test_limit_note(self, runner, archive, tmp_path):
        out = tmp_path / "out.zip"
        result = runner.invoke(cli, ["filter", str(archive), "-o", str(out), "--limit", "2"])
        assert result.stderr == f"Kept 2 of 4 inputs read (stopped at --limit 2); wrote {out}.\n"

    def test_usage_errors(self, runner, archive, tmp_path):
        out = tmp_path / "out.zip"
        result = runner.invoke(cli, ["filter", str(archive), "-o", str(out), "--metadata", "x"])
        assert result.exit_code == 2 and "is not KEY=VALUE" in result.stderr
        result = runner.invoke(cli, ["filter", str(archive), "-o", str(out), "--type", "pic"])
        assert result.exit_code == 2 and "Invalid value for '--type'" in result.stderr
        result = runner.invoke(cli, ["filter", str(archive), "-o", str(out), "--limit", "-1"])
        assert result.exit_code == 2
        assert not out.exists() and leftovers(tmp_path) == []


class TestEmptyAndUnknown:
    """A filter that would write no input, or names no known concept, writes nothing."""

    def test_unknown_concept_lists_the_closest(self, archive, tmp_path):
        out = tmp_path / "out.zip"
        with pytest.raises(UnknownConceptError) as caught:
            filter_inputs(archive, out, criteria=FilterCriteria(concepts=("cats",)))
        message = str(caught.value)
        assert "no concept 'cats'" in message and "did you mean 'cat'" in message
        assert "concepts here: car, cat (Cat), dog (Dog)" in message
        assert not out.exists() and leftovers(tmp_path) == []

    def test_unknown_concept_is_an_error_even_with_allow_empty(self, archive, tmp_path):
        criteria = FilterCriteria(concepts=("cat",), no_concepts=("nosuch",))
        with pytest.raises(UnknownConceptError, match="no concept 'nosuch'"):
            filter_inputs(archive, tmp_path / "o.zip", criteria=criteria, allow_empty=True)

    def test_no_match_is_an_error_unless_allow_empty(self, archive, tmp_path):
        out = tmp_path / "out.zip"
        criteria = FilterCriteria(concepts=("car",), types=("image",))
        with pytest.raises(EmptyResultError) as caught:
            filter_inputs(archive, out, criteria=criteria)
        assert str(caught.value) == (
            f"{archive}: the output would hold no inputs: none of the 9 inputs matches "
            "concepts 'car'; types 'image'; nothing was written (pass allow_empty=True to "
            "write an empty archive)"
        )
        assert caught.value.params == ("allow_empty=True",)  # the CLI says --allow-empty
        assert not out.exists()
        report = filter_inputs(archive, out, criteria=criteria, allow_empty=True)
        assert report.inputs_written == 0 and read_ids(out) == []

    def test_negative_label_only_is_known_but_matches_nothing(self, make_archive, tmp_path):
        src = make_archive([make_input("a", image_bytes=b"1", concepts=[("cat", 0.0)])])
        with pytest.raises(EmptyResultError, match="none of the 1 inputs matches concepts 'Cat'"):
            filter_inputs(src, tmp_path / "o.zip", criteria=FilterCriteria(concepts=("Cat",)))

    def test_cli(self, archive, tmp_path, runner):
        out = tmp_path / "out.zip"
        result = runner.invoke(cli, ["filter", str(archive), "--concept", "nosuch", "-o", str(out)])
        assert result.exit_code == 1 and result.stdout == ""
        assert result.stderr.startswith(f"Error: {archive}: no concept 'nosuch'")
        assert result.stderr.count("\n") == 1 and not out.exists()
        result = runner.invoke(cli, ["filter", str(archive), "--limit", "0", "-o", str(out)])
        assert result.exit_code == 1 and "the limit is 0" in result.stderr
        assert result.stderr.count("\n") == 1 and not out.exists()
        args = ["filter", str(archive), "--limit", "0", "-o", str(out), "--allow-empty"]
        assert runner.invoke(cli, args).exit_code == 0
        info = runner.invoke(cli, ["info", str(out), "--json"])
        assert info.exit_code == 0, info.stderr
        assert json.loads(info.stdout)["inputs_count"] == 0
