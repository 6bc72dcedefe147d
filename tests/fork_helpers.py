"""Tests of forked worker processes, whatever ran before them in the pytest process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Set in the fresh interpreter a test is run again in (see :func:`forking`).
_FRESH = "TOOLKIT_TEST_FRESH_INTERPRETER"


def _other_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t is not threading.main_thread()}


def forking(request: pytest.FixtureRequest) -> Iterator[bool]:
    """The body of a ``forking`` fixture. True: the test runs here, where workers can be
    forked; False: it was run again, and passed, in a fresh interpreter, and the test
    returns at once.

    The library forks workers only from a process with no other thread
    (:func:`toolkit.batches.can_fork_workers`); else it does the work in-process, and a
    test of the workers would test nothing (or, with the work patched to exit, end
    pytest). Threads left by other tests (Dask's IO loop, a web app's worker threads)
    depend on which ran first, so the test runs in a new ``pytest`` process instead: the
    same verdict whatever the order. Here, the test's own threads must be gone when it
    ends (threads that were there before do not count).

    Example::

        @pytest.fixture(name="forking")
        def _forking(request):
            yield from fork_helpers.forking(request)
    """
    before = _other_threads()
    if not before:
        yield True
        left = sorted(t.name for t in _other_threads() - before)
        assert not left, f"threads left running by the test: {left}"
        return
    assert _FRESH not in os.environ, f"threads in a fresh interpreter: {before}"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", request.node.nodeid],
        cwd=ROOT,
        env={**os.environ, _FRESH: "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    yield False
