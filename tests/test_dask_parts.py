"""Reading parts: a thread keeps the readers of local archives open between their parts."""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor

import pytest
from dask_helpers import write_mixed_archive

from toolkit.distributed import parts as parts_module
from toolkit.distributed.parts import plan_parts, read_part
from toolkit.errors import ArchiveError

#: About 3 entries (of 37 inputs x 8 floats) per partition: several per archive.
PART_BYTES = 4_000


@pytest.fixture(name="opened")
def _opened(monkeypatch) -> list[str]:
    """The paths the parts module opens a reader of, with no reader kept yet."""
    opened: list[str] = []
    real = parts_module.ArchiveReader

    def counting(path, *args, **kwargs):
        opened.append(str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(parts_module, "ArchiveReader", counting)
    monkeypatch.setattr(parts_module, "_open_readers", threading.local())
    return opened


def test_the_parts_of_an_archive_open_it_once(tmp_path, opened):
    path = write_mixed_archive(tmp_path / "a.zip", "x", 300, 8, seed=1)
    plan = plan_parts([path], part_bytes=PART_BYTES)
    assert len(plan.parts) > 3
    opened.clear()  # the plan's own reading
    tables = {part.number: read_part(part) for part in reversed(plan.parts)}
    ids = [i for n in sorted(tables) for i in tables[n].column("id").to_pylist()]
    assert ids == [f"x{i:05d}" for i in range(300)]
    assert opened == [str(path)]


def test_a_thread_keeps_a_few_readers(tmp_path, opened):
    paths = [write_mixed_archive(tmp_path / f"a{i}.zip", f"a{i}-", 40, 8, seed=i) for i in range(6)]
    plan = plan_parts(paths, part_bytes=PART_BYTES)
    for part in plan.parts:
        read_part(part)
    kept = parts_module._open_readers.kept
    assert [key[0] for key in kept] == [str(p) for p in paths[-parts_module._KEPT_READERS :]]
    read_part(plan.parts[0])  # the first archive's reader was closed: opened again
    assert opened[-1] == str(paths[0])


def test_an_archive_replaced_after_a_part_was_read_is_opened_anew(tmp_path, opened):
    path = write_mixed_archive(tmp_path / "a.zip", "x", 200, 8, seed=1)
    plan = plan_parts([path], part_bytes=PART_BYTES)
    read_part(plan.parts[0])  # its reader kept
    write_mixed_archive(path, "x", 40, 8, seed=1)
    with pytest.raises(ArchiveError, match="changed after the work was planned"):
        read_part(plan.parts[-1])
    assert not parts_module._open_readers.kept  # the old reader closed, the failed one too


def _keeps_readers() -> bool:
    return hasattr(parts_module._open_readers, "kept")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_child_opens_its_own_readers(tmp_path, opened):
    path = write_mixed_archive(tmp_path / "a.zip", "x", 40, 8, seed=1)
    read_part(plan_parts([path], part_bytes=PART_BYTES).parts[0])
    assert _keeps_readers()
    # zipfile seeks the file it shares with the parent before each read: never shared.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        assert pool.submit(_keeps_readers).result() is False
