"""``--to json|jsonl`` with worker processes: the same bytes, in order, failures clean."""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import fork_helpers
import pytest
from convert_helpers import varied_inputs, write_raw_archive

from toolkit import batches
from toolkit.archive import ArchiveReader, ArchiveWriter
from toolkit.batches import iter_batches
from toolkit.cli import cli
from toolkit.convert import _parallel, convert_archives
from toolkit.convert._parallel import auto_workers, encode_inputs
from toolkit.errors import ArchiveError, SchemaError, ToolkitError
from toolkit.messages import Input, InputBatch

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="worker processes are forked on Linux only"
)


@pytest.fixture(name="forking")
def _forking(request: pytest.FixtureRequest) -> Iterator[bool]:
    """True: the test runs here; False: it passed in a fresh interpreter (see
    :func:`fork_helpers.forking`)."""
    yield from fork_helpers.forking(request)


def _batches(records: list[Input], size: int) -> list[InputBatch]:
    return [InputBatch(inputs=records[i : i + size]) for i in range(0, len(records), size)]


def test_workers_give_the_same_bytes_in_the_same_order(forking, make_archive) -> None:
    if not forking:
        return
    records = varied_inputs(300, seed=11)
    source = make_archive(records, "a.zip", batch_size=7)
    expected = [(encode_inputs(b.inputs), None) for b in _batches(records, 7)]
    with ArchiveReader(source) as reader:
        got = [
            b.result for b in iter_batches([reader], work=_parallel.encode_batch_json, workers=3)
        ]
    assert got == expected


def test_auto_workers_only_for_big_sources(monkeypatch) -> None:
    monkeypatch.setattr(batches, "usable_cpus", lambda: 16)
    assert auto_workers(_parallel.PARALLEL_MIN_BYTES - 1) == 1
    assert auto_workers(_parallel.PARALLEL_MIN_BYTES) == _parallel.MAX_AUTO_WORKERS == 8
    monkeypatch.setattr(batches, "usable_cpus", lambda: 2)
    assert auto_workers(10 * _parallel.PARALLEL_MIN_BYTES) == 2


@pytest.mark.parametrize(("to", "name"), [("json", "out.zip"), ("jsonl", "out.jsonl")])
def test_convert_output_is_the_same_with_workers(
    forking, make_archive, tmp_path: Path, to, name
) -> None:
    if not forking:
        return
    first = make_archive(varied_inputs(90, seed=5), "a.zip", batch_size=13)
    renamed = [Input(id=f"b-{r.id}", data=r.data) for r in varied_inputs(40, seed=6)]
    second = make_archive(renamed, "b.zip", batch_size=9, flavour="json")
    outputs = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}" / name
        out.parent.mkdir()
        report = convert_archives([first, second], out, to=to, workers=workers, batch_size=16)
        assert report.inputs == report.written == 130
        outputs[workers] = out.read_bytes()
    assert outputs[1] == outputs[2]


