"""Write outputs under a temporary name and rename them into place when complete."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_dir", "atomic_file", "remove_leftovers", "temp_sibling"]

#: Every temporary name handed out during the current command (see remove_leftovers).
_ISSUED: set[Path] = set()
_ISSUED_LOCK = threading.Lock()


def temp_sibling(dest: Path) -> Path:
    """A fresh hidden name in ``dest``'s folder, so the final rename stays on one disk."""
    path = dest.with_name(f".{dest.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    with _ISSUED_LOCK:
        _ISSUED.add(path)
    return path


def remove_leftovers(*, failed: bool) -> list[Path]:
    """After a command: forget the temporary names handed out and, when it ``failed``,
    remove those still on disk (an interrupt can land between creating a temporary
    file and the ``try`` that would remove it). Returns what was removed."""
    with _ISSUED_LOCK:
        issued = list(_ISSUED)
        _ISSUED.clear()
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
    tmp = temp_sibling(dest)
    if keep and dest.is_dir():
        os.replace(dest, tmp)
    else:
        tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        if keep:
            with contextlib.suppress(OSError):
                if not dest.exists():
                    os.replace(tmp, dest)
        shutil.rmtree(tmp, ignore_errors=True)
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
