"""glibc's mmap threshold while a part is read, where Dask's worker environment froze it."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import textwrap

import pytest

from toolkit.distributed.malloc import frozen_threshold

glibc_only = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="glibc's malloc and page-fault counts",
)


@pytest.mark.parametrize(
    ("environ", "frozen"),
    [
        ({}, False),
        ({"MALLOC_TRIM_THRESHOLD_": "65536"}, True),  # what Dask's nannies set
        ({"MALLOC_TOP_PAD_": "0"}, True),
        ({"MALLOC_MMAP_MAX_": "65536"}, True),
        ({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=65536"}, True),
        ({"MALLOC_TRIM_THRESHOLD_": "65536", "MALLOC_MMAP_THRESHOLD_": "1048576"}, False),
        ({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1:glibc.malloc.mmap_threshold=9"}, False),
        ({"PYTHONMALLOC": "malloc"}, False),
    ],
)
def test_which_environments_freeze_the_threshold(environ, frozen):
    assert frozen_threshold(environ) is frozen


# Each step allocates and fills 200 blocks of 300 kB (over the 128 kB threshold), freeing
# each: mapped anew each time, that is ~75 page faults a block; from the heap, a handful.
_PROBE = textwrap.dedent(
    """
    import json, resource
    from toolkit.distributed.malloc import heap_for_large_blocks

    def faults():
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(200):
            block = b"x" * 300_000
            del block
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

    steps = {"before": faults()}
    with heap_for_large_blocks():
        steps["inside"] = faults()
        with heap_for_large_blocks():  # a second thread's part, as nested
            steps["nested"] = faults()
        steps["inner left"] = faults()
    steps["after"] = faults()
    print(json.dumps(steps))
    """
)


def _probe(**extra: str) -> dict[str, int]:
    import json

    env = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_"))}
    env.update(extra, PYTHONMALLOC="malloc")
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True
    )
    steps: dict[str, int] = json.loads(done.stdout)
    return steps


@glibc_only
def test_blocks_come_from_the_heap_while_a_part_is_read_in_a_dask_like_worker():
    steps = _probe(MALLOC_TRIM_THRESHOLD_="65536")
    many = 200 * 60
    assert steps["before"] > many  # the environment alone: every block mapped anew
    assert steps["inside"] < many / 10
    assert steps["nested"] < many / 10
    assert steps["inner left"] < many / 10  # still raised while the outer block runs
    assert steps["after"] > many  # Dask's setting back for the rest of the worker


@glibc_only
def test_nothing_changes_where_glibc_adjusts_the_threshold_itself():
    steps = _probe()
    # glibc raises its threshold after the first block freed: few faults at every step.
    assert all(count < 200 * 6 for count in steps.values()), steps
