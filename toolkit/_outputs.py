"""One check for every path a command writes against every path it reads.

A command names its outputs (``-o``, ``--report``, ``--sheet``, ``--html``, an index
folder) and its sources (archives, an index folder, a media folder). :func:`check_outputs`
refuses, with an :class:`~toolkit.errors.OutputError` naming both paths:

- an output that is a source: the same path in another spelling (``./a.zip``,
  ``d/../a.zip``), a symbolic link to it, or a hard link (same device and inode);
- an output inside a source folder, or an output folder that holds a source;
- two outputs that are the same file (a report inside an output folder is allowed: it
  is written once the folder is complete);
- an output that exists, unless ``force`` (or the caller handles existing outputs
  itself: a resumable folder, an index updated in place).

Example::

    check_outputs({"output": Path("out.zip"), "report_path": Path("r.json")}, [Path("src.zip")],
                  force=False)
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

from .errors import OutputError, param

__all__ = ["check_outputs", "same_path", "within"]


def _real(path: Path) -> Path:
    """``path`` absolute, with every symbolic link that exists resolved."""
    try:
        return Path(os.path.realpath(path))
    except (OSError, ValueError):
        return Path(os.path.abspath(path))


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def same_path(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` name one file: the same inode where both exist (hard and
    symbolic links), else the same real path (other spellings, links in the folders)."""
    ia, ib = _identity(a), _identity(b)
    if ia is not None and ib is not None:
        return ia == ib
    return os.path.normcase(_real(a)) == os.path.normcase(_real(b))


def within(path: Path, folder: Path) -> bool:
    """True when ``path`` lies inside ``folder`` (not when it is the folder itself)."""
    p, f = _real(path), _real(folder)
    if f in p.parents:
        return True
    # A folder reached through a hard-linked or bind-mounted spelling: compare inodes.
    folder_id = _identity(folder)
    if folder_id is None or not os.path.isdir(folder):
        return False
    return any(_identity(parent) == folder_id for parent in p.parents)


def check_outputs(
    outputs: Mapping[str, Path | None],
    sources: Iterable[Path | None],
    *,
    force: bool = False,
    existing_ok: Collection[str] = (),
) -> None:
    """Refuse outputs that would touch a source, each other, or an existing file.

    ``outputs`` maps what the caller calls each output (the parameter, ``"report_path"``;
    the CLI: its flag, ``"-o"``) to its path; ``None`` and ``"-"`` (standard output) are
    skipped, as are ``None`` sources.
    Outputs named in ``existing_ok`` may exist without ``force``.
    """
    named = [(role, Path(p)) for role, p in outputs.items() if p is not None and str(p) != "-"]
    reads = [Path(s) for s in sources if s is not None and str(s) != "-"]
    for role, out in named:
        for source in reads:
            if same_path(out, source):
                raise OutputError(
                    f"{out}: this is the source archive {source}; sources are never "
                    f"modified, so write the {role} output to another path",
                    params=[role],
                )
            if within(source, out):
                raise OutputError(
                    f"{out}: holds the source archive {source} ({role} folder); write to a "
                    "folder that holds no source",
                    params=[role],
                )
            if within(out, source):
                raise OutputError(
                    f"{out}: is inside the source folder {source}; sources are never "
                    f"modified, so write the {role} output elsewhere",
                    params=[role],
                )
    for i, (role, out) in enumerate(named):
        for other_role, other in named[i + 1 :]:
            # A file inside an output folder is fine: reports are written once the
            # folder is complete (``-o coco --report coco/report.json``).
            if same_path(out, other):
                raise OutputError(
                    f"{out} ({role}) and {other} ({other_role}): one would overwrite the "
                    "other; give them different paths",
                    params=[role, other_role],
                )
    if force:
        return
    for role, out in named:
        if role not in existing_ok and (out.exists() or out.is_symlink()):
            hint = param("force")
            raise OutputError(f"{out}: exists; pass {hint} to replace it", params=[hint])
