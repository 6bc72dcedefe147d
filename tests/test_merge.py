"""merge_archives: policies, report, order, streaming copies, safety of sources and outputs."""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from pathlib import Path

import pytest
from helpers import make_input
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from merge_helpers import (
    entry_names,
    grpc_inputs,
    hashes,
    leftovers,
    read_ids,
    read_inputs,
    sdk_ids,
    wire,
    with_unknown_field,
)

from toolkit.archive import write_archive
from toolkit.errors import ArchiveError, ConflictError, EmptyResultError, OutputError
from toolkit.merge import MergeReport, merge_archives, renamed_id
from toolkit.messages import Input


def _img(input_id: str, media: bytes = b"m", concepts=(("cat", 1.0),), boxes=()) -> Input:
    return make_input(input_id, image_bytes=media, concepts=concepts, boxes=boxes)


def _check_counts(report: MergeReport) -> None:
    assert report.inputs_read == (
        report.added
        + len(report.identical)
        + len(report.skipped)
        + len(report.overwritten)
        + len(report.annotations_merged)
    )


@pytest.fixture(name="ab")
def _ab(make_archive):
    """a.zip: x0..x4 (cat); b.zip: x3..x7 (dog), so x3 and x4 conflict."""
    a = make_archive([_img(f"x{i}", b"m%d" % i) for i in range(5)], "a.zip", batch_size=2)
    b = make_archive(
        [_img(f"x{i}", b"m%d" % i, concepts=[("dog", 1.0)]) for i in range(3, 8)],
        "b.zip",
        batch_size=2,
    )
    return a, b


