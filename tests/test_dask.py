"""Archives on a Dask cluster: read_archives, a worker lost mid-task, convert --scheduler."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from dask_helpers import matrix_bytes, read_or_die, write_archives

import toolkit
from toolkit.cli import cli
from toolkit.distributed.parts import plan_parts, read_part
from toolkit.tabular.rows import RowOptions

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
fsspec = pytest.importorskip("fsspec")

import toolkit.dask as tdask  # noqa: E402

#: About 3 entries (of 37 inputs x 32 floats) per partition: several per archive.
PART_BYTES = 16_000


@pytest.fixture(name="cluster", scope="module")
def _cluster():
    """Two worker processes of one thread each, shared by the module's tests."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: 8787 may be taken on a shared machine
            silence_logs=50,
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        yield cluster, client


@pytest.fixture(name="archives", scope="module")
def _archives(tmp_path_factory) -> list[Path]:
    return write_archives(tmp_path_factory.mktemp("archives"))


def _reference(paths: list[Path], columns=None) -> pa.Table:
    """The single-process reader's table of the archives, one after the other."""
    tables = [toolkit.open(p).to_arrow(columns) for p in paths]
    return pa.concat_tables(tables)


def _as_table(frame, schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pandas(frame.reset_index(drop=True), schema=schema, preserve_index=False)


def test_parts_cover_every_entry_once(archives):
    plan = plan_parts(archives, part_bytes=PART_BYTES)
    assert len(plan.parts) > 2 * len(archives)
    for path in archives:
        ranges = [(p.first, p.stop) for p in plan.parts if p.source == str(path)]
        with toolkit.open(path) as archive:
            count = len(archive._reader.entries)
        flat = [i for first, stop in ranges for i in range(first, stop)]
        assert flat == list(range(count))
    assert [p.number for p in plan.parts] == list(range(len(plan.parts)))


def test_read_archives_on_the_cluster_matches_the_reader(archives, cluster):
    _, client = cluster
    ddf = tdask.read_archives([str(p) for p in archives], part_bytes=PART_BYTES)
    assert ddf.npartitions > 2 * len(archives)
    frame = client.compute(ddf).result()
    reference = _reference(archives)
    got = _as_table(frame, reference.schema)
    assert frame["id"].tolist() == reference.column("id").to_pylist()
    assert got.equals(reference)
    # Embeddings bit for bit, NaN where an input has none.
    expected = reference.column("embedding").combine_chunks()
    assert expected.null_count > 0
    filled = expected.fill_null(pa.scalar([float("nan")] * 32, expected.type)).flatten()
    assert matrix_bytes(frame) == np.asarray(filled.to_numpy(), np.float32).tobytes()


def test_columns_and_a_group_by(archives, cluster):
    _, client = cluster
    ddf = tdask.read_archives(
        archives, columns=["id", "input_type", "metadata.split"], metadata_columns=["split"]
    )
    assert list(ddf.columns) == ["id", "input_type", "metadata.split"]
    counts = client.compute(ddf.groupby("input_type").id.count()).result()
    reference = _reference(archives, ["input_type"]).column("input_type").to_pylist()
    assert dict(counts) == {k: reference.count(k) for k in set(reference)}


def test_a_worker_killed_mid_task_loses_and_repeats_no_row(archives, cluster, tmp_path):
    _, client = cluster
    plan = plan_parts(archives, part_bytes=PART_BYTES)
    meta = tdask.to_pandas(pa.Table.from_batches([], schema=plan.schema))
    ddf = dd.from_map(read_or_die, list(plan.parts), args=(str(tmp_path),), meta=meta)
    frame = client.compute(ddf).result()
    assert (tmp_path / "part-1.died").is_file()  # the worker did die once
    reference = _reference(archives)
    assert frame["id"].tolist() == reference.column("id").to_pylist()
    assert _as_table(frame, reference.schema).equals(reference)


def test_memory_filesystem_urls(archives):
    fs = fsspec.filesystem("memory")
    urls = []
    for path in archives:
        url = f"memory://exports/{path.name}"
        fs.pipe(url, path.read_bytes())
        urls.append(url)
    try:
        ddf = tdask.read_archives(urls, part_bytes=PART_BYTES)
        frame = ddf.compute(scheduler="threads")  # memory:// lives in this process only
    finally:
        fs.rm("memory://exports", recursive=True)
    reference = _reference(archives)
    assert _as_table(frame, reference.schema).equals(reference)


def test_limits_apply_inside_the_workers(archives, cluster):
    from toolkit.errors import LimitError
    from toolkit.limits import Limits

    _, client = cluster
    plan = plan_parts(archives, part_bytes=PART_BYTES)
    tight = Limits(max_batch_bytes=1000)  # the entries are ~6 kB
    part = plan.parts[0]
    import dataclasses

    with pytest.raises(LimitError, match="over the limit of 1000"):
        client.submit(read_part, dataclasses.replace(part, limits=tight), pure=False).result()


def test_an_archive_changed_after_planning_is_refused(tmp_path):
    from dask_helpers import write_mixed_archive

    from toolkit.errors import ArchiveError

    path = write_mixed_archive(tmp_path / "a.zip", "x", 200, 8, seed=1)
    plan = plan_parts([path], part_bytes=PART_BYTES)
    write_mixed_archive(path, "x", 40, 8, seed=1)
    with pytest.raises(ArchiveError, match="changed after the work was planned"):
        read_part(plan.parts[-1])


def test_only_empty_archives_give_one_empty_partition(tmp_path):
    from toolkit.archive import write_archive

    path = tmp_path / "empty.zip"
    write_archive(path, [])
    ddf = tdask.read_archives([path], columns=["id", "embedding"])
    frame = ddf.compute(scheduler="sync")
    assert len(frame) == 0 and list(frame.columns) == ["id", "embedding"]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_convert_on_the_cluster_writes_what_processes_and_one_process_write(
    archives, cluster, tmp_path, runner, monkeypatch
):
    import toolkit.distributed.parts as parts

    local_cluster, _ = cluster
    monkeypatch.setattr(parts, "DEFAULT_PART_BYTES", PART_BYTES)
    sources = [str(p) for p in archives]
    outs = {}
    for name, extra in (
        ("single", []),
        ("processes", ["--scheduler", "processes", "--workers", "2"]),
        ("cluster", ["--scheduler", local_cluster.scheduler_address]),
    ):
        out = tmp_path / name
        result = runner.invoke(
            cli,
            ["convert", *sources, "--to", "parquet", "-o", str(out), "--rows-per-file", "250"]
            + extra,
        )
        assert result.exit_code == 0, result.output
        outs[name] = _files(out)
    assert len(outs["single"]) == 4  # 900 rows, 250 a file
    assert outs["processes"] == outs["single"]
    assert outs["cluster"] == outs["single"]


@pytest.mark.parametrize("scheduler", ["processes", "threads"])
def test_row_groups_end_at_the_same_rows_however_the_rows_arrive(
    archives, tmp_path, runner, monkeypatch, scheduler
):
    """Row groups of a fixed number of rows (from the schema), so parts of any size give
    the files one process gives, byte for byte, with several row groups a file."""
    import pyarrow.parquet as pq

    import toolkit.distributed.parts as parts
    import toolkit.tabular.parquet as writer

    monkeypatch.setattr(parts, "DEFAULT_PART_BYTES", PART_BYTES)
    monkeypatch.setattr(writer, "_GROUP_ROWS", 48)
    sources = [str(p) for p in archives]
    outs = {}
    for name, extra in (("single", []), (scheduler, ["--scheduler", scheduler, "--workers", "2"])):
        out = tmp_path / name
        args = ["convert", *sources, "--to", "parquet", "-o", str(out), "--rows-per-file", "400"]
        result = runner.invoke(cli, args + extra)
        assert result.exit_code == 0, result.output
        outs[name] = _files(out)
    assert outs[scheduler] == outs["single"]
    first = pq.ParquetFile(tmp_path / "single" / "part-00000.parquet").metadata
    sizes = [first.row_group(i).num_rows for i in range(first.num_row_groups)]
    assert sizes == [48] * 8 + [16]  # 400 rows a file


def test_rows_per_group_comes_from_the_schema():
    from toolkit.tabular.parquet import rows_per_group

    others = [pa.field(f"c{i}", pa.string()) for i in range(10)]
    embedding = pa.field("embedding", pa.list_(pa.float32(), 512))
    assert rows_per_group(pa.schema([*others, embedding])) == 12288  # 32 MiB / (2048 + 640)
    assert rows_per_group(pa.schema(others)) == 16384
    assert rows_per_group(pa.schema([*others, pa.field("image_bytes", pa.binary())])) is None


def test_convert_scheduler_usage(archives, runner, tmp_path):
    base = ["convert", str(archives[0]), "-o", str(tmp_path / "o")]
    result = runner.invoke(cli, [*base, "--to", "jsonl", "--scheduler", "processes"])
    assert result.exit_code == 2 and "--scheduler applies to --to parquet" in result.output
    result = runner.invoke(cli, [*base, "--to", "parquet", "--scheduler", "udp://x"])
    assert result.exit_code == 2 and "tcp://10.0.0.5:8786" in result.output
    assert not (tmp_path / "o").exists()


def test_convert_refuses_an_id_in_two_archives_and_writes_nothing(archives, tmp_path):
    from toolkit.distributed.convert import convert_to_parquet
    from toolkit.errors import ConflictError

    with pytest.raises(ConflictError, match="is in both"):
        convert_to_parquet(
            [archives[0], archives[1], archives[0]],
            tmp_path / "out",
            scheduler="threads",
            part_bytes=PART_BYTES,
        )
    assert list(tmp_path.iterdir()) == []


def test_read_part_is_the_reader_for_one_range(archives):
    options = RowOptions(columns=("id",))
    plan = plan_parts(archives[:1], options, part_bytes=PART_BYTES)
    ids = [i for part in plan.parts for i in read_part(part).column("id").to_pylist()]
    assert ids == _reference(archives[:1], ["id"]).column("id").to_pylist()


def test_a_partition_joins_the_small_columns_into_one_chunk(archives):
    plan = plan_parts(archives[:1], part_bytes=PART_BYTES)
    part = plan.parts[0]
    table = read_part(part)
    assert table.column("id").num_chunks > 1  # one chunk a batch entry, as read
    frame = tdask.read_part_pandas(part)
    arrays = {name: pa.array(frame[name].array) for name in frame.columns}  # Arrow's own
    chunks = {n: getattr(a, "num_chunks", 1) for n, a in arrays.items()}
    assert chunks.pop("embedding") == table.column("embedding").num_chunks  # not copied
    assert set(chunks.values()) == {1}
    assert _as_table(frame, table.schema).equals(table)


def test_index_from_shards_on_the_cluster_is_the_local_one(cluster, tmp_path, runner):
    from dask_helpers import write_plain_vectors

    from toolkit.index import SimilarityIndex

    local_cluster, _ = cluster
    archives = [str(p) for p in write_plain_vectors(tmp_path, 2, 1500, 24)]
    for name, scheduler in (("local", "processes"), ("cluster", local_cluster.scheduler_address)):
        result = runner.invoke(
            cli,
            ["index", "build", *archives, "-o", str(tmp_path / name), "--shard-rows", "700"]
            + ["--scheduler", scheduler],
        )
        assert result.exit_code == 0, result.output
    local = SimilarityIndex.load(tmp_path / "local")
    remote = SimilarityIndex.load(tmp_path / "cluster")
    assert remote.sidecar["ondisk"]["scheduler"] == "dask"
    assert remote.ids == local.ids
    for name in ("vectors.npy", "index.ivfdata"):
        assert (tmp_path / "cluster" / name).read_bytes() == (
            tmp_path / "local" / name
        ).read_bytes()
    query = np.asarray(local.vectors[:20])
    assert [[h.id for h in hits] for hits in remote.search(query, k=5)] == [
        [h.id for h in hits] for hits in local.search(query, k=5)
    ]
