"""Two processes writing at once, and imports killed midway."""

from __future__ import annotations

import signal
import sqlite3
import sys

import pytest
from catalog_helpers import catalog_state, files_under, run_python, write_small_archive

from toolkit.catalog import Catalog
from toolkit.errors import CatalogError

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses SIGKILL")

# Each writer says it is ready and waits for a line on stdin, then adds versions and
# patches the dataset's metadata (merge) in turns, so the two processes write at the
# same moments.
WRITER = r"""
import sys
from pathlib import Path
from toolkit.catalog import Catalog

home, archive, name = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
print("ready", flush=True)
if sys.stdin.readline().strip() != "go":
    sys.exit("no start signal")
catalog = Catalog(home, timeout=60)
for k in range(6):
    catalog.datasets.add(archive, dataset="shared", version=f"{name}-{k}")
    catalog.datasets.patch("shared", action="merge", metadata={f"{name}-{k}": k, "log": [name]})
    catalog.versions.patch("shared", f"{name}-{k}", name=f"from {name}")
print("done")
"""


def test_two_processes_writing_at_once(tmp_path):
    home = tmp_path / "home"
    archive = write_small_archive(tmp_path / "a.zip", "x", 400, batch_size=20, dim=16)
    procs = [run_python(WRITER, str(home), str(archive), name) for name in "pq"]
    for proc in procs:  # both have imported the toolkit and wait
        assert proc.stdout.readline().strip() == "ready", proc.communicate()
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == "done"
    catalog = Catalog(home)
    versions = catalog.versions.list("shared")
    assert sorted(v.id for v in versions) == sorted(f"{n}-{k}" for n in "pq" for k in range(6))
    assert all(v.inputs_count == 400 and not v.missing for v in versions)
    assert all(v.name == f"from {v.id[0]}" for v in versions)
    metadata = catalog.datasets.get("shared").metadata
    # every patch landed: read-modify-write happens inside one write transaction
    assert {k: v for k, v in metadata.items() if k != "log"} == {
        f"{n}-{k}": k for n in "pq" for k in range(6)
    }
    assert sorted(metadata["log"]) == ["p"] * 6 + ["q"] * 6
    for version in versions:
        assert catalog.get_input(version.ref, "x-0399").id == "x-0399"
    state = catalog_state(home)
    assert state["integrity"] == "ok"
    assert len(state["input_index"]) == 12 * 400
    assert len(files_under(home / "archives")) == 12
    assert files_under(home / "tmp") == []
    catalog.close()


def test_a_second_writer_that_cannot_wait_fails_clearly(tmp_path, sample_archive):
    home = tmp_path / "home"
    Catalog(home).datasets.add(sample_archive, dataset="d", version="v1")
    # holds the write lock until told to let go on stdin
    hold = r"""
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""
    proc = run_python(hold, str(home / "catalog.sqlite3"))
    assert proc.stdout.readline().strip() == "locked"
    catalog = Catalog(home, timeout=0.3)
    before = catalog_state(home)
    with pytest.raises(CatalogError, match="busy") as info:
        catalog.datasets.add(sample_archive, dataset="d", version="v2")
    assert "another clarifai-archive process" in str(info.value)
    proc.communicate("release\n", timeout=30)
    assert catalog_state(home) == before
    catalog.close()
    # the next write cleans the scratch copy of the refused import
    Catalog(home).datasets.patch("d", notes="after")
    assert files_under(home / "tmp") == []
    assert files_under(home / "archives") == ["d/v1.zip"]


# ``datasets add`` whose copy into the home stops after its first chunk: the copier says
# "copying" and waits there to be killed (its ``cancel`` check is where it waits).
ADD_PAUSED_WHILE_COPYING = r"""
import threading
import toolkit.catalog._scan as scan_module
from toolkit.cli import main

real_copy = scan_module.copy_and_hash


class PauseAfterFirstChunk:
    def __init__(self):
        self.checks = 0

    def is_set(self):
        self.checks += 1
        if self.checks == 2:  # the first chunk is written
            print("copying", flush=True)
            threading.Event().wait()
        return False


def copy_and_hash(source, dest, *, cancel=None):
    return real_copy(source, dest, cancel=PauseAfterFirstChunk())


scan_module.copy_and_hash = copy_and_hash
main()
"""


def test_import_killed_while_copying(tmp_path, sample_archive):
    home = tmp_path / "home"
    Catalog(home).datasets.add(sample_archive, dataset="d", version="v1")
    before = catalog_state(home)
    archive = write_small_archive(tmp_path / "big.zip", "big", 3000, batch_size=200, dim=512)
    proc = run_python(
        ADD_PAUSED_WHILE_COPYING,
        *("--home", str(home), "-q", "datasets", "add", str(archive), "--dataset", "d"),
    )
    assert proc.stdout.readline().strip() == "copying", proc.communicate()
    [part] = (home / "tmp").glob("*/archive.zip")
    assert 0 < part.stat().st_size < archive.stat().st_size
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # the catalog is as it was; the scratch copy is a leftover until the next write
    assert catalog_state(home) == before
    assert part.parent.exists()
    catalog = Catalog(home)
    assert [v.id for v in catalog.versions.list("d")] == ["v1"]
    catalog.datasets.patch("d", notes="next write")
    assert not part.parent.exists()
    assert files_under(home / "tmp") == []
    assert files_under(home / "archives") == ["d/v1.zip"]
    catalog.close()


# Kill the process at a chosen point inside the registration transaction.
KILL_AT = r"""
import os, signal, sys
from pathlib import Path
from toolkit.catalog import Catalog
from toolkit.catalog.store import Transaction

home, archive, point = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
if point == "after-move":
    real = Transaction.move
    def move(self, src, dest):
        real(self, src, dest)
        os.kill(os.getpid(), signal.SIGKILL)
    Transaction.move = move
elif point == "after-index":
    real_index = Transaction.insert_index
    def insert_index(self, pk, scanned):
        real_index(self, pk, scanned)
        os.kill(os.getpid(), signal.SIGKILL)
    Transaction.insert_index = insert_index
Catalog(home).datasets.add(archive, dataset="d", version="v2")
print("not killed")
"""


@pytest.mark.parametrize("point", ["after-index", "after-move"])
def test_import_killed_inside_the_transaction(tmp_path, sample_archive, point):
    home = tmp_path / "home"
    Catalog(home).datasets.add(sample_archive, dataset="d", version="v1")
    before = catalog_state(home)
    archive = write_small_archive(tmp_path / "a.zip", "a", 300, batch_size=30)
    proc = run_python(KILL_AT, str(home), str(archive), point)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, (out, err)
    assert catalog_state(home) == before  # the uncommitted transaction is gone
    if point == "after-move":
        # the file reached its place but no row names it: never taken for a version
        assert (home / "archives/d/v2.zip").is_file()
    catalog = Catalog(home)
    assert [v.id for v in catalog.versions.list("d")] == ["v1"]
    # the next write removes the leftovers and can use the id
    made = catalog.datasets.add(archive, dataset="d", version="v2")
    assert made.archive == home / "archives/d/v2.zip" and made.inputs_count == 300
    assert files_under(home / "tmp") == []
    assert files_under(home / "archives") == ["d/v1.zip", "d/v2.zip"]
    conn = sqlite3.connect(home / "catalog.sqlite3")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    catalog.close()