class TestPolicies:
    def test_disjoint_merge_keeps_every_input_in_order(self, make_archive, tmp_path):
        a_inputs = [_img(f"a{i}", b"%d" % i) for i in range(7)]
        b_inputs = [_img(f"b{i}", b"%d" % i) for i in range(5)]
        a = make_archive(a_inputs, "a.zip", batch_size=3)
        b = make_archive(b_inputs, "b.zip", batch_size=2)
        out = tmp_path / "out.zip"
        report = merge_archives([a, b], out)
        got = read_inputs(out)
        assert [wire(r) for r in got] == [wire(r) for r in a_inputs + b_inputs]
        assert report.added == 12 and report.inputs_read == 12
        assert [(s.path, s.inputs) for s in report.sources] == [(str(a), 7), (str(b), 5)]
        assert not (report.identical or report.skipped or report.overwritten or report.renamed)
        _check_counts(report)
        # Each source starts a new batch; batches of 128 hold the rest.
        assert entry_names(out) == [
            "mimetype",
            "all/input-batch-000000_n7",
            "all/input-batch-000001_n5",
        ]

    def test_error_names_ids_archives_and_policies_and_writes_nothing(self, ab, tmp_path):
        a, b = ab
        before = hashes([a, b])
        out = tmp_path / "out.zip"
        with pytest.raises(ConflictError) as info:
            merge_archives([a, b], out)
        message = str(info.value)
        assert message.startswith(
            f"2 input ids have different inputs in {a} and {b}: 'x3', 'x4'; nothing was written."
        )
        assert "on_conflict='skip'" in message and "on_conflict='overwrite'" in message
        assert "on_conflict='rename'" in message and "merge_annotations=True" in message
        # The command line names its flags in their place.
        from toolkit.cli._flags import in_flags

        assert "--on-conflict skip (the first)" in in_flags(info.value)
        assert "--merge-annotations when" in in_flags(info.value)
        assert "nothing was written" in message
        assert not out.exists() and leftovers(tmp_path) == []
        assert hashes([a, b]) == before

    def test_skip_keeps_the_first(self, ab, tmp_path):
        a, b = ab
        out = tmp_path / "out.zip"
        report = merge_archives([a, b], out, on_conflict="skip")
        got = read_inputs(out)
        assert [r.id for r in got] == ["x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7"]
        assert [c.id for r in got[:5] for c in r.data.concepts] == ["cat"] * 5
        assert [tuple(s) for s in report.skipped] == [("x3", str(b)), ("x4", str(b))]
        assert report.added == 8
        _check_counts(report)

    def test_overwrite_keeps_the_last_in_its_place(self, ab, tmp_path):
        a, b = ab
        out = tmp_path / "out.zip"
        report = merge_archives([a, b], out, on_conflict="overwrite")
        got = read_inputs(out)
        # x3 and x4 now come from b, where b has them.
        assert [r.id for r in got] == ["x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7"]
        assert [r.data.concepts[0].id for r in got] == ["cat"] * 3 + ["dog"] * 5
        assert [tuple(s) for s in report.overwritten] == [("x3", str(a)), ("x4", str(a))]
        _check_counts(report)

    def test_overwrite_moves_to_the_position_of_the_last(self, make_archive, tmp_path):
        a = make_archive([_img("k"), _img("p", b"p")], "a.zip")
        b = make_archive([_img("q", b"q"), _img("k", b"other")], "b.zip")
        out = tmp_path / "out.zip"
        merge_archives([a, b], out, on_conflict="overwrite")
        got = read_inputs(out)
        assert [r.id for r in got] == ["p", "q", "k"]
        assert got[2].data.image.base64 == b"other"

    def test_rename_keeps_both_with_a_deterministic_id(self, ab, tmp_path):
        a, b = ab
        out = tmp_path / "out.zip"
        report = merge_archives([a, b], out, on_conflict="rename")
        got = read_inputs(out)
        assert [r.id for r in got] == [
            "x0",
            "x1",
            "x2",
            "x3",
            "x4",
            "x3~2",
            "x4~2",
            "x5",
            "x6",
            "x7",
        ]
        assert got[5].data.concepts[0].id == "dog"
        assert [tuple(r) for r in report.renamed] == [
            ("x3", "x3~2", str(b)),
            ("x4", "x4~2", str(b)),
        ]
        assert report.added == 10
        _check_counts(report)
        # The same merge gives the same bytes.
        again = tmp_path / "again.zip"
        merge_archives([a, b], again, on_conflict="rename")
        assert again.read_bytes() == out.read_bytes()

    def test_rename_avoids_ids_that_exist(self, make_archive, tmp_path):
        a = make_archive([_img("k"), _img("k~2", b"2"), _img("k~4", b"4")], "a.zip")
        b = make_archive([_img("k", b"b1"), _img("k", b"b2")], "b.zip")
        c = make_archive([_img("k~3", b"3")], "c.zip")
        out = tmp_path / "out.zip"
        report = merge_archives([a, b, c], out, on_conflict="rename")
        assert read_ids(out) == ["k", "k~2", "k~4", "k~5", "k~6", "k~3"]
        assert [r.new_id for r in report.renamed] == ["k~5", "k~6"]
        assert renamed_id("k", 5) == "k~5"

    def test_identical_inputs_are_kept_once_and_counted(self, sample_archive, tmp_path):
        out = tmp_path / "out.zip"
        report = merge_archives([sample_archive, sample_archive], out)
        assert [wire(r) for r in read_inputs(out)] == [wire(r) for r in read_inputs(sample_archive)]
        assert report.added == 31 and len(report.identical) == 31
        assert report.identical[0] == ("img-0001", str(sample_archive))
        _check_counts(report)

    def test_conflict_inside_one_source(self, make_archive, tmp_path):
        a = make_archive([_img("k"), _img("j", b"j"), _img("k", b"other"), _img("k")], "a.zip")
        with pytest.raises(
            ConflictError, match=rf"^1 input id has different inputs twice in {a}: 'k';"
        ):
            merge_archives([a], tmp_path / "out.zip")
        b = make_archive([_img("j", b"other")], "b.zip")
        with pytest.raises(ConflictError) as info:
            merge_archives([a, b], tmp_path / "out.zip")
        assert str(info.value).startswith(
            f"2 input ids have different inputs: 'k' twice in {a}; 'j' in {a} and {b}; nothing"
        )
        report = merge_archives([a], tmp_path / "skip.zip", on_conflict="skip")
        assert read_ids(tmp_path / "skip.zip") == ["k", "j"]
        assert [s.id for s in report.skipped] == ["k"] and [s.id for s in report.identical] == ["k"]
        merge_archives([a], tmp_path / "rename.zip", on_conflict="rename")
        assert read_ids(tmp_path / "rename.zip") == ["k", "j", "k~2"]

    def test_three_way(self, make_archive, tmp_path):
        # x: v1 in a, v2 in b, v1 again in c; y: v1 in a and c, v2 in b.
        a = make_archive([_img("x", b"1"), _img("y", b"1"), _img("a")], "a.zip")
        b = make_archive([_img("x", b"2"), _img("b"), _img("y", b"2")], "b.zip")
        c = make_archive([_img("y", b"1"), _img("c"), _img("x", b"1")], "c.zip")
        sources = [a, b, c]
        with pytest.raises(ConflictError, match="2 input ids"):
            merge_archives(sources, tmp_path / "e.zip")

        skip = merge_archives(sources, tmp_path / "s.zip", on_conflict="skip")
        assert read_ids(tmp_path / "s.zip") == ["x", "y", "a", "b", "c"]
        assert [tuple(s) for s in skip.skipped] == [("x", str(b)), ("y", str(b))]
        assert [tuple(s) for s in skip.identical] == [("y", str(c)), ("x", str(c))]

        over = merge_archives(sources, tmp_path / "o.zip", on_conflict="overwrite")
        got = read_inputs(tmp_path / "o.zip")
        # The last version of x and y (v1, from c) is kept where c has it.
        assert [r.id for r in got] == ["a", "b", "y", "c", "x"]
        assert got[2].data.image.base64 == b"1" and got[4].data.image.base64 == b"1"
        assert [tuple(s) for s in over.overwritten] == [
            ("x", str(a)),
            ("y", str(a)),
            ("x", str(b)),
            ("y", str(b)),
        ]
        assert over.identical == ()
        _check_counts(over)

        ren = merge_archives(sources, tmp_path / "r.zip", on_conflict="rename")
        assert read_ids(tmp_path / "r.zip") == ["x", "y", "a", "x~2", "b", "y~2", "c"]
        assert [tuple(s) for s in ren.identical] == [("y", str(c)), ("x", str(c))]
        _check_counts(ren)

    def test_unknown_policy_and_arguments(self, ab, tmp_path):
        a, b = ab
        with pytest.raises(ValueError, match="unknown on_conflict"):
            merge_archives([a, b], tmp_path / "o.zip", on_conflict="newest")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="at least one source"):
            merge_archives([], tmp_path / "o.zip")
        with pytest.raises(ValueError, match="batch_size"):
            merge_archives([a], tmp_path / "o.zip", batch_size=0)
        assert leftovers(tmp_path) == [] and not (tmp_path / "o.zip").exists()


