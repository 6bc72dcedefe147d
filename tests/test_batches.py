"""The one batch pipeline (toolkit.batches): the same batches, results and errors with
worker processes as without; metrics and index vectors gathered through it."""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import fork_helpers
import numpy as np
import pytest
from convert_helpers import varied_inputs, write_raw_archive

from toolkit import batches
from toolkit.archive import ArchiveReader
from toolkit.batches import iter_batches, refuse_repeated_ids, require_inputs
from toolkit.convert import convert_archives
from toolkit.errors import ConflictError, EmptyArchiveError, SchemaError
from toolkit.index._collect import Collector, collect, extract_embeddings
from toolkit.index._store import VectorWriter
from toolkit.messages import Input
from toolkit.metrics import archive_metrics, compute_metrics

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="worker processes are forked on Linux only"
)


@pytest.fixture(autouse=True)
def _small_ranges(monkeypatch) -> None:
    """Ranges of 3 entries, so that small archives make many ranges (and several are in
    flight); two usable CPUs at least, so that workers are used on any machine."""
    monkeypatch.setattr(batches, "RANGE_ENTRIES", 3)
    monkeypatch.setattr(batches, "usable_cpus", lambda: 4)


@pytest.fixture(name="forking")
def _forking(request: pytest.FixtureRequest) -> Iterator[bool]:
    """True: the test runs here; False: it passed in a fresh interpreter (see
    :func:`fork_helpers.forking`)."""
    yield from fork_helpers.forking(request)


def _summary(batch: batches.Batch) -> tuple[int, str, list[str], int]:
    return (os.getpid(), batch.entry.name, batch.input_ids(), batch.count)


@linux_only
def test_workers_give_the_same_batches_in_order(forking, make_archive) -> None:
    if not forking:
        return
    first = make_archive(varied_inputs(50, seed=1), "a.zip", batch_size=4)
    renamed = [Input(id=f"b-{r.id}", data=r.data) for r in varied_inputs(23, seed=2)]
    second = make_archive(renamed, "b.zip", batch_size=5, flavour="json")
    with ArchiveReader(first) as a, ArchiveReader(second) as b:
        here = [
            (x.source_index, x.entry.name, x.ids, x.count, x.result[1:])
            for x in iter_batches([a, b], work=_summary)
        ]
        there = list(iter_batches([a, b], work=_summary, workers=3))
    assert [(x.source_index, x.entry.name, x.ids, x.count, x.result[1:]) for x in there] == here
    pids = {x.result[0] for x in there}
    assert os.getpid() not in pids and 1 <= len(pids) <= 3
    assert len(here) == 13 + 5
    assert multiprocessing.active_children() == []


@linux_only
def test_fewer_than_two_cpus_means_no_worker_process(make_archive, monkeypatch) -> None:
    monkeypatch.setattr(batches, "usable_cpus", lambda: 1)
    source = make_archive(varied_inputs(20), "a.zip", batch_size=3)
    with ArchiveReader(source) as reader:
        pids = {x.result[0] for x in iter_batches([reader], work=_summary, workers=8)}
    assert pids == {os.getpid()}


@linux_only
def test_an_error_in_a_worker_comes_in_order_after_the_batches_before(
    forking, make_archive
) -> None:
    if not forking:
        return
    source = make_archive(varied_inputs(30), "a.zip", batch_size=2)
    seen = []

    def fail_at_seven(batch: batches.Batch) -> int:
        if batch.entry.index == 7:
            raise SchemaError(f"{batch.source}: entry {batch.entry.name!r}: no")
        return batch.count

    with ArchiveReader(source) as reader, pytest.raises(SchemaError, match="entry.*: no"):
        for batch in iter_batches([reader], work=fail_at_seven, workers=2):
            seen.append(batch.entry.index)
    assert seen == list(range(7))
    assert multiprocessing.active_children() == []


