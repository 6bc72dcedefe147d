"""Read an archive once for the catalog: metrics and the input id index in one pass.

The entries are counted and their ids read from the wire bytes by the C reader, in
worker processes where the archive is big (the batch pipeline ``info`` uses); protobuf
parses only an entry the C reader leaves to it. While the batches are read, a second
thread copies the file into the catalog home and hashes it (file I/O and sha256 release
the GIL), so an import costs little more than one read of the archive.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import sqlite3
import threading
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .._native import scan_batch
from ..archive import ArchiveReader
from ..batches import Batch, auto_workers, iter_batches
from ..errors import ArchiveError, CatalogError, ToolkitError
from ..limits import DEFAULT_LIMITS, Limits
from ..metrics import Metrics, MetricsCounter, count_batch

__all__ = ["ScanResult", "copy_and_hash", "file_sha256", "index_existing_versions", "scan"]

log = logging.getLogger(__name__)

_CHUNK = 4 * 1024 * 1024


def count_with_ids(batch: Batch) -> MetricsCounter:
    """Batch work: :func:`~toolkit.metrics.count_batch`, and the batch's input ids read
    from its wire bytes by the C reader (protobuf parses the entry only when it cannot)."""
    counter = count_batch(batch)
    data = batch.unparsed  # None once protobuf parsed it: input_ids() reads the parse
    if data is not None and batch.ids is None:
        batch.ids = scan_batch(data)
    return counter


@dataclass
class ScanResult:
    """What one read of an archive gives the catalog."""

    metrics: Metrics
    #: Input ids in archive order, and the batch entry index of each.
    ids: list[str]
    entries: array[int]
    entries_count: int
    flavour: str
    #: sha256 and size of the bytes copied (when a copy was made).
    sha256: str = ""
    size: int = 0

    def index_rows(self, version_pk: int) -> zip[tuple[int, str, int]]:
        """Rows for the ``input_index`` table."""
        return zip([version_pk] * len(self.ids), self.ids, self.entries, strict=True)


class _Cancelled(Exception):
    pass


def copy_and_hash(
    source: Path, dest: Path, *, cancel: threading.Event | None = None
) -> tuple[str, int]:
    """Copy ``source`` to ``dest`` (a new file) and return its sha256 and size."""
    digest = hashlib.sha256()
    size = 0
    try:
        with open(source, "rb") as src, open(dest, "xb") as dst:
            while True:
                if cancel is not None and cancel.is_set():
                    raise _Cancelled
                chunk = src.read(_CHUNK)
                if not chunk:
                    break
                digest.update(chunk)
                dst.write(chunk)
                size += len(chunk)
            dst.flush()
            os.fsync(dst.fileno())
    except OSError as exc:
        raise CatalogError(
            f"cannot copy {source} into the catalog at {dest.parent} ({exc.strerror or exc}); "
            "check the free space and permissions of the catalog home"
        ) from None
    return digest.hexdigest(), size


def file_sha256(path: Path, *, cancel: threading.Event | None = None) -> tuple[str, int]:
    """sha256 and size of a file."""
    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "rb") as stream:
            while True:
                if cancel is not None and cancel.is_set():
                    raise _Cancelled
                chunk = stream.read(_CHUNK)
                if not chunk:
                    break
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return digest.hexdigest(), size


def scan(
    path: Path,
    *,
    limits: Limits = DEFAULT_LIMITS,
    copy_to: Path | None = None,
    hash_file: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ScanResult:
    """Read every batch of ``path`` once: metrics, ids and their entries; copy it meanwhile.

    ``progress`` is called with 1 after each batch entry. With ``copy_to`` the file is
    copied there and hashed by a second thread (``hash_file``: only hashed). The file's
    size and modification time are compared before and after, so an archive that
    changed while it was read is refused.
    """
    try:
        before = path.stat()
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot read ({exc.strerror or exc})") from None
    copier: threading.Thread | None = None
    copied: dict[str, tuple[str, int]] = {}
    failed: list[BaseException] = []
    cancel = threading.Event()

    def run_copy() -> None:
        try:
            if copy_to is not None:
                copied["result"] = copy_and_hash(path, copy_to, cancel=cancel)
            else:
                copied["result"] = file_sha256(path, cancel=cancel)
        except BaseException as exc:  # handed to the main thread
            failed.append(exc)

    try:
        counter = MetricsCounter()
        ids: list[str] = []
        entries: array[int] = array("q")
        with ArchiveReader(path, limits=limits) as reader:
            flavour = reader.flavour
            entries_count = len(reader.entries)
            workers = auto_workers(sum(entry.size for entry in reader.entries))
            batches = iter_batches([reader], work=count_with_ids, workers=workers, lazy=True)
            # Worker processes are forked at the first batch: the copy thread starts after.
            first = next(batches, None)
            if copy_to is not None or hash_file:
                copier = threading.Thread(target=run_copy, name="catalog-copy", daemon=True)
                copier.start()
            for batch in itertools.chain([first] if first is not None else [], batches):
                counter.merge(batch.result)
                ids.extend(batch.input_ids())
                entries.extend([batch.entry.index] * batch.count)
                if progress is not None:
                    progress(1)
    except BaseException:
        cancel.set()
        raise
    finally:
        if copier is not None:
            copier.join()
    if failed:
        raise failed[0]
    result = ScanResult(
        metrics=counter.result(),
        ids=ids,
        entries=entries,
        entries_count=entries_count,
        flavour=flavour,
    )
    if copier is not None:
        sha, size = copied["result"]
        result.sha256, result.size = sha, size
        after = path.stat()
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or (
            size != before.st_size
        ):
            raise ArchiveError(
                f"{path}: the file changed while it was being imported; import it again "
                "once it is complete"
            )
    return result


def index_existing_versions(conn: sqlite3.Connection, home: Path) -> None:
    """Fill the input id index of versions that have none yet (schema upgrade to 2)."""
    rows = conn.execute(
        "SELECT pk, file_name FROM versions WHERE indexed = 0 ORDER BY pk"
    ).fetchall()
    for pk, file_name in rows:
        path = home / file_name
        if not path.is_file():
            log.warning("%s: archive missing; its input index is made by 'versions refresh'", path)
            continue
        try:
            result = scan(path)
        except ToolkitError as exc:
            log.warning("%s: not indexed (%s)", path, exc)
            continue
        conn.executemany(
            "INSERT OR IGNORE INTO input_index (version_pk, input_id, entry) VALUES (?, ?, ?)",
            result.index_rows(pk),
        )
        conn.execute(
            "UPDATE versions SET indexed = 1, inputs_count = ?, entries_count = ? WHERE pk = ?",
            (len(result.ids), result.entries_count, pk),
        )