class TestMergeAnnotations:
    def test_union_of_concepts_and_regions(self, make_archive, tmp_path):
        first = _img(
            "k", b"same", concepts=[("cat", 1.0), ("dog", 0.0)], boxes=[("cat", 0, 0, 1, 1)]
        )
        second = _img("k", b"same", concepts=[("dog", 1.0), ("cow", 1.0)])
        second.data.regions.add().CopyFrom(first.data.regions[0])  # same region id: once
        extra = second.data.regions.add(id="k-extra")
        extra.region_info.point.row = 0.5
        a = make_archive([first, _img("j")], "a.zip")
        b = make_archive([second], "b.zip")
        out = tmp_path / "out.zip"
        report = merge_archives([a, b], out, merge_annotations=True)
        got = read_inputs(out)
        assert [r.id for r in got] == ["k", "j"]
        merged = got[0]
        # The kept input's labels win (dog stays negative); new concept ids are added.
        assert [(c.id, c.value) for c in merged.data.concepts] == [
            ("cat", 1.0),
            ("dog", 0.0),
            ("cow", 1.0),
        ]
        assert [r.id for r in merged.data.regions] == ["k-r0", "k-extra"]
        assert merged.data.image.base64 == b"same"
        assert [tuple(m) for m in report.annotations_merged] == [("k", str(b))]
        assert report.added == 2
        _check_counts(report)

    def test_same_hosted_url_is_the_same_media(self, make_archive, tmp_path):
        one = Input(id="h")
        one.data.image.hosted.prefix = "https://data.clarifai.com"
        one.data.image.hosted.suffix = "users/u/apps/a/inputs/image/abc"
        one.data.concepts.add(id="cat", value=1.0)
        two = Input()
        two.CopyFrom(one)
        del two.data.concepts[:]
        two.data.concepts.add(id="dog", value=1.0)
        a = make_archive([one], "a.zip")
        b = make_archive([two], "b.zip")
        merge_archives([a, b], tmp_path / "out.zip", merge_annotations=True)
        (got,) = read_inputs(tmp_path / "out.zip")
        assert [c.id for c in got.data.concepts] == ["cat", "dog"]

    def test_different_media_is_a_conflict(self, make_archive, tmp_path):
        a = make_archive([_img("k", b"one")], "a.zip")
        b = make_archive([_img("k", b"two", concepts=[("dog", 1.0)])], "b.zip")
        with pytest.raises(ConflictError):
            merge_archives([a, b], tmp_path / "out.zip", merge_annotations=True)
        report = merge_archives(
            [a, b], tmp_path / "r.zip", merge_annotations=True, on_conflict="rename"
        )
        assert read_ids(tmp_path / "r.zip") == ["k", "k~2"]
        assert report.annotations_merged == ()

    def test_merged_then_identical_then_overwritten(self, make_archive, tmp_path):
        a = make_archive([_img("k", b"m", concepts=[("cat", 1.0)])], "a.zip")
        b = make_archive([_img("k", b"m", concepts=[("dog", 1.0)])], "b.zip")
        c = make_archive([_img("k", b"m", concepts=[("dog", 1.0)])], "c.zip")
        d = make_archive([_img("k", b"new", concepts=[("cow", 1.0)])], "d.zip")
        report = merge_archives([a, b, c], tmp_path / "abc.zip", merge_annotations=True)
        assert [tuple(x) for x in report.annotations_merged] == [("k", str(b))]
        assert [tuple(x) for x in report.identical] == [("k", str(c))]
        (got,) = read_inputs(tmp_path / "abc.zip")
        assert [c.id for c in got.data.concepts] == ["cat", "dog"]
        # A later input with other media overwrites the merged one, and what was merged.
        over = merge_archives(
            [a, b, d], tmp_path / "abd.zip", merge_annotations=True, on_conflict="overwrite"
        )
        (got,) = read_inputs(tmp_path / "abd.zip")
        assert [c.id for c in got.data.concepts] == ["cow"]
        assert [tuple(x) for x in over.overwritten] == [("k", str(a)), ("k", str(b))]
        assert over.annotations_merged == ()
        _check_counts(over)

    def test_merging_into_a_renamed_version(self, make_archive, tmp_path):
        a = make_archive([_img("k", b"1", concepts=[("cat", 1.0)])], "a.zip")
        b = make_archive([_img("k", b"2", concepts=[("dog", 1.0)])], "b.zip")
        c = make_archive([_img("k", b"2", concepts=[("cow", 1.0)])], "c.zip")
        report = merge_archives(
            [a, b, c], tmp_path / "out.zip", merge_annotations=True, on_conflict="rename"
        )
        got = read_inputs(tmp_path / "out.zip")
        assert [(r.id, [c.id for c in r.data.concepts]) for r in got] == [
            ("k", ["cat"]),
            ("k~2", ["dog", "cow"]),
        ]
        assert [tuple(x) for x in report.annotations_merged] == [("k", str(c))]