def test_steps_refuse_repeated_ids_and_empty_sources(make_archive, tmp_path: Path) -> None:
    records = varied_inputs(6)
    source = make_archive([*records, records[2]], "a.zip", batch_size=3)
    with ArchiveReader(source) as reader:
        steps = refuse_repeated_ids(iter_batches([reader]), [reader])
        with pytest.raises(ConflictError, match="'in-002' appears twice"):
            list(steps)
    empty = write_raw_archive(tmp_path / "empty.zip", [b"", b""])  # two empty batches
    with ArchiveReader(empty, allow_empty=False) as reader, ArchiveReader(source) as full:
        assert len(list(require_inputs(iter_batches([full])))) == 3
        with pytest.raises(EmptyArchiveError, match="empty.zip: the archive holds no inputs"):
            list(require_inputs(iter_batches([full, reader])))
    with ArchiveReader(empty, allow_empty=True) as reader:
        assert len(list(require_inputs(iter_batches([reader])))) == 2


@linux_only
@pytest.mark.parametrize("workers", [1, 3])
def test_archive_metrics_match_counting_one_input_at_a_time(forking, make_archive, workers) -> None:
    if not forking:
        return
    records = varied_inputs(40, seed=4)
    records[5].data.concepts[0].name = ""  # a name first seen later still wins
    source = make_archive(records, "a.zip", batch_size=3)
    with ArchiveReader(source) as reader:
        got = archive_metrics(reader, workers=workers)
    assert got.to_dict() == compute_metrics(records).to_dict()
    assert got.inputs_count == 40


def _awkward_inputs() -> list[Input]:
    """Inputs whose embeddings are bad in every way (empty, mis-declared, other size,
    NaN), missing, or repeated."""
    rng = np.random.default_rng(7)
    records = []
    for n in range(60):
        record = Input(id=f"in-{n:03d}")
        kind = n % 9
        if kind != 8:
            size = {3: 5, 4: 0}.get(kind, 6)
            vector = rng.standard_normal(size).astype(np.float32)
            if kind == 5:
                vector[1] = np.nan
            declared = 7 if kind == 6 else size
            record.data.embeddings.add(vector=vector.tolist(), num_dimensions=declared)
        records.append(record)
    records.append(records[10])  # the same id with the same vector
    records += [Input(id="none-1"), Input(id="none-2")]
    for n in range(7):  # a batch of one size, not the index's (63-69 below)
        record = Input(id=f"five-{n}")
        record.data.embeddings.add(vector=[1.0, 2.0, 3.0, 4.0, float(n)], num_dimensions=5)
        records.append(record)
    for n in range(6):  # a batch of the index's size (70-76): one NaN, one zero, a repeat
        record = Input(id=f"six-{n}")
        vector = [0.0] * 6 if n == 1 else [1.0, 2.0, float("nan") if n == 2 else 3.0, 0.0, 1.0, n]
        record.data.embeddings.add(vector=vector)
        records.append(record)
    records.append(records[0])
    return records


def test_extracted_embeddings_give_the_same_outcome_as_parsed_ones(tmp_path: Path) -> None:
    records = _awkward_inputs()
    outcomes = []
    for how in ("parsed", "extracted", "prepared"):
        writer = VectorWriter(tmp_path / f"{how}.npy")
        collector = Collector(writer, metric="cosine", embedding=0, skip_bad=True)
        for start in range(0, len(records), 7):
            chunk = records[start : start + 7]
            if how == "parsed":
                collector.add_batch(chunk, "a.zip")
            else:
                metric = "cosine" if how == "prepared" else None
                collector.add_extracted(extract_embeddings(chunk, 0, metric), "a.zip")
        writer.finish()
        outcomes.append((collector.stats, collector.ids, np.load(tmp_path / f"{how}.npy")))
    for other in outcomes[1:]:
        assert outcomes[0][0] == other[0]
        assert outcomes[0][1] == other[1]
        assert np.array_equal(outcomes[0][2], other[2])
    assert outcomes[0][0].bad == 27 + 7 + 2 and outcomes[0][0].duplicate_ids == 2


