"""toolkit.ray.read_archives against the single-process reader (skipped without Ray)."""

from __future__ import annotations

import pyarrow as pa
import pytest
from dask_helpers import write_archives

import toolkit

ray = pytest.importorskip("ray")

import toolkit.ray as tray  # noqa: E402

# Ray warns about its own deprecated settings while it starts.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*")


@pytest.fixture(name="ray_session", scope="module")
def _ray_session():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # blocks in plan order
    yield
    ray.shutdown()


def test_read_archives_matches_the_reader(ray_session, tmp_path):
    archives = write_archives(tmp_path, count=2, n=200, dim=16)
    ds = tray.read_archives([str(p) for p in archives], part_bytes=8_000)
    table = pa.concat_tables(ray.get(ds.to_arrow_refs()))
    reference = pa.concat_tables([toolkit.open(p).to_arrow() for p in archives])
    assert table.column("id").to_pylist() == reference.column("id").to_pylist()
    assert table.cast(reference.schema).equals(reference)


def test_columns(ray_session, tmp_path):
    archives = write_archives(tmp_path, count=1, n=50, dim=4)
    ds = tray.read_archives(archives, columns=["id", "embedding"])
    assert ds.schema().names == ["id", "embedding"]
    assert ds.count() == 50