# -- a reference model, checked against the real thing on random merges ----------------


def _model(sources: list[list[Input]], policy: str, merge: bool):
    """The documented semantics, written the obvious way, all in memory."""

    class Slot:
        def __init__(self, pos, source, record):
            self.pos, self.source, self.record = pos, source, record
            self.digests = {wire(record)}
            self.extras: list[Input] = []
            self.merged: list[tuple[int, str, int]] = []
            self.alive = True
            self.renamed = False

    slots: list[Slot] = []
    kept: dict[str, list[Slot]] = {}
    events: dict[str, list[tuple[int, str, int]]] = {
        k: [] for k in ("identical", "skipped", "overwritten", "merged")
    }
    conflict = False
    pos = 0
    for s, records in enumerate(sources):
        for record in records:
            digest = wire(record)
            versions = kept.get(record.id)
            if not versions:
                slot = Slot(pos, s, record)
                slots.append(slot)
                kept[record.id] = [slot]
            elif any(digest in v.digests for v in versions):
                events["identical"].append((pos, record.id, s))
            elif merge and any(
                v.record.data.image.base64 == record.data.image.base64 for v in versions
            ):
                target = next(
                    v for v in versions if v.record.data.image.base64 == record.data.image.base64
                )
                target.digests.add(digest)
                target.extras.append(record)
                target.merged.append((pos, record.id, s))
                events["merged"].append((pos, record.id, s))
            elif policy == "error":
                conflict = True
            elif policy == "skip":
                events["skipped"].append((pos, record.id, s))
            elif policy == "overwrite":
                old = versions[0]
                old.alive = False
                events["overwritten"].append((old.pos, record.id, old.source))
                for item in old.merged:
                    events["merged"].remove(item)
                    events["overwritten"].append(item)
                slot = Slot(pos, s, record)
                slots.append(slot)
                kept[record.id] = [slot]
            else:
                slot = Slot(pos, s, record)
                slot.renamed = True
                slots.append(slot)
                versions.append(slot)
            pos += 1
    if conflict:
        return None
    all_ids = {r.id for records in sources for r in records}
    assigned: set[str] = set()
    out = []
    renamed = []
    for slot in sorted((s for s in slots if s.alive), key=lambda s: s.pos):
        record = Input()
        record.CopyFrom(slot.record)
        if slot.renamed:
            n = 2
            while f"{record.id}~{n}" in all_ids | assigned:
                n += 1
            assigned.add(f"{record.id}~{n}")
            renamed.append((record.id, f"{record.id}~{n}", slot.source))
            record.id = f"{record.id}~{n}"
        for extra in slot.extras:
            have = {c.id for c in record.data.concepts}
            for c in extra.data.concepts:
                if c.id not in have:
                    record.data.concepts.add().CopyFrom(c)
                    have.add(c.id)
            regions = {r.id for r in record.data.regions}
            for r in extra.data.regions:
                if r.id not in regions:
                    record.data.regions.add().CopyFrom(r)
                    regions.add(r.id)
        out.append(wire(record))
    lists = {k: [(i, s) for _, i, s in sorted(v)] for k, v in events.items()}
    return out, lists, renamed