@linux_only
def test_collect_with_workers_writes_the_same_vectors(
    forking, make_archive, tmp_path: Path
) -> None:
    if not forking:
        return
    first = make_archive(_awkward_inputs()[:60], "a.zip", batch_size=4)
    second = make_archive(varied_inputs(30, seed=9), "b.zip", batch_size=4)
    outcomes = []
    for workers in (1, 2):
        writer = VectorWriter(tmp_path / f"w{workers}.npy")
        collector = Collector(writer, metric="l2", embedding=0, skip_bad=True)
        records = collect([first, second], collector, workers=workers)
        writer.finish()
        outcomes.append((records, collector.stats, collector.ids, writer.rows_sha256))
    assert outcomes[0] == outcomes[1]
    assert [r["inputs"] for r in outcomes[0][0]] == [60, 30]
    assert multiprocessing.active_children() == []


def test_metrics_type_rank_and_empty_metadata() -> None:
    both = Input(id="a")
    both.data.text.raw = "t"
    both.data.video.url = "https://example.com/v.mp4"
    empty_meta = Input(id="b")
    empty_meta.data.metadata.SetInParent()
    audio = Input(id="c")
    audio.data.audio.url = "https://example.com/a.wav"
    audio.data.metadata.update({"k": 1})
    metrics = compute_metrics([both, empty_meta, audio])
    assert metrics.input_types == {"audio": 1, "unknown": 1, "video": 1}
    assert metrics.inputs_with_metadata_count == 1
    assert metrics.unlabeled_inputs_count == 3


@linux_only
def test_unknown_fields_and_repeated_ids_are_found_in_workers_too(
    forking, make_archive, tmp_path: Path
) -> None:
    if not forking:
        return
    records = varied_inputs(30, seed=8)
    for n in (4, 17):
        records[n].data.MergeFromString(b"\x98\x06\x01")  # Data field 99, unknown
    source = make_archive(records, "a.zip", batch_size=4)
    reports = [
        convert_archives([source], tmp_path / f"w{w}.jsonl", to="jsonl", workers=w) for w in (1, 2)
    ]
    assert reports[0].unknown_field_examples == ("in-004", "in-017")
    assert reports[1].unknown_field_examples == reports[0].unknown_field_examples
    assert reports[1].unknown_fields == reports[0].unknown_fields == ("Data field 99",)
    assert (tmp_path / "w1.jsonl").read_bytes() == (tmp_path / "w2.jsonl").read_bytes()
    twice = make_archive([*records, records[21]], "b.zip", batch_size=4)
    with pytest.raises(ConflictError, match="'in-021' appears twice"):
        convert_archives([twice], tmp_path / "x.jsonl", to="jsonl", workers=2)
    assert not (tmp_path / "x.jsonl").exists()
    assert multiprocessing.active_children() == []


def _plain_and_odd_batches() -> list[list[Input]]:
    """Batches of 4 inputs: plain ones (every input one 6-d embedding, declared or not),
    and ones the C reader's path leaves to protobuf (an input mis-declaring its size,
    one without an embedding, one with two embeddings, one declaring and one not)."""
    rng = np.random.default_rng(11)

    def make(name: str, declared: int | None = 6, size: int = 6) -> Input:
        record = Input(id=name)
        vector = rng.standard_normal(size).astype(np.float32).tolist()
        if declared is None:
            record.data.embeddings.add(vector=vector)
        else:
            record.data.embeddings.add(vector=vector, num_dimensions=declared)
        return record

    plain = [make(f"p-{n}") for n in range(4)]
    undeclared = [make(f"u-{n}", None) for n in range(4)]
    misdeclared = [make("m-0"), make("m-1", 7), make("m-2"), make("m-3")]
    missing = [make("x-0"), Input(id="x-1"), make("x-2"), make("x-3")]
    two = [make(f"t-{n}") for n in range(4)]
    two[2].data.embeddings.add(vector=[1.0, 2.0], num_dimensions=2)
    mixed = [make("y-0"), make("y-1", None), make("y-2"), make("y-3")]
    bad = [make("z-0"), make("z-1"), make("z-2"), make("z-3")]
    bad[1].data.embeddings[0].vector[2] = float("nan")
    wide = [make(f"w-{n}", 5, 5) for n in range(4)]
    return [plain, undeclared, misdeclared, missing, two, mixed, bad, wide, plain[:0]]