@pytest.mark.parametrize("scratch", ["room", "too small"])
def test_jsonl_lines_left_in_shared_memory(
    forking, make_archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scratch: str
) -> None:
    """Workers leave a batch's JSON Lines in the memory their range shares with the main
    process, which writes them from there; a batch that does not fit comes through the
    pipe. The same bytes either way."""
    if not forking:
        return
    from toolkit.convert import jsonl

    if scratch == "too small":
        monkeypatch.setattr(jsonl.JsonLinesConverter, "batch_scratch", 64)
    kinds: list[str] = []
    real = jsonl.batch_lines

    def seen(batch, lines):
        kinds.append("shared" if isinstance(lines, tuple) else "piped")
        return real(batch, lines)

    monkeypatch.setattr(jsonl, "batch_lines", seen)
    source = make_archive(varied_inputs(120, seed=8), "a.zip", batch_size=11)
    outputs = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}.jsonl"
        convert_archives([source], out, to="jsonl", workers=workers)
        outputs[workers] = out.read_bytes()
    assert outputs[1] == outputs[2]
    assert len(outputs[1].splitlines()) == 120
    in_workers = kinds[len(kinds) // 2 :]  # the second run's batches
    expected = "shared" if scratch == "room" else "piped"
    assert in_workers and set(in_workers) == {expected}


def _bad_archive(make_archive) -> Path:
    records = varied_inputs(60, seed=2)
    records[47].data.metadata.update({"x": math.nan})
    return make_archive(records, "bad.zip", batch_size=10)


@pytest.mark.parametrize("workers", [1, 2])
def test_an_input_json_cannot_hold_is_named_and_nothing_is_left(
    make_archive, tmp_path: Path, workers
) -> None:
    source = _bad_archive(make_archive)
    out = tmp_path / "out" / "x.jsonl"
    out.parent.mkdir()
    with pytest.raises(SchemaError) as info:
        convert_archives([source], out, to="jsonl", workers=workers)
    message = str(info.value)
    assert message.startswith(f"{source}: input 'in-047': cannot be written as JSON")
    assert os.listdir(out.parent) == []


def test_a_worker_that_dies_is_an_error_not_a_hang(
    forking, make_archive, tmp_path: Path, monkeypatch
) -> None:
    if not forking:
        return

    def die(records) -> list[bytes]:
        os._exit(3)

    # The workers are forks of this process: they run the patched function.
    monkeypatch.setattr(_parallel, "encode_inputs", die)
    source = make_archive(varied_inputs(50), "a.zip", batch_size=5)
    out = tmp_path / "out" / "x.zip"
    out.parent.mkdir()
    with pytest.raises(ToolkitError, match="a worker process stopped while converting"):
        convert_archives([source], out, to="json", workers=2)
    assert os.listdir(out.parent) == []


def test_cli_workers_option(make_archive, tmp_path: Path, runner) -> None:
    source = make_archive(varied_inputs(20), "a.zip", batch_size=4)
    out = tmp_path / "x.jsonl"
    args = ["convert", str(source), "--to", "jsonl", "-o", str(out), "--workers", "2"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    assert len(out.read_bytes().splitlines()) == 20
    bad = runner.invoke(cli, [*args[:-1], "0"])
    assert bad.exit_code == 2 and "--workers" in bad.stderr


# ``clarifai-archive`` whose first worker batch says "busy" on stdout and waits until a
# line is written to the FIFO argv[2] (the other batches go on as usual).
WORKER_WAITS = r"""
import os, sys
from toolkit.cli import main
from toolkit.convert.clarifai_json import ClarifaiJsonConverter
from toolkit.convert.jsonl import JsonLinesConverter

busy, release = sys.argv.pop(1), sys.argv.pop(1)


def holding(work):
    def held(batch):
        try:
            os.close(os.open(busy, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return work(batch)
        print("busy", flush=True)
        with open(release) as fifo:
            fifo.read()
        return work(batch)

    return staticmethod(held)


# The first batch a worker takes holds on until the test says so.
for converter in (ClarifaiJsonConverter, JsonLinesConverter):
    converter.batch_work = holding(converter.batch_work)
sys.argv[0] = "clarifai-archive"
main()
"""


@pytest.fixture(name="big_embeddings", scope="module")
def _big_embeddings(tmp_path_factory) -> Path:
    """20,000 inputs with a 256-d embedding (~21 MB): a few seconds of JSON work."""
    path = tmp_path_factory.mktemp("par") / "big.zip"
    vector = [math.sin(k) for k in range(256)]
    with ArchiveWriter(path, batch_size=100) as writer:
        for n in range(20_000):
            record = Input(id=f"in-{n:05d}")
            record.data.embeddings.add(vector=vector, num_dimensions=256)
            writer.add(record)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("to", ["json", "jsonl"])
def test_ctrl_c_to_the_whole_group_stops_workers_cleanly(
    big_embeddings, tmp_path: Path, to
) -> None:
    """A terminal's Ctrl-C reaches the main process and its workers: one Error line, no
    traceback from any process, no output, no process left."""
    out = tmp_path / "out"
    out.mkdir()
    release = tmp_path / "release"
    os.mkfifo(release)
    proc = subprocess.Popen(
        [
            *(sys.executable, "-c", WORKER_WAITS, str(tmp_path / "busy"), str(release)),
            *("-q", "convert", str(big_embeddings)),
            *("--to", to, "--workers", "2", "-o", str(out / f"result.{to}")),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    # a worker is busy with a batch, and holds it until released: the run cannot end first
    assert proc.stdout.readline().strip() == "busy", proc.communicate()
    os.killpg(proc.pid, signal.SIGINT)
    with open(release, "w") as fifo:
        fifo.write("go")
    _stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr.splitlines() == ["Error: interrupted (SIGINT); no partial output was kept"]
    assert os.listdir(out) == []
    _group_ends(proc.pid)


def _group_ends(pgid: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError("worker processes outlived the command")


@pytest.mark.parametrize("to", ["json", "jsonl"])
def test_a_damaged_batch_halfway_stops_workers_and_leaves_nothing(
    forking, tmp_path: Path, to
) -> None:
    if not forking:
        return
    good = [InputBatch(inputs=b).SerializeToString() for b in _chunks(varied_inputs(60), 6)]
    damaged = good[:6] + [b"\x0a\xff\xff\xff\x0f garbage"] + good[6:]
    source = write_raw_archive(tmp_path / "damaged.zip", damaged)
    out = tmp_path / "out" / f"x.{to}"
    out.parent.mkdir()
    with pytest.raises(ArchiveError, match="all/batch-6_n1"):
        convert_archives([source], out, to=to, workers=2)
    assert os.listdir(out.parent) == []
    assert multiprocessing.active_children() == []


def _chunks(records: list[Input], size: int) -> list[list[Input]]:
    return [records[i : i + size] for i in range(0, len(records), size)]