_record = st.builds(
    lambda input_id, media, labels, regions: _img(
        input_id,
        media,
        concepts=[(c, 1.0) for c in labels],
        boxes=[(c, 0.1, 0.1, 0.5, 0.5) for c in regions],
    ),
    st.sampled_from(["a", "b", "a~2"]),
    st.sampled_from([b"m1", b"m2"]),
    st.lists(st.sampled_from(["cat", "dog", "cow"]), max_size=2, unique=True),
    st.lists(st.sampled_from(["cat", "dog"]), max_size=2),
)


@settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    sources=st.lists(
        st.tuples(st.lists(_record, max_size=6), st.integers(min_value=1, max_value=3)),
        min_size=1,
        max_size=3,
    ),
    policy=st.sampled_from(["error", "skip", "overwrite", "rename"]),
    merge=st.booleans(),
    batch_size=st.sampled_from([1, 2, 3, 128, None]),
    flavour=st.sampled_from(["protobuf", "protobuf", "json"]),
    out_flavour=st.sampled_from(["protobuf", "protobuf", "json"]),
)
def test_matches_the_reference_model(sources, policy, merge, batch_size, flavour, out_flavour):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = []
        for n, (records, source_batch) in enumerate(sources):
            path = folder / f"s{n}.zip"
            write_archive(path, records, batch_size=source_batch, flavour=flavour)
            paths.append(path)
        before = hashes(paths)
        out = folder / "out.zip"
        expected = _model([records for records, _ in sources], policy, merge)
        if expected is None:
            with pytest.raises(ConflictError):
                merge_archives(
                    paths, out, on_conflict=policy, merge_annotations=merge, batch_size=batch_size
                )
            assert not out.exists()
        else:
            if not any(records for records, _ in sources):
                with pytest.raises(EmptyResultError, match="would hold no inputs"):
                    merge_archives(paths, out, on_conflict=policy, merge_annotations=merge)
                assert not out.exists()
            report = merge_archives(
                paths,
                out,
                on_conflict=policy,
                merge_annotations=merge,
                allow_empty=True,
                batch_size=batch_size,
                flavour=out_flavour,
            )
            want, lists, renamed = expected
            assert [wire(r) for r in read_inputs(out)] == want
            names = {n: str(p) for n, p in enumerate(paths)}
            assert [tuple(x) for x in report.identical] == [
                (i, names[s]) for i, s in lists["identical"]
            ]
            assert [tuple(x) for x in report.skipped] == [
                (i, names[s]) for i, s in lists["skipped"]
            ]
            assert [tuple(x) for x in report.overwritten] == [
                (i, names[s]) for i, s in lists["overwritten"]
            ]
            assert [tuple(x) for x in report.annotations_merged] == [
                (i, names[s]) for i, s in lists["merged"]
            ]
            assert [tuple(x) for x in report.renamed] == [
                (i, new, names[s]) for i, new, s in renamed
            ]
            assert report.added == len(want)
            _check_counts(report)
        assert hashes(paths) == before
        assert leftovers(folder) == []