@linux_only
@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_vectors_read_by_the_c_reader_give_the_same_outcome(
    forking, make_archive, tmp_path: Path, monkeypatch, metric: str
) -> None:
    """The index build's work per batch takes plain batches' vectors from the wire bytes
    (C reader, num_dimensions checked through a one-field schema) and leaves the others
    to protobuf: the vectors, ids, counts and problems are those of protobuf alone, in
    one process and with workers (rows in shared memory)."""
    if not forking:
        return
    from toolkit.index import _collect

    records = [r for chunk in _plain_and_odd_batches() for r in chunk]
    source = make_archive(records, "a.zip", batch_size=4)
    used = []
    wire = _collect.wire_embeddings

    def counted(data: bytes, which: int):
        found = wire(data, which)
        used.append(found is not None)
        return found

    outcomes = []
    for how, workers in (("protobuf", 1), ("wire", 1), ("wire", 2)):
        replacement = counted if how == "wire" else (lambda _data, _which: None)
        monkeypatch.setattr(_collect, "wire_embeddings", replacement)
        writer = VectorWriter(tmp_path / f"{how}{workers}.npy")
        collector = Collector(writer, metric=metric, embedding=0, skip_bad=True)
        found = collect([source], collector, workers=workers)
        writer.finish()
        outcomes.append((found, collector.stats, collector.ids, writer.rows_sha256, writer.rows))
    assert outcomes[0] == outcomes[1] == outcomes[2]
    stats = outcomes[0][1]
    assert stats.bad == 1 + 1 + 4  # m-1, z-1 (NaN) and the 5-d batch
    assert stats.no_embedding == 1
    # plain, undeclared, the NaN batch and the 5-d batch by the C reader (and the empty
    # entry, which write_archive does not write); the other four by protobuf
    assert used == [True, True, False, False, False, False, True, True]


def test_scratch_gives_room_until_full() -> None:
    scratch = batches.Scratch(memoryview(bytearray(10)))
    first = scratch.take(6)
    assert first is not None and first[0] == 0 and len(first[1]) == 6
    assert scratch.take(5) is None
    second = scratch.take(4)
    assert second is not None and second[0] == 6
    second[1][:] = b"abcd"
    assert bytes(scratch.get(6, 4)) == b"abcd"


_IN_A_DAEMON = """
import json, multiprocessing, sys
from toolkit import batches
from toolkit.archive import ArchiveReader
from toolkit.distributed.pool import WorkPool
from toolkit.metrics import archive_metrics

batches.usable_cpus = lambda: 4  # workers would be used on any machine
batches.RANGE_ENTRIES = 3

def run(path):
    with ArchiveReader(path) as reader:
        counted = archive_metrics(reader, workers=2).inputs_count
    try:
        WorkPool("processes")
    except ValueError as exc:
        return counted, str(exc)
    return counted, ""

if __name__ == "__main__":
    with multiprocessing.get_context("fork").Pool(1) as pool:
        print(json.dumps(pool.apply(run, (sys.argv[1],))))
"""


@linux_only
def test_a_daemonic_process_works_without_children(make_archive, tmp_path: Path) -> None:
    """A multiprocessing pool's worker (or a Dask worker) is daemonic and may not start
    processes: automatic workers stay in the process; an explicit process pool says why
    not (the long fuzz, which runs commands in a pool, found ``info`` crashing there)."""
    import json
    import subprocess

    source = make_archive(varied_inputs(40, seed=4), "a.zip", batch_size=3)
    script = tmp_path / "in_a_daemon.py"
    script.write_text(_IN_A_DAEMON)
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, str(script), str(source)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    counted, refused = json.loads(done.stdout)
    assert counted == 40
    assert "daemonic worker" in refused and "use threads" in refused
