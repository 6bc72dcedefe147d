"""The catalog home's folders: where it is, scratch workspaces, and cleaning up after crashes.

Layout of a home::

    catalog.sqlite3          the database (plus its -wal and -shm files)
    archives/<dataset>/      one zip per version, as registered in the database
    covers/                  cover images copied in by ``datasets patch --cover-image``
    tmp/<pid>-<token>/       a running command's workspace, locked while it runs

Work in progress (an archive being copied in, a new version being written) lives in a
workspace. Its ``.lock`` file is locked for as long as the process runs, so a later
writer can tell a crashed run's leftovers (lock free) from a running one (lock held) and
remove only the former. Files are moved from a workspace into ``archives/`` or
``covers/`` while the database's write lock is held, in the transaction that registers
them; a file there that no row names is a leftover of a crash and is removed by the next
writer, under the same lock.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

__all__ = ["Workspace", "default_home", "remove_leftovers"]

log = logging.getLogger(__name__)

APP_DIR = "clarifai-archive"
#: A workspace folder without a lock file is taken as a leftover after this many seconds.
_UNLOCKED_GRACE_S = 600.0


def default_home() -> Path:
    """The catalog home when none is given: ``$CLARIFAI_ARCHIVE_HOME``, else a per-user folder.

    The per-user folder follows each system's convention for application data:
    ``$XDG_DATA_HOME/clarifai-archive`` (default ``~/.local/share/clarifai-archive``) on
    Linux and other Unix systems, ``~/Library/Application Support/clarifai-archive`` on
    macOS, and ``%LOCALAPPDATA%\\clarifai-archive`` on Windows.

    Example::

        Catalog(default_home())
    """
    env = os.environ.get("CLARIFAI_ARCHIVE_HOME")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / APP_DIR
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP_DIR
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / APP_DIR
    return Path.home() / ".local" / "share" / APP_DIR


# -- locks -------------------------------------------------------------------------


def _try_lock(stream: IO[bytes]) -> bool:
    """Take an exclusive lock on an open file without waiting; False when another holds it."""
    if sys.platform == "win32":  # pragma: no cover - Windows
        import msvcrt

        try:
            msvcrt.locking(stream.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class Workspace:
    """A scratch folder under ``<home>/tmp`` that is locked while this process uses it.

    Example::

        with Workspace(home) as ws:
            part = ws.path / "copy.zip"
            ...  # write part, then move it into place under the database's write lock
    """

    def __init__(self, home: Path) -> None:
        root = home / "tmp"
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / f"{os.getpid()}-{secrets.token_hex(6)}"
        self.path.mkdir()
        # Locked under another name, then renamed: whoever finds ".lock" finds it locked.
        # (Windows cannot rename an open file; there the lock file is made in place.)
        first = ".lock" if os.name == "nt" else ".lock-new"
        self._lock: IO[bytes] | None = open(self.path / first, "wb")  # noqa: SIM115
        if not _try_lock(self._lock):  # pragma: no cover - a fresh file is never locked
            raise OSError(f"{self.path}: cannot lock a new workspace")
        if first != ".lock":
            os.replace(self.path / first, self.path / ".lock")

    def close(self) -> None:
        """Remove the folder and everything left in it, then drop the lock."""
        if self._lock is None:
            return
        for child in self.path.iterdir():
            if child.name != ".lock":
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        child.unlink()
        with contextlib.suppress(OSError):
            (self.path / ".lock").unlink()
        self._lock.close()
        self._lock = None
        with contextlib.suppress(OSError):
            self.path.rmdir()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _stale_workspaces(home: Path) -> Iterator[Path]:
    root = home / "tmp"
    if not root.is_dir():
        return
    for folder in sorted(root.iterdir()):  # sorted: the same order on every file system
        if not folder.is_dir():
            continue
        lock_path = folder / ".lock"
        try:
            stream = open(lock_path, "rb")  # noqa: SIM115
        except FileNotFoundError:
            # made but not yet locked, or its lock file is gone: judge by age
            with contextlib.suppress(OSError):
                if time.time() - folder.stat().st_mtime > _UNLOCKED_GRACE_S:
                    yield folder
            continue
        except OSError:
            continue
        with stream:
            if _try_lock(stream):
                yield folder


def remove_leftovers(home: Path, *, archives: Iterable[str], covers: Iterable[str]) -> list[Path]:
    """Remove what crashed runs left: unlocked workspaces and unregistered files.

    ``archives`` and ``covers`` are the file names (relative to the home, with ``/``)
    the database registers. Call this only while holding the database's write lock:
    files are moved into ``archives/`` and ``covers/`` only under that lock.
    Returns the paths removed.
    """
    removed: list[Path] = []
    for folder in _stale_workspaces(home):
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    keep = {name.casefold() for name in archives} | {name.casefold() for name in covers}
    for sub, pattern in (("archives", "*/*.zip"), ("covers", "*")):
        root = home / sub
        if not root.is_dir():
            continue
        for path in sorted(root.glob(pattern)):
            rel = path.relative_to(home).as_posix()
            if path.is_file() and rel.casefold() not in keep:
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed.append(path)
        if sub == "archives":
            for folder in root.iterdir():
                if folder.is_dir():
                    with contextlib.suppress(OSError):
                        folder.rmdir()  # only when empty
    for path in removed:
        log.info("removed leftover %s", path)
    return removed