# -- formats, readers, streams ----------------------------------------------------------


class TestOutputs:
    def test_read_by_the_official_sdk_and_clarifai_grpc(self, sample_archive, ab, tmp_path):
        a, b = ab
        out = tmp_path / "out.zip"
        merge_archives([sample_archive, a, b], out, on_conflict="rename", batch_size=10)
        ours = read_inputs(out)
        assert sdk_ids(out) == [r.id for r in ours]
        assert len(ours) == 31 + 10
        theirs = grpc_inputs(out)
        assert [t.SerializeToString(deterministic=True) for t in theirs] == [wire(r) for r in ours]

    def test_json_sources_and_json_output(self, sample_archive, sample_json_archive, tmp_path):
        out = tmp_path / "out.zip"
        report = merge_archives([sample_json_archive, sample_archive], out)
        # The JSON sample holds the same inputs as the protobuf one.
        assert report.added == 31 and len(report.identical) == 31
        assert [wire(r) for r in read_inputs(out)] == [wire(r) for r in read_inputs(sample_archive)]
        as_json = tmp_path / "out-json.zip"
        merge_archives([sample_archive], as_json, flavour="json")
        with zipfile.ZipFile(as_json) as zf:
            assert zf.read("mimetype") == b"application/x.clarifai-data+json"
        assert [wire(r) for r in read_inputs(as_json)] == [
            wire(r) for r in read_inputs(sample_archive)
        ]

    def test_unchanged_inputs_are_copied_byte_for_byte_unknown_fields_too(
        self, make_archive, tmp_path
    ):
        records = [with_unknown_field(_img(f"u{i}", b"%d" % i)) for i in range(5)]
        a = make_archive(records, "a.zip", batch_size=2)
        b = make_archive([with_unknown_field(_img("u1", b"other"))], "b.zip")
        out = tmp_path / "out.zip"
        merge_archives([a, b], out, on_conflict="rename", batch_size=3)
        got = read_inputs(out)
        assert [r.id for r in got] == ["u0", "u1", "u2", "u3", "u4", "u1~2"]
        for record in got:
            assert wire(record).endswith(b"\xb8\x3e\x07")  # field 999 = 7 survives
        assert [wire(r) for r in got[:5]] == [wire(r) for r in records]

    @pytest.mark.parametrize("batch_size", [1, 2, 5, 128, None])
    def test_batch_sizes(self, make_archive, tmp_path, batch_size):
        a = make_archive([_img(f"a{i}", b"%d" % i) for i in range(7)], "a.zip", batch_size=3)
        b = make_archive([_img("a2", b"2"), _img("b")], "b.zip", batch_size=4)
        out = tmp_path / "out.zip"
        merge_archives([a, b], out, batch_size=batch_size)
        assert read_ids(out) == [f"a{i}" for i in range(7)] + ["b"]
        counts = [int(n.rsplit("_n", 1)[1]) for n in entry_names(out)[1:]]
        if batch_size is None:
            assert counts == [3, 3, 1, 1]  # the sources' batches, less a2 (identical)
        else:
            assert all(c <= batch_size for c in counts) and sum(counts) == 8

    def test_streams_in_and_out(self, ab):
        a, b = ab
        sink = io.BytesIO()
        report = merge_archives(
            [io.BytesIO(a.read_bytes()), io.BytesIO(b.read_bytes())], sink, on_conflict="skip"
        )
        assert report.sources[0].path == "<stream 1>" and report.output == "<stream>"
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "from-stream.zip"
            path.write_bytes(sink.getvalue())
            assert read_ids(path) == [f"x{i}" for i in range(8)]

    def test_progress_adds_up_to_the_inputs(self, ab, sample_archive, tmp_path):
        a, b = ab
        for policy, sources in (("error", [sample_archive, a]), ("skip", [a, b, a])):
            steps: list[int] = []
            report = merge_archives(
                sources, tmp_path / f"{policy}.zip", on_conflict=policy, progress=steps.append
            )
            assert sum(steps) == report.inputs_read and all(s > 0 for s in steps)

    def test_empty_source(self, make_archive, ab, tmp_path):
        a, _ = ab
        empty = make_archive([], "empty.zip")
        report = merge_archives([empty, a], tmp_path / "out.zip")
        assert report.sources[0].inputs == 0 and report.added == 5


