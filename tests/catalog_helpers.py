"""Helpers for the catalog tests (``from catalog_helpers import ...``)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from helpers import make_input

from toolkit.archive import write_archive
from toolkit.messages import Input

ROOT = Path(__file__).resolve().parent.parent


def small_inputs(prefix: str, n: int, *, dim: int = 4, start: int = 0) -> list[Input]:
    """``n`` labelled inputs with tiny vectors, ids ``<prefix>-0000`` ..."""
    records = []
    for i in range(start, start + n):
        concept = "cat" if i % 2 else "dog"
        records.append(
            make_input(
                f"{prefix}-{i:04d}",
                concepts=[(concept, 1.0)],
                image_bytes=b"\x89PNG fake %d" % i,
                width=10 + i,
                height=20,
                vector=[float(i + k) for k in range(dim)],
                metadata={"n": i},
                boxes=[(concept, 0.1, 0.1, 0.5, 0.5)] if i % 3 == 0 else [],
            )
        )
    return records


def write_small_archive(
    path: Path, prefix: str, n: int, *, batch_size: int = 4, dim: int = 4, start: int = 0
) -> Path:
    """An archive of :func:`small_inputs` at ``path``."""
    write_archive(path, small_inputs(prefix, n, dim=dim, start=start), batch_size=batch_size)
    return path


def catalog_state(home: Path) -> dict[str, object]:
    """Everything the database records, read with a plain connection (for before/after checks)."""
    db = home / "catalog.sqlite3"
    if not db.exists():
        return {}
    conn = sqlite3.connect(db)
    try:
        state: dict[str, object] = {}
        for table in ("datasets", "versions", "input_index"):
            rows = conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            state[table] = rows
        state["integrity"] = conn.execute("PRAGMA integrity_check").fetchone()[0]
        return state
    finally:
        conn.close()


def files_under(folder: Path) -> list[str]:
    """Relative paths of the files under ``folder`` (sorted)."""
    if not folder.exists():
        return []
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def run_python(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``python -c code args...`` with the repository importable (pipes for
    stdin, stdout and stderr)."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests")])
    full_env.pop("CLARIFAI_ARCHIVE_HOME", None)
    if env:
        full_env.update(env)
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=full_env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def ids_of(records: Iterable[Input]) -> list[str]:
    return [r.id for r in records]
