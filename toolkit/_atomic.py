"""Write outputs under a temporary name and rename them into place when complete.

Temporary names are ``.<NAME>.tmp-<PID>-<8 hex digits>`` beside the output ``NAME``. A
run killed with SIGKILL cannot remove its own: the next run that writes the same output
removes those whose process is gone (see :func:`sweep_stale`). Folders a run creates
above its output are removed again when it fails (see :func:`make_parents`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "atomic_dir",
    "atomic_file",
    "make_parents",
    "remove_created",
    "remove_leftovers",
    "sweep_stale",
    "temp_sibling",
]

#: Every temporary name handed out during the current command (see remove_leftovers).
_ISSUED: set[Path] = set()
#: Every temporary name this process handed out (never removed by a sweep).
_OURS: set[Path] = set()
#: Outputs whose folder was swept already by this process.
_SWEPT: set[Path] = set()
_ISSUED_LOCK = threading.Lock()
#: The suffixes a temporary name may carry (sdk's embedded media folder).
_TEMP_SUFFIXES = ("", ".media")


def temp_sibling(dest: Path) -> Path:
    """A fresh hidden name in ``dest``'s folder, so the final rename stays on one disk.

    The first call for an output also sweeps the temporary names a killed run left
    beside it (:func:`sweep_stale`).
    """
    dest = Path(dest)
    with _ISSUED_LOCK:
        first = dest not in _SWEPT
        _SWEPT.add(dest)
    if first:
        sweep_stale(dest)
    path = dest.with_name(f".{dest.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    with _ISSUED_LOCK:
        _ISSUED.add(path)
        _OURS.add(path)
    return path


def _process_gone(pid: int) -> bool:
    """True when no process ``pid`` runs (one we may not signal still runs)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    except OSError as exc:  # pragma: no cover - EINVAL and the like: assume it runs
        return exc.errno == errno.ESRCH
    return False


def sweep_stale(dest: Path) -> list[Path]:
    """Remove the temporary siblings of ``dest`` whose writing process is gone.

    Only names of the exact form ``.<NAME>.tmp-<PID>-<8 hex>`` (optionally ``.media``)
    are touched, and only when no process ``PID`` runs. A name with this process's own
    PID that this process did not hand out is from an earlier run whose PID was reused
    (common in containers), and goes too; a PID reused by another live process keeps
    its leftovers until that process ends. Returns what was removed.
    """
    dest = Path(dest)
    folder = dest.parent
    suffixes = "|".join(re.escape(s) for s in _TEMP_SUFFIXES if s)
    pattern = re.compile(
        rf"\.{re.escape(dest.name)}\.tmp-([0-9]{{1,10}})-[0-9a-f]{{8}}(?:{suffixes})?"
    )
    removed: list[Path] = []
    try:
        names = os.listdir(folder if str(folder) else ".")
    except OSError:
        return removed
    me = os.getpid()
    for name in names:
        match = pattern.fullmatch(name)
        if match is None:
            continue
        path = folder / name
        pid = int(match.group(1))
        with _ISSUED_LOCK:
            ours = path in _OURS
        if ours or not (_process_gone(pid) or pid == me):
            continue
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


def make_parents(folder: Path) -> list[Path]:
    """Create ``folder``'s missing parents (not ``folder``); return those created, the
    outermost first, for :func:`remove_created` when the run fails."""
    missing: list[Path] = []
    parent = Path(folder).parent
    while not parent.exists() and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    created: list[Path] = []
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            continue
        created.append(path)
    return created


def remove_created(created: list[Path]) -> None:
    """Remove the folders :func:`make_parents` created (innermost first), if empty."""
    for path in reversed(created):
        with contextlib.suppress(OSError):
            path.rmdir()


def remove_leftovers(*, failed: bool) -> list[Path]:
    """After a command: forget the temporary names handed out and, when it ``failed``,
    remove those still on disk (an interrupt can land between creating a temporary
    file and the ``try`` that would remove it). Returns what was removed."""
    with _ISSUED_LOCK:
        issued = list(_ISSUED)
        _ISSUED.clear()
        _SWEPT.clear()  # the next command sweeps its outputs' folders again
    removed = []
    if failed:
        for path in issued:
            try:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                elif path.exists() or path.is_symlink():
                    path.unlink()
                else:
                    continue
            except OSError:
                continue
            removed.append(path)
    return removed


@contextlib.contextmanager
def atomic_file(dest: Path) -> Iterator[Path]:
    """Yield a temporary path; on success it replaces ``dest``, on failure it is removed.

    Example::

        with atomic_file(Path("out.zip")) as tmp:
            tmp.write_bytes(data)
    """
    dest = Path(dest)
    tmp = temp_sibling(dest)
    try:
        yield tmp
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_dir(dest: Path, *, keep: bool = False) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``dest`` on success and is removed on failure.

    An existing ``dest`` is replaced as a whole. With ``keep=True`` the temporary folder
    starts as a copy-free *move* of the existing ``dest`` (for resumable outputs) and,
    on failure, is moved back so finished work is kept.
    """
    dest = Path(dest)
    created = make_parents(dest)
    tmp = temp_sibling(dest)
    try:
        if keep and dest.is_dir():
            os.replace(dest, tmp)
        else:
            tmp.mkdir()
    except BaseException:
        remove_created(created)
        raise
    try:
        yield tmp
    except BaseException:
        if keep:
            with contextlib.suppress(OSError):
                if not dest.exists():
                    os.replace(tmp, dest)
        shutil.rmtree(tmp, ignore_errors=True)
        remove_created(created)
        raise
    old = None
    if dest.exists():
        old = temp_sibling(dest)
        os.replace(dest, old)
    os.replace(tmp, dest)
    if old is not None:
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink()