class TestSafety:
    def test_output_is_a_source(self, ab, tmp_path):
        a, b = ab
        before = hashes([a, b])
        link = tmp_path / "link.zip"
        link.symlink_to(a)
        hard = tmp_path / "hard.zip"
        os.link(b, hard)
        for output in (a, link, hard, tmp_path / "." / "a.zip"):
            with pytest.raises(OutputError, match="sources are never modified"):
                merge_archives([a, b], output, on_conflict="skip")
        assert hashes([a, b]) == before
        assert leftovers(tmp_path) == []

    def test_existing_output_is_replaced_atomically(self, ab, tmp_path):
        a, b = ab
        out = tmp_path / "out.zip"
        out.write_bytes(b"old")
        with pytest.raises(ConflictError):
            merge_archives([a, b], out)
        assert out.read_bytes() == b"old"
        merge_archives([a, b], out, on_conflict="skip")
        assert read_ids(out)[0] == "x0"

    @pytest.mark.parametrize("policy", ["error", "skip"])
    def test_damaged_second_source_leaves_no_output(self, make_archive, tmp_path, policy):
        a = make_archive([_img(f"a{i}", b"%d" % i) for i in range(6)], "a.zip", batch_size=2)
        # b repeats a0 (forcing the later passes for "skip") and has a damaged last batch.
        b = make_archive([_img("a0"), _img("b1"), _img("b2"), _img("b3")], "b.zip", batch_size=2)
        data = bytearray(b.read_bytes())
        with zipfile.ZipFile(b) as zf:
            info = zf.getinfo("all/input-batch-000001_n2")
        start = info.header_offset + 30 + len(info.filename)
        data[start + 3] ^= 0xFF  # the CRC no longer matches
        b.write_bytes(bytes(data))
        before = hashes([a, b])
        out = tmp_path / "out.zip"
        with pytest.raises(ArchiveError, match="input-batch-000001_n2"):
            merge_archives([a, b], out, on_conflict=policy)
        assert not out.exists() and leftovers(tmp_path) == []
        assert hashes([a, b]) == before

    def test_unreadable_source(self, ab, tmp_path):
        a, _ = ab
        bad = tmp_path / "bad.zip"
        bad.write_bytes(b"not a zip")
        with pytest.raises(ArchiveError, match="not a zip archive"):
            merge_archives([a, bad], tmp_path / "out.zip")
        with pytest.raises(ArchiveError, match="no such file"):
            merge_archives([a, tmp_path / "missing.zip"], tmp_path / "out.zip")
        assert not (tmp_path / "out.zip").exists() and leftovers(tmp_path) == []

    def test_output_folder_missing(self, ab, tmp_path):
        a, b = ab
        with pytest.raises(OutputError):
            merge_archives([a, b], tmp_path / "nope" / "out.zip", on_conflict="skip")
